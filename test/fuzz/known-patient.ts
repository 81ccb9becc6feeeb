// The fuzz server with one Patient stored under a known id, which mutated updates and conditional headers aim at.
import { startFuzzServer, type FuzzServer } from './harness';
import { KNOWN_PATIENT, VALID_RESOURCES } from './mutations';

export async function startWithKnownPatient(): Promise<FuzzServer> {
  const server = await startFuzzServer();
  const known = await server.send({
    method: 'PUT',
    path: `/fhir/Patient/${KNOWN_PATIENT}`,
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ ...VALID_RESOURCES[0], id: KNOWN_PATIENT }),
  });
  if (known.status !== 201) throw new Error(known.text);
  return server;
}

// Acknowledged writes survive kill -9: the real server runs as a child process, concurrent creates, updates
// and transactions stream in, the process is killed mid-stream, restarted on the same file, and every
// write that got a 2xx must be there with its version; no transaction may be half visible.
import fs from 'node:fs';
import { findFreePort } from '../bench/server-process';
import { tempDir } from '../support/app';
import { HOST, MAIN, startMainServer } from '../support/child-server';
import { processToken } from '../support/process-token';

interface Ack {
  id: string;
  version: number;
  counter: number;
}

let authorization = '';

async function fhir(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/${url}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', authorization },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

const patientWith = (id: string, counter: number) => ({
  resourceType: 'Patient',
  id,
  active: true,
  identifier: [{ system: 'urn:counter', value: String(counter) }],
});

/** One writer: creates its patient, then updates it again and again, recording every acknowledgement. */
async function writer(base: string, id: string, acks: Ack[], stop: () => boolean): Promise<void> {
  for (let counter = 0; !stop(); counter++) {
    try {
      const res = await fhir(base, 'PUT', `Patient/${id}`, patientWith(id, counter));
      if (res.status === 200 || res.status === 201)
        acks.push({ id, version: Number(res.body.meta.versionId), counter });
    } catch {
      return; // the server died under us: that write was never acknowledged
    }
  }
}

/** Transactions of two linked resources that share a marker; both or neither must survive. */
async function transactions(base: string, acked: string[], started: string[], stop: () => boolean): Promise<void> {
  for (let i = 0; !stop(); i++) {
    const marker = `tx-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`;
    started.push(marker);
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:6d3a1c4e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:marker', value: marker }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: marker },
            identifier: [{ system: 'urn:marker', value: marker }],
            subject: { reference: 'urn:uuid:6d3a1c4e-0000-4000-8000-000000000001' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    try {
      const res = await fhir(base, 'POST', '', bundle);
      if (res.status === 200) acked.push(marker);
    } catch {
      return;
    }
  }
}

test('every acknowledged write survives kill -9, and no transaction is half there', async () => {
  expect(fs.existsSync(MAIN)).toBe(true);
  const dataDir = tempDir('hms-durability-');
  const port = await findFreePort(HOST);
  let server = await startMainServer(dataDir, port);
  const base = `http://${HOST}:${port}/fhir`;
  authorization = `Bearer ${await processToken(dataDir, base)}`;
  const acks: Ack[] = [];
  const txAcked: string[] = [];
  const txStarted: string[] = [];
  let stopped = false;
  const stop = () => stopped;
  const work = [
    ...Array.from({ length: 12 }, (_, i) => writer(base, `durable-${i}`, acks, stop)),
    ...Array.from({ length: 4 }, () => transactions(base, txAcked, txStarted, stop)),
  ];
  // A server that stops acknowledging fails here with the counts, not at Jest's timeout without them.
  const deadline = Date.now() + 90_000;
  while (acks.length < 400 || txAcked.length < 40) {
    if (Date.now() > deadline)
      throw new Error(`writes stalled: ${acks.length} writes, ${txAcked.length} bundles acked`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.kill('SIGKILL');
  stopped = true;
  await Promise.all(work);

  server = await startMainServer(dataDir, port);
  try {
    const latest = new Map<string, Ack>();
    for (const ack of acks) if ((latest.get(ack.id)?.version ?? 0) < ack.version) latest.set(ack.id, ack);
    for (const ack of latest.values()) {
      const current = await fhir(base, 'GET', `Patient/${ack.id}`);
      expect(current.status).toBe(200);
      expect(Number(current.body.meta.versionId)).toBeGreaterThanOrEqual(ack.version);
    }
    for (const ack of acks) {
      const version = await fhir(base, 'GET', `Patient/${ack.id}/_history/${ack.version}`);
      expect(version.status).toBe(200);
      expect(version.body.identifier[0].value).toBe(String(ack.counter));
    }
    for (const marker of txStarted) {
      const patients = await fhir(base, 'GET', `Patient?identifier=urn:marker|${marker}&_count=0`);
      const observations = await fhir(base, 'GET', `Observation?identifier=urn:marker|${marker}&_count=0`);
      expect(patients.body.total).toBe(observations.body.total);
      if (txAcked.includes(marker)) expect(patients.body.total).toBe(1);
    }
    // Versions stay contiguous: history of each patient counts 1..current.
    for (const id of latest.keys()) {
      const history = await fhir(base, 'GET', `Patient/${id}/_history?_count=1`);
      const current = await fhir(base, 'GET', `Patient/${id}`);
      expect(history.body.total).toBe(Number(current.body.meta.versionId));
    }
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

// Fuzzing the write interactions with mutated and random bodies: every answer is a 2xx or a 4xx OperationOutcome,
// never a 500 or a hang, and the store changes by exactly what the 2xx answers acknowledge (a refused write
// writes nothing, a refused update leaves the version as it was).
import fc from 'fast-check';
import {
  assertProperty,
  checkAnswer,
  expectCountsMoved,
  parseJson,
  resourceCounts,
  type Answer,
  type Counts,
  type FuzzRequest,
  type FuzzServer,
} from './harness';
import { startWithKnownPatient } from './known-patient';
import { KNOWN_PATIENT, VALID_RESOURCES, brokenJsonBody, mutationsOf, randomJsonBody } from './mutations';

const freshId = fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/);

const FHIR_JSON = 'application/fhir+json';

let server: FuzzServer;
beforeAll(async () => {
  server = await startWithKnownPatient();
});
afterAll(() => server.close());

async function knownVersion(): Promise<string> {
  const answer = await server.send({ method: 'GET', path: `/fhir/Patient/${KNOWN_PATIENT}` });
  return (parseJson(answer.text) as { meta: { versionId: string } }).meta.versionId;
}

/** A write of a mutated resource: a create, an update of the known patient, a create by update, or $validate. */
const mutatedWrite: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc
    .nat({ max: VALID_RESOURCES.length - 1 })
    .chain((i) =>
      mutationsOf(fc.constant(VALID_RESOURCES[i])).map((resource) =>
        writeRequest('POST', `/fhir/${String(VALID_RESOURCES[i].resourceType)}`, resource),
      ),
    ),
  mutationsOf(fc.constant({ ...VALID_RESOURCES[0], id: KNOWN_PATIENT })).map((resource) =>
    writeRequest('PUT', `/fhir/Patient/${KNOWN_PATIENT}`, resource),
  ),
  fc
    .tuple(fc.nat({ max: VALID_RESOURCES.length - 1 }), freshId)
    .chain(([i, id]) =>
      mutationsOf(fc.constant({ ...VALID_RESOURCES[i], id })).map((resource) =>
        writeRequest('PUT', `/fhir/${String(VALID_RESOURCES[i].resourceType)}/${id}`, resource),
      ),
    ),
  fc
    .nat({ max: VALID_RESOURCES.length - 1 })
    .chain((i) =>
      mutationsOf(fc.constant(VALID_RESOURCES[i])).map((resource) =>
        writeRequest('POST', `/fhir/${String(VALID_RESOURCES[i].resourceType)}/$validate`, resource),
      ),
    ),
);

function writeRequest(method: string, path: string, body: unknown): FuzzRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { method, path, headers: { 'Content-Type': FHIR_JSON }, body: text };
}

/** A random or broken body sent where a resource is expected. */
const randomWrite: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom('POST /fhir/Patient', `PUT /fhir/Patient/${KNOWN_PATIENT}`, 'POST /fhir/Observation/$validate'),
    fc.oneof(randomJsonBody, brokenJsonBody),
  )
  .map(([target, body]) => {
    const [method, path] = target.split(' ');
    return writeRequest(method, path, body);
  });

/** What a 2xx write says it did: one resource created of its type, or the known patient's new version. */
function acknowledged(request: FuzzRequest, answer: Answer): { created: Counts; version?: string } {
  if (answer.status < 200 || answer.status >= 300 || request.path.includes('$')) return { created: {} };
  const stored = parseJson(answer.text) as { resourceType?: string; meta?: { versionId?: string } } | undefined;
  if (answer.status === 201) return { created: { [String(stored?.resourceType)]: 1 } };
  return { created: {}, version: stored?.meta?.versionId };
}

/** One case: counts and the known version before, the write, then the same afterwards against its answer. */
async function checkWrite(request: FuzzRequest): Promise<void> {
  const [before, versionBefore] = await Promise.all([resourceCounts(server), knownVersion()]);
  const answer = await server.send(request);
  checkAnswer(request, answer);
  const { created, version } = acknowledged(request, answer);
  const [after, versionAfter] = await Promise.all([resourceCounts(server), knownVersion()]);
  expectCountsMoved(before, after, created, request);
  const expected = request.path.endsWith(KNOWN_PATIENT) && version !== undefined ? version : versionBefore;
  if (versionAfter !== expected) {
    throw new Error(`Patient/${KNOWN_PATIENT} is at version ${versionAfter}, answers say ${expected}: ${answer.text}`);
  }
}

/** Inputs that once failed (or that document a hazard worth pinning): replayed on every run. */
const REGRESSIONS: { name: string; request: FuzzRequest }[] = [
  {
    name: 'a lone surrogate in a string survives storage and search indexing',
    request: {
      method: 'POST',
      path: '/fhir/Patient',
      headers: { 'Content-Type': FHIR_JSON },
      body: '{"resourceType":"Patient","name":[{"family":"\\ud800x"}]}',
    },
  },
  {
    name: 'a 65-level nested extension is refused before validation',
    request: {
      method: 'POST',
      path: '/fhir/Patient',
      headers: { 'Content-Type': FHIR_JSON },
      body: `{"resourceType":"Patient","extension":${'['.repeat(65)}1${']'.repeat(65)}}`,
    },
  },
  {
    name: 'an id of the wrong JSON type on update',
    request: {
      method: 'PUT',
      path: `/fhir/Patient/${KNOWN_PATIENT}`,
      headers: { 'Content-Type': FHIR_JSON },
      body: `{"resourceType":"Patient","id":["${KNOWN_PATIENT}"]}`,
    },
  },
  {
    name: 'a number too large for a double (1e999 parses to Infinity)',
    request: {
      method: 'POST',
      path: '/fhir/Observation',
      headers: { 'Content-Type': FHIR_JSON },
      body: '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e999}}',
    },
  },
  {
    name: 'an integer beyond 2^53',
    request: {
      method: 'POST',
      path: '/fhir/Patient',
      headers: { 'Content-Type': FHIR_JSON },
      body: '{"resourceType":"Patient","multipleBirthInteger":123456789012345678901234567890}',
    },
  },
];

test.each(REGRESSIONS)('regression: $name', async ({ request }) => {
  await checkWrite(request);
});

test('mutated valid resources never cause a 500, a hang or a partial write', async () => {
  await assertProperty('mutated resources', fc.asyncProperty(mutatedWrite, checkWrite), 200);
});

test('random JSON and broken JSON bodies are refused or accepted cleanly', async () => {
  await assertProperty('random bodies', fc.asyncProperty(randomWrite, checkWrite), 100);
});

// Fuzzing search and history with hostile query strings: every answer is a 2xx Bundle or a 4xx OperationOutcome,
// never a 500 or a hang; searches never write.
import fc from 'fast-check';
import {
  assertProperty,
  checkAnswer,
  expectCountsMoved,
  parseJson,
  resourceCounts,
  startFuzzServer,
  type FuzzRequest,
  type FuzzServer,
} from './harness';
import { KNOWN_PATIENT, VALID_RESOURCES } from './mutations';
import { hostileQuery, searchRequest } from './queries';

let server: FuzzServer;
beforeAll(async () => {
  server = await startFuzzServer();
  // A little data, so that matches, chains, includes and sorting have something to work on.
  const entries = VALID_RESOURCES.map((resource, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`,
    resource: i === 0 ? { ...resource, id: KNOWN_PATIENT } : resource,
    request:
      i === 0 ? { method: 'PUT', url: `Patient/${KNOWN_PATIENT}` } : { method: 'POST', url: resource.resourceType },
  }));
  const seeded = await server.send({
    method: 'POST',
    path: '/fhir',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
  });
  if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.text}`);
});
afterAll(() => server.close());

/** A 200 search answer is a Bundle; nothing any search does changes the counts. */
async function checkSearch(request: FuzzRequest): Promise<void> {
  const before = await resourceCounts(server);
  const answer = await server.send(request);
  checkAnswer(request, answer);
  if (answer.status === 200 && parseJson(answer.text)?.resourceType !== 'Bundle') {
    throw new Error(`a 200 search answer that is no Bundle: ${answer.text.slice(0, 500)}`);
  }
  expectCountsMoved(before, await resourceCounts(server), {}, request);
}

/** Inputs that once failed (or that document a hazard worth pinning): replayed on every run. */
const REGRESSIONS: FuzzRequest[] = [
  { method: 'GET', path: '/fhir/Patient?name=%E0%A4%A' },
  { method: 'GET', path: '/fhir/Patient?%=x' },
  { method: 'GET', path: '/fhir/Observation?subject.name.subject.name.subject.name=x' },
  { method: 'GET', path: '/fhir/Patient?_count=99999999999' },
  { method: 'GET', path: '/fhir/Patient?_cursor=%00' },
  { method: 'GET', path: `/fhir/Patient?name=${'%'.repeat(9000)}` },
  { method: 'GET', path: '/fhir/Observation?value-quantity=gt1e400' },
  { method: 'GET', path: '/fhir/Patient?_has:Observation:subject:_has:Observation:subject:code=x' },
];

test.each(REGRESSIONS.map((request) => [request.path.slice(0, 80), request] as const))('regression: %s', (_, request) =>
  checkSearch(request),
);

test('hostile search queries never cause a 500, a hang or a write', async () => {
  await assertProperty('search queries', fc.asyncProperty(searchRequest, checkSearch), 300);
});

test('hostile history queries never cause a 500 or a hang', async () => {
  const historyPath = fc.constantFrom(
    '/fhir/_history',
    '/fhir/Patient/_history',
    `/fhir/Patient/${KNOWN_PATIENT}/_history`,
  );
  await assertProperty(
    'history queries',
    fc.asyncProperty(historyPath, hostileQuery, async (path, query) => {
      const request = { method: 'GET', path: `${path}?${query}` };
      checkAnswer(request, await server.send(request));
    }),
    100,
  );
});

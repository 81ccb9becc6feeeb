// Fuzzing batch and transaction Bundles: random entries (methods, urls, conditional headers), references between
// entries, duplicate and odd fullUrls, mutated resources. A transaction is all or nothing: a 200 creates exactly
// its 201 entries, a 4xx creates nothing; a batch creates exactly its 201 entries; no entry is ever a 5xx.
import fc from 'fast-check';
import {
  assertProperty,
  checkAnswer,
  checkBundleEntries,
  createdByBundle,
  expectCountsMoved,
  resourceCounts,
  type FuzzRequest,
  type FuzzServer,
} from './harness';
import { startWithKnownPatient } from './known-patient';
import { KNOWN_PATIENT, VALID_RESOURCES, mutatedResource } from './mutations';

let server: FuzzServer;
beforeAll(async () => {
  server = await startWithKnownPatient();
});
afterAll(() => server.close());

/** A small pool, so that duplicates and references between entries are common. */
const FULL_URLS = [
  'urn:uuid:6d3a1c4e-0000-4000-8000-000000000001',
  'urn:uuid:6d3a1c4e-0000-4000-8000-000000000002',
  'urn:uuid:not-a-uuid',
  'urn:oid:1.2.3',
  'http://localhost:8080/fhir/Patient/fuzz-known',
  'http://elsewhere.example/fhir/Patient/1',
  'Patient/fuzz-known',
  '',
];

const fullUrl = fc.option(fc.constantFrom(...FULL_URLS), { nil: undefined });

const entryUrl = fc.oneof(
  fc.constantFrom(
    'Patient',
    'Observation',
    'Encounter',
    `Patient/${KNOWN_PATIENT}`,
    'Patient/fuzz-absent',
    'Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|12345',
    'Patient?name=%zz',
    'Observation?subject=Patient/fuzz-known',
    'Patient/fuzz-known/_history/1',
    'Patient/$validate',
    '/Patient',
    'http://localhost:8080/fhir/Patient',
    '',
    '?',
    'metadata',
    'Nope/1',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
);

const method = fc.constantFrom('POST', 'PUT', 'GET', 'PATCH', 'DELETE', 'HEAD', 'post', 'FOO', undefined);

/** A resource that sometimes refers to another entry's fullUrl. */
const entryResource = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...VALID_RESOURCES),
      mutatedResource,
      fc.constant({ resourceType: 'Patient', id: KNOWN_PATIENT, active: false }),
      fc.constant(undefined),
    ),
    fc.option(fc.constantFrom(...FULL_URLS, 'urn:uuid:6d3a1c4e-0000-4000-8000-00000000dead'), { nil: undefined }),
  )
  .map(([resource, reference]) => {
    if (resource === undefined || reference === undefined) return resource;
    if (resource.resourceType === 'Observation' || resource.resourceType === 'Encounter') {
      return { ...resource, subject: { reference } };
    }
    return { ...resource, managingOrganization: { reference } };
  });

const entry = fc
  .record(
    {
      fullUrl,
      resource: entryResource,
      method,
      url: entryUrl,
      ifMatch: fc.constantFrom('W/"1"', 'W/"2"', '"x"', 'W/"-1"'),
      ifNoneExist: fc.constantFrom('identifier=urn:oid:1.2.36.146.595.217.0.1|12345', '_id=fuzz-known', 'x=%'),
      ifNoneMatch: fc.constantFrom('*', 'W/"1"'),
      shape: fc.constantFrom('normal', 'normal', 'normal', 'no-request', 'request-array', 'entry-null'),
    },
    { requiredKeys: ['method', 'url', 'shape'] },
  )
  .map(({ fullUrl: url, resource, method: m, shape, ...request }) => {
    if (shape === 'entry-null') return null;
    const out: Record<string, unknown> = {};
    if (url !== undefined) out.fullUrl = url;
    if (resource !== undefined) out.resource = resource;
    // A DELETE only ever names a resource that never exists, so the counts stay a complete account of writes.
    const req = { method: m, ...request, ...(m === 'DELETE' ? { url: 'Patient/fuzz-never' } : {}) };
    if (shape === 'normal') out.request = req;
    if (shape === 'request-array') out.request = [req];
    return out;
  });

const bundle = fc
  .record({
    type: fc.constantFrom('transaction', 'transaction', 'batch', 'batch', 'collection', 'searchset', undefined),
    entry: fc.oneof(
      { weight: 8, arbitrary: fc.array(entry, { maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(undefined, null, {}, 'x', []) },
    ),
  })
  .map(({ type, entry: entries }) => ({ resourceType: 'Bundle', type, entry: entries }));

function bundleRequest(body: unknown): FuzzRequest {
  return {
    method: 'POST',
    path: '/fhir',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(body),
  };
}

async function checkBundle(body: unknown): Promise<void> {
  const request = bundleRequest(body);
  const before = await resourceCounts(server);
  const answer = await server.send(request);
  checkAnswer(request, answer);
  checkBundleEntries(request, answer);
  expectCountsMoved(before, await resourceCounts(server), createdByBundle(answer), request);
}

/** Inputs that once failed (or that document a hazard worth pinning): replayed on every run. */
const REGRESSIONS: { name: string; bundle: unknown }[] = [
  {
    name: 'duplicate fullUrls in a transaction',
    bundle: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [0, 1].map(() => ({
        fullUrl: FULL_URLS[0],
        resource: VALID_RESOURCES[0],
        request: { method: 'POST', url: 'Patient' },
      })),
    },
  },
  {
    name: 'a transaction whose second entry fails leaves the first unwritten',
    bundle: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: VALID_RESOURCES[0], request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 42 }, request: { method: 'POST', url: 'Patient' } },
      ],
    },
  },
  {
    name: 'a null entry in a batch',
    bundle: { resourceType: 'Bundle', type: 'batch', entry: [null, { request: { method: 'GET', url: 'Patient' } }] },
  },
];

test.each(REGRESSIONS)('regression: $name', ({ bundle: body }) => checkBundle(body));

test('random batch and transaction Bundles never cause a 500, a hang or a partial write', async () => {
  await assertProperty('bundles', fc.asyncProperty(bundle, checkBundle), 250);
});

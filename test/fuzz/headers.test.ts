// Fuzzing the HTTP headers the FHIR edge reads (Content-Type, Content-Encoding, Accept, If-Match, If-None-Match,
// If-None-Exist, If-Modified-Since, Prefer, Authorization, X-Request-Id) and huge headers: every answer is a
// documented shape, never a 500 or a hang, and a write is in the store exactly when it was acknowledged.
import fc from 'fast-check';
import {
  assertProperty,
  checkAnswer,
  expectCountsMoved,
  parseJson,
  resourceCounts,
  type FuzzRequest,
  type FuzzServer,
} from './harness';
import { startWithKnownPatient } from './known-patient';
import { KNOWN_PATIENT, VALID_RESOURCES } from './mutations';

let server: FuzzServer;
beforeAll(async () => {
  server = await startWithKnownPatient();
});
afterAll(() => server.close());

/** Header values Node's client will send: tab, printable ASCII and Latin-1 (no CR, LF or NUL). */
const headerText = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  fc.constantFrom('', ' ', '\t', ';', ',', '"', '*', 'null', 'undefined'),
);

const huge = fc
  .tuple(fc.constantFrom('a', ',', ';', 'W/"1",'), fc.integer({ min: 1_000, max: 20_000 }))
  .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));

const contentType = fc.oneof(
  fc.constantFrom(
    'application/fhir+json',
    'application/json',
    'application/fhir+json; charset=utf-8',
    'application/fhir+json; charset=utf-16',
    'application/fhir+json; fhirVersion=3.0',
    'application/fhir+xml',
    'application/json-patch+json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'text/plain',
    'APPLICATION/FHIR+JSON',
    'application/evil+json',
    '*/*',
  ),
  headerText,
);

const accept = fc.oneof(
  fc.constantFrom(
    'application/fhir+json',
    'application/json',
    'application/fhir+xml',
    'text/html',
    '*/*;q=0',
    'application/*',
    'application/fhir+json;q=0.1, text/html',
    'application/json+fhir',
    'image/png',
  ),
  headerText,
);

const etagLike = fc.oneof(
  fc.constantFrom('W/"1"', '"1"', 'W/"0"', 'W/"-1"', 'W/"99999999999999999999"', 'W/"1.5"', '*', 'W/', '"', 'W/""'),
  fc.integer().map((n) => `W/"${n}"`),
  headerText,
);

const prefer = fc.oneof(
  fc.constantFrom(
    'return=minimal',
    'return=representation',
    'return=OperationOutcome',
    'return="minimal"',
    'handling=strict',
    'handling=lenient',
    'respond-async',
    'return=minimal, handling=strict; foo=bar',
    '=',
    ';;;,,,',
  ),
  headerText,
);

const optionalHeaders = fc.record(
  {
    'Content-Type': contentType,
    'Content-Encoding': fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'GZIP', 'x-evil'), headerText),
    Accept: accept,
    'Accept-Encoding': fc.constantFrom('gzip', '*', 'gzip;q=0', 'br'),
    'If-Match': etagLike,
    'If-None-Match': etagLike,
    'If-None-Exist': fc.oneof(
      fc.constantFrom('identifier=urn:oid:1.2.36.146.595.217.0.1|12345', 'Patient?identifier=x', '_id=fuzz-known', '%'),
      headerText,
    ),
    'If-Modified-Since': fc.oneof(fc.constantFrom('Mon, 07 Dec 2026 10:00:00 GMT', 'yesterday', '0', ''), headerText),
    Prefer: prefer,
    'X-Request-Id': fc.oneof(headerText, huge),
    'X-Huge': huge,
  },
  { requiredKeys: [] },
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
const target = fc.constantFrom('/fhir/Patient', `/fhir/Patient/${KNOWN_PATIENT}`, '/fhir/Patient/fuzz-absent', '/fhir');
const body = fc.option(
  fc.constantFrom(
    JSON.stringify(VALID_RESOURCES[0]),
    JSON.stringify({ ...VALID_RESOURCES[0], id: KNOWN_PATIENT }),
    JSON.stringify([{ op: 'replace', path: '/active', value: false }]),
    JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [] }),
    'name=x',
    '\u001f\u008b not gzip',
  ),
  { nil: undefined },
);
/** Sometimes the caller sends a garbage token instead of the real one. */
const authorization = fc.option(
  fc.oneof(fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'Bearer x.y.z'), headerText),
  {
    freq: 8,
    nil: undefined,
  },
);

interface HeaderCase {
  request: FuzzRequest;
}

const headerCase: fc.Arbitrary<HeaderCase> = fc
  .tuple(method, target, optionalHeaders, body, authorization)
  .map(([m, path, headers, payload, auth]) => {
    const all: Record<string, string> = { ...headers };
    if (auth !== undefined) all.Authorization = auth;
    const request: FuzzRequest = { method: m, path, headers: all, anonymous: auth !== undefined };
    if (payload !== undefined && m !== 'GET' && m !== 'HEAD') request.body = payload;
    return { request };
  });

/** Writes the answer acknowledges: a 201 creates one Patient (or, for a bundle, its 201 entries). */
function createdBy(request: FuzzRequest, status: number, text: string): Record<string, number> {
  if (status === 201) return { Patient: 1 };
  if (status !== 200 || request.path !== '/fhir') return {};
  const bundle = parseJson(text) as { entry?: { response?: { status?: string } }[] } | undefined;
  return { Patient: (bundle?.entry ?? []).filter((e) => e.response?.status?.startsWith('201')).length };
}

async function checkHeaders({ request }: HeaderCase): Promise<void> {
  const before = await resourceCounts(server);
  const answer = await server.send(request);
  if (request.method === 'HEAD') {
    if (answer.status >= 500) throw new Error(`HEAD answered ${answer.status}`);
  } else {
    checkAnswer(request, answer);
  }
  // DELETE of the known patient is the one write that lowers a count: put it back for the next case.
  if (request.method === 'DELETE' && answer.status < 300 && request.path.endsWith(KNOWN_PATIENT)) {
    before.Patient -= 1;
  }
  expectCountsMoved(before, await resourceCounts(server), createdBy(request, answer.status, answer.text), request);
  if (request.method === 'DELETE' && answer.status < 300) await restoreKnownPatient();
}

async function restoreKnownPatient(): Promise<void> {
  await server.send({
    method: 'PUT',
    path: `/fhir/Patient/${KNOWN_PATIENT}`,
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ ...VALID_RESOURCES[0], id: KNOWN_PATIENT }),
  });
}

/** Inputs that once failed (or that document a hazard worth pinning): replayed on every run. */
const REGRESSIONS: HeaderCase[] = [
  { request: { method: 'GET', path: '/fhir/Patient', headers: { 'X-Huge': 'a'.repeat(20_000) } } },
  {
    request: {
      method: 'POST',
      path: '/fhir/Patient',
      headers: { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'gzip' },
      body: JSON.stringify(VALID_RESOURCES[0]),
    },
  },
  { request: { method: 'GET', path: `/fhir/Patient/${KNOWN_PATIENT}`, headers: { 'If-None-Match': 'W/"1"' } } },
  { request: { method: 'GET', path: '/fhir/Patient', headers: { 'X-Request-Id': '\u00ff\u00fe' } } },
];

test.each(REGRESSIONS)('regression: $request.method $request.path', checkHeaders);

test('hostile headers never cause a 500, a hang or an unacknowledged write', async () => {
  await assertProperty('headers', fc.asyncProperty(headerCase, checkHeaders), 300);
});

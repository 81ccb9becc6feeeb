// Bulk Data $export kick-off validation (the bdt kick-off checks): the Accept and Prefer headers, the three
// `_outputFormat` spellings, `_since`, `_type`, `_typeFilter`, `_elements`, `patient` (POST only, not at system
// level), `includeAssociatedData` and unknown parameters under `handling=lenient`; every refusal a 4xx with
// an OperationOutcome, every acceptance a 202 with an absolute Content-Location.
import { BASE_URL, FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';
import { BULK_HEADERS } from './export-support';

let t: TestApp;
beforeAll(async () => {
  // Kick-offs here come quickly one after the other from one client: no per-client limit gets in the way.
  t = await startTestApp({ services: { export: { maxConcurrent: 1000 } } });
});
afterAll(() => t.close());

const LEVELS = ['/fhir/$export', '/fhir/Patient/$export', '/fhir/Group/g1/$export'];

beforeAll(async () => {
  const { body } = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
  const group = {
    resourceType: 'Group',
    id: 'g1',
    type: 'person',
    actual: true,
    member: [{ entity: { reference: `Patient/${body.id}` } }],
  };
  expect((await t.api().put('/fhir/Group/g1').set('Content-Type', FHIR_JSON).send(group)).status).toBe(201);
});

const kick = (path: string, headers: Record<string, string> = BULK_HEADERS) => t.api().get(path).set(headers);

function expectOutcome(res: { status: number; body: { resourceType?: string } }, status: number) {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
}

test.each(LEVELS)('GET %s with the Bulk Data headers is a 202 with an absolute Content-Location', async (path) => {
  const res = await kick(path);
  expect(res.status).toBe(202);
  expect(res.headers['content-location']).toMatch(
    new RegExp(`^${BASE_URL.replace(/[$]/g, '\\$')}/\\$export-status/[^/]+$`),
  );
  expect(res.body.resourceType).toBe('OperationOutcome');
});

test.each(LEVELS)('%s refuses a kick-off without Accept or without Prefer: respond-async', async (path) => {
  expectOutcome(await kick(path, { Prefer: 'respond-async' }), 400);
  expectOutcome(await kick(path, { Accept: FHIR_JSON }), 400);
  expectOutcome(await kick(path, { Accept: FHIR_JSON, Prefer: 'return=minimal' }), 400);
});

test.each(['application/xml', 'text/html'])('an Accept of %s is a 406', async (accept) => {
  expectOutcome(await kick('/fhir/$export', { Accept: accept, Prefer: 'respond-async' }), 406);
});

test('Prefer is parsed as a list: respond-async with handling=lenient is accepted', async () => {
  const res = await kick('/fhir/$export?_type=Patient', {
    Accept: FHIR_JSON,
    Prefer: 'respond-async, handling=lenient',
  });
  expect(res.status).toBe(202);
});

test.each(['application/fhir+ndjson', 'application/ndjson', 'ndjson'])(
  '_outputFormat=%s is accepted',
  async (format) => {
    expect((await kick(`/fhir/$export?_type=Patient&_outputFormat=${encodeURIComponent(format)}`)).status).toBe(202);
  },
);

test.each(['application/xml', 'text/html', 'x-custom'])('_outputFormat=%s is a 400', async (format) => {
  expectOutcome(await kick(`/fhir/Patient/$export?_outputFormat=${encodeURIComponent(format)}`), 400);
});

test.each([
  ['an invalid _since', '_since=yesterday'],
  ['a _since in the future', `_since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`],
  ['an unknown _type', '_type=Patient,Nonsense'],
  ['a _typeFilter that is not Type?query', '_typeFilter=status%3Dfinal'],
  ['a _typeFilter with an unknown parameter', `_typeFilter=${encodeURIComponent('Observation?nonsense=1')}`],
  ['a _typeFilter with _include', `_typeFilter=${encodeURIComponent('Observation?_include=Observation:subject')}`],
  ['a bad _elements', '_elements=Patient.name.given'],
  ['patient in a GET', 'patient=Patient/1'],
  ['an unknown parameter', 'nonsense=1'],
  ['includeAssociatedData without lenient handling', 'includeAssociatedData=LatestProvenanceResources'],
])('%s is a 400 at every level', async (_, query) => {
  for (const path of LEVELS) expectOutcome(await kick(`${path}?${query}`), 400);
});

test('includeAssociatedData is refused as not supported, naming the parameter and the lenient way round', async () => {
  const res = await kick('/fhir/$export?includeAssociatedData=LatestProvenanceResources');
  expectOutcome(res, 400);
  expect(res.body.issue[0]).toMatchObject({ code: 'not-supported', expression: ['includeAssociatedData'] });
  expect(res.body.issue[0].diagnostics).toMatch(/LatestProvenanceResources is not supported.*handling=lenient/);
});

test('unknown parameters and includeAssociatedData are accepted under handling=lenient (no 5xx)', async () => {
  const headers = { Accept: FHIR_JSON, Prefer: 'respond-async,handling=lenient' };
  for (const path of LEVELS) {
    expect((await kick(`${path}?includeAssociatedData=LatestProvenanceResources&nonsense=1`, headers)).status).toBe(
      202,
    );
  }
});

test('repeated _type parameters merge; a type outside the Patient compartment is a 400 at patient level', async () => {
  expect((await kick('/fhir/$export?_type=Patient&_type=Organization')).status).toBe(202);
  expectOutcome(await kick('/fhir/Patient/$export?_type=Organization'), 400);
});

test('patient is refused at system level and accepted by POST at Patient and Group level', async () => {
  const id = (await t.api().get('/fhir/Group/g1')).body.member[0].entity.reference as string;
  const body = { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: id } }] };
  const post = (path: string, sent: object) =>
    t.api().post(path).set(BULK_HEADERS).set('Content-Type', FHIR_JSON).send(sent);
  expectOutcome(await post('/fhir/$export', body), 400);
  expect((await post('/fhir/Patient/$export', body)).status).toBe(202);
  expect((await post('/fhir/Group/g1/$export', body)).status).toBe(202);
  const stranger = {
    resourceType: 'Parameters',
    parameter: [{ name: 'patient', valueReference: { reference: 'Patient/nobody' } }],
  };
  expectOutcome(await post('/fhir/Group/g1/$export', stranger), 400);
  expectOutcome(await post('/fhir/Patient/$export', stranger), 404);
  expectOutcome(await post('/fhir/Patient/$export', { resourceType: 'Patient' }), 400);
});

test('an unknown Group is a 404; Group/$export without an id and $export on other types are 4xx', async () => {
  expectOutcome(await kick('/fhir/Group/nope/$export'), 404);
  expectOutcome(await kick('/fhir/Group/$export'), 400);
  expectOutcome(await kick('/fhir/Observation/$export'), 404);
});

test('a kick-off without a token is a 401', async () => {
  const res = await t.anonymous().get('/fhir/$export').set(BULK_HEADERS);
  expectOutcome(res, 401);
});

test('$export inside a batch Bundle is refused with a 400 entry', async () => {
  const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: '$export' } }] };
  const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
  expect(res.status).toBe(200);
  expect(res.body.entry[0].response.status).toMatch(/^400/);
});

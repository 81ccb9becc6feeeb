// _summary (true, text, data, count, false) and _elements at the REST level: exactly which elements are kept,
// the SUBSETTED tag, the count-only bundle, and shaping of included resources.
import { FHIR_JSON, observation, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
let patientId = '';
let observationId = '';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const TEXT = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Anna Smith</div>' };

const BIRTH_EXTENSION = { extension: [{ url: 'http://example.org/estimated', valueBoolean: true }] };

type Resource = Record<string, unknown> & { meta?: { tag?: unknown[] } };
type Bundle = { total?: number; entry?: { resource: Resource; search: { mode: string } }[] };

async function get(url: string): Promise<Bundle> {
  const res = await t.api().get(url);
  expect(res.status).toBe(200);
  return res.body as Bundle;
}

async function first(url: string): Promise<Resource> {
  return (await get(url)).entry?.[0].resource as Resource;
}

const keys = (r: Resource) => Object.keys(r).sort();

beforeAll(async () => {
  t = await startTestApp();
  const p = await t
    .api()
    .post('/fhir/Patient')
    .set('Content-Type', FHIR_JSON)
    .send(patient({ text: TEXT, maritalStatus: { text: 'Married' }, _birthDate: BIRTH_EXTENSION, active: true }));
  expect(p.status).toBe(201);
  patientId = p.body.id;
  const o = await t
    .api()
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send(observation(`Patient/${patientId}`, { text: TEXT, note: [{ text: 'after exercise' }] }));
  expect(o.status).toBe(201);
  observationId = o.body.id;
});
afterAll(() => t.close());

test('_summary=true keeps the summary elements and tags the resource SUBSETTED', async () => {
  const r = await first(`/fhir/Patient?_id=${patientId}&_summary=true`);
  expect(keys(r)).toEqual([
    '_birthDate',
    'active',
    'birthDate',
    'gender',
    'id',
    'identifier',
    'meta',
    'name',
    'resourceType',
  ]);
  expect(r.meta?.tag).toEqual([SUBSETTED]);
  const o = await first(`/fhir/Observation?_id=${observationId}&_summary=true`);
  expect(keys(o)).toEqual([
    'code',
    'effectiveDateTime',
    'id',
    'meta',
    'resourceType',
    'status',
    'subject',
    'valueQuantity',
  ]);
});

test('_summary=text keeps text, id, meta and the mandatory elements', async () => {
  const r = await first(`/fhir/Patient?_id=${patientId}&_summary=text`);
  expect(keys(r)).toEqual(['id', 'meta', 'resourceType', 'text']);
  expect(r.text).toEqual(TEXT);
  const o = await first(`/fhir/Observation?_id=${observationId}&_summary=text`);
  expect(keys(o)).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'text']);
  expect(o.meta?.tag).toEqual([SUBSETTED]);
});

test('_summary=data removes only the text', async () => {
  const r = await first(`/fhir/Patient?_id=${patientId}&_summary=data`);
  expect(r.text).toBeUndefined();
  expect(r.maritalStatus).toEqual({ text: 'Married' });
  expect(r._birthDate).toEqual(BIRTH_EXTENSION);
  expect(r.meta?.tag).toEqual([SUBSETTED]);
});

test('_summary=false returns the whole resource untagged', async () => {
  const r = await first(`/fhir/Patient?_id=${patientId}&_summary=false`);
  expect(r.text).toEqual(TEXT);
  expect(r.meta?.tag).toBeUndefined();
});

test('_summary=count returns the total and no entries', async () => {
  const b = await get('/fhir/Observation?_summary=count');
  expect(b.total).toBe(1);
  expect(b.entry).toBeUndefined();
  const none = await get('/fhir/Observation?_summary=count&code=none');
  expect(none.total).toBe(0);
});

test('_elements keeps the named elements, choice elements by their base name, and the mandatory ones', async () => {
  const r = await first(`/fhir/Patient?_id=${patientId}&_elements=name,birthDate`);
  expect(keys(r)).toEqual(['_birthDate', 'birthDate', 'id', 'meta', 'name', 'resourceType']);
  expect(r.meta?.tag).toEqual([SUBSETTED]);
  const o = await first(`/fhir/Observation?_id=${observationId}&_elements=value,note`);
  expect(keys(o)).toEqual(['code', 'id', 'meta', 'note', 'resourceType', 'status', 'valueQuantity']);
});

test('shaping applies to included resources too', async () => {
  const b = await get(`/fhir/Observation?_id=${observationId}&_include=Observation:subject&_elements=gender,status`);
  expect(b.entry?.map((e) => e.search.mode)).toEqual(['match', 'include']);
  expect(keys(b.entry?.[1].resource as Resource)).toEqual(['gender', 'id', 'meta', 'resourceType']);
  expect(b.entry?.[1].resource.meta?.tag).toEqual([SUBSETTED]);
});

test('malformed _summary and _elements are a 400', async () => {
  expect((await t.api().get('/fhir/Patient?_summary=maybe')).status).toBe(400);
  expect((await t.api().get('/fhir/Patient?_elements=name,')).status).toBe(400);
  expect((await t.api().get('/fhir/Patient?_elements=na-me')).status).toBe(400);
});

// Composite search (`code-value-quantity`, `component-code-value-quantity`): `$`-separated components, each
// parsed by its own type, all matching within one repetition (the Observation, or one of its components).
import { FHIR_JSON, observation, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;

const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const mmHg = (value: number) => ({ value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });

const bloodPressure = (id: string, systolic: number, diastolic: number) => ({
  ...observation('Patient/p1'),
  id,
  code: loinc('85354-9'),
  valueQuantity: undefined,
  component: [
    { code: loinc('8480-6'), valueQuantity: mmHg(systolic) },
    { code: loinc('8462-4'), valueQuantity: mmHg(diastolic) },
  ],
});

beforeAll(async () => {
  t = await startTestApp();
  for (const resource of [
    bloodPressure('bp-normal', 120, 80),
    bloodPressure('bp-high', 160, 100),
    { ...observation('Patient/p1'), id: 'hr' },
  ]) {
    const res = await t.api().put(`/fhir/Observation/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    expect([200, 201]).toContain(res.status);
  }
});
afterAll(() => t.close());

type Bundle = { entry?: { resource: { id: string }; search: { mode: string } }[] };

const get = (query: string, strict = false) => {
  const req = t.api().get(`/fhir/Observation?${query}`);
  if (strict) req.set('Prefer', 'handling=strict');
  return req;
};
const found = async (query: string) => {
  const res = await get(query);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => e.resource.id)
    .sort();
};

test('code-value-quantity on the Observation itself', async () => {
  expect(await found('code-value-quantity=http://loinc.org|8867-4$gt70')).toEqual(['hr']);
  expect(await found('code-value-quantity=8867-4$72|http://unitsofmeasure.org|/min')).toEqual(['hr']);
  expect(await found('code-value-quantity=8867-4$lt70')).toEqual([]);
  expect(await found('code-value-quantity=8480-6$gt100')).toEqual([]);
});

test('component-code-value-quantity matches values of one and the same component', async () => {
  expect(await found('component-code-value-quantity=http://loinc.org|8480-6$gt100')).toEqual(['bp-high', 'bp-normal']);
  expect(await found('component-code-value-quantity=8480-6$gt140')).toEqual(['bp-high']);
  expect(await found('component-code-value-quantity=8480-6$80')).toEqual([]);
  expect(await found('component-code-value-quantity=8462-4$80')).toEqual(['bp-normal']);
  expect(await found('component-code-value-quantity=8462-4$80|http://unitsofmeasure.org|mm[Hg]')).toEqual([
    'bp-normal',
  ]);
  expect(await found('component-code-value-quantity=8462-4$80|http://unitsofmeasure.org|kg')).toEqual([]);
});

test('OR over values, AND over parameters', async () => {
  expect(await found('component-code-value-quantity=8480-6$160,8462-4$80')).toEqual(['bp-high', 'bp-normal']);
  expect(await found('component-code-value-quantity=8480-6$ge120&component-code-value-quantity=8462-4$lt90')).toEqual([
    'bp-normal',
  ]);
  expect(await found('component-code-value-quantity=8480-6$ge120&code-value-quantity=8867-4$72')).toEqual([]);
});

test('a malformed composite value is a 400', async () => {
  for (const query of [
    'component-code-value-quantity=8480-6',
    'component-code-value-quantity=8480-6$abc',
    'component-code-value-quantity=8480-6$1$2',
    'component-code-value-quantity=$100',
  ]) {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  }
});

test('modifiers on a composite, :missing included, are a 400 in both modes (R4 search.html#modifiers)', async () => {
  for (const strict of [false, true]) {
    expect((await get('component-code-value-quantity:missing=true', strict)).status).toBe(400);
    expect((await get('component-code-value-quantity:exact=8480-6$120', strict)).status).toBe(400);
  }
});

describe('combo- parameters, read from the entries of their members (no entries of their own)', () => {
  test('token: the Observation’s code or a component’s, with :not and :missing', async () => {
    expect(await found('combo-code=http://loinc.org|8480-6')).toEqual(['bp-high', 'bp-normal']);
    expect(await found('combo-code=85354-9')).toEqual(['bp-high', 'bp-normal']);
    expect(await found('combo-code=8867-4,8462-4')).toEqual(['bp-high', 'bp-normal', 'hr']);
    expect(await found('combo-code:not=8480-6')).toEqual(['hr']);
    expect(await found('combo-code:missing=false')).toEqual(['bp-high', 'bp-normal', 'hr']);
    expect(await found('combo-code:missing=true')).toEqual([]);
    expect(await found('combo-value-concept:missing=true')).toEqual(['bp-high', 'bp-normal', 'hr']);
  });

  test('quantity and sort over values of the Observation and its components', async () => {
    expect(await found('combo-value-quantity=gt150')).toEqual(['bp-high']);
    expect(await found('combo-value-quantity=72|http://unitsofmeasure.org|/min')).toEqual(['hr']);
    const sorted = await get('_sort=-combo-value-quantity&combo-value-quantity=gt0');
    expect(((sorted.body as Bundle).entry ?? []).map((e) => e.resource.id)).toEqual(['bp-high', 'bp-normal', 'hr']);
  });
});

// Hostile and malformed input: every case is a precise 4xx OperationOutcome, nothing is stored, no 500.
import { FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ maxBodyBytes: 64 * 1024 });
});
afterAll(() => t.close());

async function patientCount(): Promise<number> {
  return (await t.api().get('/fhir/Patient?_count=0')).body.total as number;
}

function post(body: string, contentType = FHIR_JSON) {
  return t.api().post('/fhir/Patient').set('Content-Type', contentType).send(body);
}

function expectOutcome(
  res: { status: number; body: { resourceType?: string; issue?: { severity: string }[] } },
  status: number,
) {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue?.[0].severity).toBe('error');
}

test('malformed JSON is 400', async () => {
  const res = await post('{"resourceType": "Patient", ');
  expectOutcome(res, 400);
  expect(res.body.issue[0].diagnostics).toMatch(/not valid JSON/);
});

test('a body that is not a resource is 400', async () => {
  expectOutcome(await post('[1,2,3]'), 400);
  expectOutcome(await post('"text"'), 400);
  expectOutcome(await post('{"name": "no type"}'), 400);
});

test('an unsupported Content-Type is 415', async () => {
  expectOutcome(await post('<Patient/>', 'application/fhir+xml'), 415);
});

test('bodies over the limit are 413', async () => {
  const big = JSON.stringify(
    patient({
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'a'.repeat(70 * 1024)}</div>` },
    }),
  );
  expectOutcome(await post(big), 413);
});

test('deeply nested JSON is 400', async () => {
  let nested = '1';
  for (let i = 0; i < 200; i++) nested = `{"a":${nested}}`;
  const res = await post(`{"resourceType":"Patient","extension":[${nested}]}`);
  expectOutcome(res, 400);
  expect(res.body.issue[0].diagnostics).toMatch(/nested deeper/);
});

test.each([
  ['$where', '{"resourceType":"Patient","$where":"1"}'],
  ['a dotted key', '{"resourceType":"Patient","name.family":"x"}'],
  ['__proto__', '{"resourceType":"Patient","__proto__":{"polluted":true}}'],
  ['constructor', '{"resourceType":"Patient","name":[{"constructor":{"x":1}}]}'],
])('a key like %s is 400', async (_label, body) => {
  const res = await post(body);
  expectOutcome(res, 400);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('invalid resources list every issue with its location', async () => {
  const res = await post(
    JSON.stringify({
      resourceType: 'Patient',
      gender: 'bogus',
      birthDate: '1980-13-45',
      foo: 1,
      name: [{ given: 'Anna' }],
    }),
  );
  expectOutcome(res, 400);
  const expressions = res.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []);
  expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate', 'Patient.foo']));
  expect(expressions.some((e: string) => e.startsWith('Patient.name'))).toBe(true);
});

test('missing required elements and empty strings are rejected', async () => {
  const obs = await t
    .api()
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Observation', code: { text: 'x' } });
  expectOutcome(obs, 400);
  expect(JSON.stringify(obs.body)).toMatch(/status/);
  expectOutcome(await post(JSON.stringify(patient({ gender: '' }))), 400);
});

test('invalid ids in the URL and in the body are 400', async () => {
  expectOutcome(
    await t
      .api()
      .put('/fhir/Patient/has%20space')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'has space' })),
    400,
  );
  expectOutcome(
    await t
      .api()
      .put('/fhir/Patient/a_b')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'a_b' })),
    400,
  );
});

test('unknown resource types are 404 for reads and writes', async () => {
  expectOutcome(await t.api().post('/fhir/Bot').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bot' }), 404);
  expectOutcome(await t.api().get('/fhir/DomainResource'), 404);
  expectOutcome(await t.api().get('/fhir/patient'), 404);
});

test('malformed paths and methods', async () => {
  expectOutcome(await t.api().get('/fhir/Patient/%E0%A4%A'), 400);
  expectOutcome(await t.api().delete('/fhir/metadata'), 405);
  expectOutcome(await t.api().get('/nothing-here'), 404);
});

test('nothing from any rejected request was stored', async () => {
  expect(await patientCount()).toBe(0);
});

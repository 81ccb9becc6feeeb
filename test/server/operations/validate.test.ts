// $validate at type and instance level, with the profile parameter.
import { FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';

test('a valid resource gives 200 and an "All OK" outcome; nothing is stored', async () => {
  const res = await t.api().post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(patient());
  expect(res.status).toBe(200);
  expect(res.body.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: 'All OK' }]);
  expect((await t.api().get('/fhir/Patient?_count=0')).body.total).toBe(0);
});

test('an invalid resource gives 200 with every error and its location', async () => {
  const res = await t
    .api()
    .post('/fhir/Patient/$validate')
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Patient', gender: 'x', foo: 1 });
  expect(res.status).toBe(200);
  const expressions = res.body.issue.map((i: { expression: string[] }) => i.expression[0]);
  expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.foo']));
});

test('a Parameters body with resource and profile checks the profile', async () => {
  const body = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'X' }] } },
      { name: 'profile', valueUri: US_CORE_PATIENT },
    ],
  };
  const res = await t.api().post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(body);
  expect(res.status).toBe(200);
  expect(JSON.stringify(res.body)).toMatch(/identifier/);
  expect(res.body.issue.some((i: { severity: string }) => i.severity === 'error')).toBe(true);
});

test('the profile parameter in the URL; an unknown profile is only a warning', async () => {
  const res = await t
    .api()
    .post('/fhir/Patient/$validate?profile=http://example.org/unknown')
    .set('Content-Type', FHIR_JSON)
    .send(patient());
  expect(res.status).toBe(200);
  expect(res.body.issue.every((i: { severity: string }) => i.severity !== 'error')).toBe(true);
  expect(JSON.stringify(res.body)).toMatch(/example\.org\/unknown/);
});

test('instance level validates the stored resource, or the body with mode=update', async () => {
  const created = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient()).expect(201);
  const stored = await t.api().post(`/fhir/Patient/${created.body.id}/$validate`);
  expect(stored.status).toBe(200);
  expect(stored.body.issue[0].diagnostics).toBe('All OK');
  const viaGet = await t.api().get(`/fhir/Patient/${created.body.id}/$validate`);
  expect(viaGet.status).toBe(200);
  const mismatched = await t
    .api()
    .post(`/fhir/Patient/${created.body.id}/$validate?mode=update`)
    .set('Content-Type', FHIR_JSON)
    .send(patient({ id: 'other' }));
  expect(mismatched.status).toBe(400);
  expect((await t.api().post('/fhir/Patient/missing/$validate')).status).toBe(404);
});

test('wrong type, missing resource and unsupported mode are 400', async () => {
  expect(
    (await t.api().post('/fhir/Observation/$validate').set('Content-Type', FHIR_JSON).send(patient())).status,
  ).toBe(400);
  expect((await t.api().post('/fhir/Patient/$validate')).status).toBe(400);
  expect(
    (await t.api().post('/fhir/Patient/$validate?mode=delete').set('Content-Type', FHIR_JSON).send(patient())).status,
  ).toBe(400);
  expect((await t.api().post('/fhir/Patient/$nope').set('Content-Type', FHIR_JSON).send(patient())).status).toBe(404);
});

test('resources claiming a known profile are checked on write', async () => {
  const res = await t
    .api()
    .post('/fhir/Patient')
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Patient', meta: { profile: [US_CORE_PATIENT] }, name: [{ family: 'X' }] });
  expect(res.status).toBe(400);
  const unknown = await t
    .api()
    .post('/fhir/Patient')
    .set('Content-Type', FHIR_JSON)
    .send(patient({ meta: { profile: ['http://example.org/StructureDefinition/unknown'] } }));
  expect(unknown.status).toBe(201);
});

test('impossible dates, 64-bit integers, id-only elements and mistyped R4 extensions are refused on write', async () => {
  const ownPrefix = 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix';
  const cases: [Record<string, unknown>, string][] = [
    [{ birthDate: '2023-02-29' }, 'Patient.birthDate'],
    [{ multipleBirthInteger: 4294967296 }, 'Patient.multipleBirth'],
    [{ gender: undefined, _gender: { id: 'g1' } }, 'Patient.gender'],
    [
      { name: [{ family: 'Beethoven', _family: { extension: [{ url: ownPrefix, valueCode: 'van' }] } }] },
      'Patient.name[0].family.extension[0].value',
    ],
  ];
  for (const [extra, expression] of cases) {
    const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient(extra));
    expect([expression, res.status]).toEqual([expression, 400]);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue).toEqual([expect.objectContaining({ severity: 'error', expression: [expression] })]);
  }
  expect(
    (
      await t
        .api()
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(patient({ birthDate: '2024-02-29' }))
    ).status,
  ).toBe(201);
});

test('issue locations are FHIRPath: a choice element by its name, a primitive extension at its primitive', async () => {
  const body = {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'resource',
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'x' },
          valueBoolean: 'yes',
          _status: { extension: [] },
        },
      },
    ],
  };
  const res = await t.api().post('/fhir/Observation/$validate').set('Content-Type', FHIR_JSON).send(body);
  expect(res.status).toBe(200);
  const expressions = res.body.issue.map((i: { expression: string[] }) => i.expression[0]).sort();
  expect(expressions).toEqual(['Observation.status.extension', 'Observation.value']);
  const direct = await t
    .api()
    .post('/fhir/Parameters/$validate')
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'resource',
          resource: { resourceType: 'Parameters', parameter: [{ name: 'flag', valueBoolean: 'yes' }] },
        },
      ],
    });
  expect(direct.body.issue[0].expression).toEqual(['Parameters.parameter[0].value']);
});

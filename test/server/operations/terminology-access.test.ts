// Who may use the terminology operations: built-in R4 terminology is public reference data (any valid token);
// the hospital's stored CodeSystems and ValueSets follow the caller's grants, so a token without them gets a
// 403 for stored-only content and the built-in version where one exists. No operation reaches patient data.
import { startTestApp, type TestApp } from '../../support/app';
import { LAB, loadTerminology, output, VS } from '../../resources/terminology/fixtures';

const q = encodeURIComponent;
const GENDER_VS = 'http://hl7.org/fhir/ValueSet/administrative-gender';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await loadTerminology(t);
  for (const id of ['p1', 'p2']) {
    await t
      .api()
      .put(`/fhir/Patient/${id}`)
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Patient', id });
  }
});
afterAll(() => t.close());

async function tokenFor(scope: string, patient?: string): Promise<string> {
  const { token } = await t.auth.tokens.issueAccessToken(
    {
      clientId: 'terminology-app',
      userId: patient ? `user-${patient}` : 'clinician',
      role: patient ? 'patient' : 'clinician',
      ...(patient ? { fhirUser: `Patient/${patient}`, patient } : {}),
      scope,
    },
    600_000,
  );
  return token;
}

const as = (token: string) => ({
  get: (path: string) => t.anonymous().get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`),
});

test('a patient token with patient/*.rs uses stored and built-in terminology (shared reference types)', async () => {
  const patient = as(await tokenFor('patient/*.rs', 'p1'));
  const stored = await patient.get(`ValueSet/$expand?url=${q(VS('chemistry'))}&filter=sod`);
  expect(stored.status).toBe(200);
  expect(stored.body.expansion.contains.map((c: { code: string }) => c.code)).toEqual(['NA']);
  const lookup = await patient.get(`CodeSystem/$lookup?system=${q(LAB)}&code=NA`);
  expect(output(lookup.body, 'display')).toBe('Sodium [Moles/volume] in Serum');
});

test('a token without CodeSystem/ValueSet grants still gets built-in R4 terminology', async () => {
  const narrow = as(await tokenFor('patient/Patient.rs', 'p1'));
  const gender = await narrow.get(`ValueSet/$expand?url=${q(GENDER_VS)}`);
  expect(gender.status).toBe(200);
  expect(gender.body.expansion.total).toBe(4);
  const subsumes = await narrow.get(
    `CodeSystem/$subsumes?system=${q('http://terminology.hl7.org/CodeSystem/v3-ActCode')}&codeA=AMB&codeB=AMB`,
  );
  expect(output(subsumes.body, 'outcome')).toBe('equivalent');
});

test('a token without the grants gets 403 for the hospital’s stored terminology', async () => {
  const narrow = as(await tokenFor('patient/Patient.rs', 'p1'));
  for (const path of [
    `ValueSet/$expand?url=${q(VS('chemistry'))}`,
    'ValueSet/chemistry/$expand',
    `CodeSystem/$lookup?system=${q(LAB)}&code=NA`,
    `ValueSet/$validate-code?url=${q(VS('lab-all'))}&system=${q(LAB)}&code=NA`,
    'CodeSystem/lab-local/$subsumes?codeA=CHEM&codeB=NA',
  ]) {
    const res = await narrow.get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 403 });
    expect(res.body.resourceType).toBe('OperationOutcome');
  }
});

test('grants are per type: CodeSystem read does not open stored ValueSets', async () => {
  const codeSystemsOnly = as(await tokenFor('user/CodeSystem.rs'));
  expect((await codeSystemsOnly.get(`CodeSystem/$lookup?system=${q(LAB)}&code=NA`)).status).toBe(200);
  expect((await codeSystemsOnly.get(`ValueSet/$expand?url=${q(VS('lab-all'))}`)).status).toBe(403);
});

test('without a ValueSet grant, a built-in url answers with the built-in content, not the hospital’s copy', async () => {
  const local = {
    resourceType: 'ValueSet',
    url: GENDER_VS,
    status: 'active',
    compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'other' }] }] },
  };
  const created = await t.api().post('/fhir/ValueSet').set('Content-Type', 'application/fhir+json').send(local);
  expect(created.status).toBe(201);
  const granted = as(await tokenFor('user/ValueSet.rs'));
  expect((await granted.get(`ValueSet/$expand?url=${q(GENDER_VS)}`)).body.expansion.total).toBe(1);
  const narrow = as(await tokenFor('user/Patient.rs'));
  expect((await narrow.get(`ValueSet/$expand?url=${q(GENDER_VS)}`)).body.expansion.total).toBe(4);
  await t.api().delete(`/fhir/ValueSet/${created.body.id}`);
});

test('the operations serve no patient data: other types answer 404, and no token is a 401', async () => {
  const patient = as(await tokenFor('patient/*.rs', 'p1'));
  expect((await patient.get('Patient/p2/$expand')).status).toBe(404);
  expect((await patient.get('Patient/$validate-code?code=x')).status).toBe(404);
  expect((await patient.get('ValueSet/p2/$expand')).status).toBe(404);
  expect((await t.anonymous().get(`/fhir/ValueSet/$expand?url=${q(GENDER_VS)}`)).status).toBe(401);
});

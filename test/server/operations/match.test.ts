// Patient/$match over HTTP, on SQLite and on the MongoDB adapter: the searchset Bundle (score, match grade,
// per-field detail), onlyCertainMatches and count, deprecated records left out with a warning, bad input as
// 400, and grants: a patient's token only ever matches its own record.
import request from 'supertest';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { MingoDatabase } from '../../support/mingo-database';
import { FHIR_JSON, putThroughApi, startTestApp, type TestApp } from '../../support/app';

const GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const DETAIL = 'http://hms.local/fhir/StructureDefinition/match-detail';

const anna = {
  resourceType: 'Patient',
  identifier: [{ system: 'urn:mrn', value: 'M1' }],
  name: [{ family: 'Smith', given: ['Anna'] }],
  gender: 'female',
  birthDate: '1980-02-03',
  address: [{ line: ['12 Oak St'], postalCode: '02134' }],
  telecom: [{ system: 'phone', value: '(617) 555-0101' }],
};
const RECORDS = [
  { ...anna, id: 'anna' },
  // The same woman registered again: new record number, a typo, the same phone.
  {
    ...anna,
    id: 'anna-dup',
    identifier: [{ system: 'urn:mrn', value: 'M2' }],
    name: [{ family: 'Smiht', given: ['Anna'] }],
  },
  {
    ...anna,
    id: 'twin',
    identifier: [{ system: 'urn:mrn', value: 'M3' }],
    name: [{ family: 'Smith', given: ['Beth'] }],
  },
  { ...anna, id: 'old-anna', identifier: [{ system: 'urn:mrn', value: 'M4' }], active: false },
  {
    ...anna,
    id: 'merged-anna',
    identifier: [{ system: 'urn:mrn', value: 'M5' }],
    link: [{ type: 'replaced-by', other: { reference: 'Patient/anna' } }],
  },
  { resourceType: 'Patient', id: 'bob', name: [{ family: 'Jones', given: ['Bob'] }], birthDate: '1950-05-06' },
];

const parameters = (resource: unknown, ...more: unknown[]) => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'resource', resource }, ...more],
});
const matches = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match');
const gradeOf = (entry: BundleEntry) => entry.search?.extension?.find((x) => x.url === GRADE)?.valueCode;
const detailOf = (entry: BundleEntry) => entry.search?.extension?.find((x) => x.url === DETAIL)?.valueString;

describe.each([
  ['SQLite', () => startTestApp()],
  ['MongoDB adapter (mingo)', () => startTestApp({ store: new MongoStore(new MingoDatabase()) })],
])('Patient/$match on %s', (_name, start) => {
  let t: TestApp;
  const post = (body: unknown, token = t.token, type = 'Patient') =>
    request(t.app)
      .post(`/fhir/${type}/$match`)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', FHIR_JSON)
      .send(body as object);

  beforeAll(async () => {
    t = await start();
    for (const record of RECORDS) await putThroughApi(t, record);
  });
  afterAll(() => t.close());

  test('the most likely first, each with a score, a grade and why; other people only as possible', async () => {
    const res = await post(parameters({ ...anna, identifier: [] }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const found = matches(res.body);
    expect(found.map((e) => [e.resource?.id, gradeOf(e)])).toEqual([
      ['anna', 'certain'],
      ['anna-dup', 'certain'],
      ['twin', 'possible'],
    ]);
    expect(res.body.total).toBe(3);
    expect(found[0].fullUrl).toBe('http://localhost:8080/fhir/Patient/anna');
    const scores = found.map((e) => e.search?.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeGreaterThan(scores[1]);
    expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
    expect(detailOf(found[1])).toContain('family=phonetic(+4.5)');
    expect(detailOf(found[2])).toContain('given=disagree(-7)');
    const audit = await t.api().get('/fhir/AuditEvent?patient=Patient/twin&subtype=operation');
    expect(audit.status).toBe(200);
    expect(audit.body.entry?.length).toBeGreaterThan(0);
  });

  test('inactive and merged-away records are not offered; a warning names them and their replacement', async () => {
    const res = await post(anna);
    const ids = matches(res.body).map((e) => e.resource?.id);
    expect(ids).not.toContain('old-anna');
    expect(ids).not.toContain('merged-anna');
    const outcome = (res.body.entry as BundleEntry[]).find((e) => e.search?.mode === 'outcome');
    const issues = (outcome?.resource as { issue: { severity: string; diagnostics: string }[] }).issue;
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
    expect(issues.map((i) => i.diagnostics).join('\n')).toMatch(/old-anna .*inactive/);
    expect(issues.map((i) => i.diagnostics).join('\n')).toMatch(/merged-anna .*merged into Patient\/anna/);
  });

  test('onlyCertainMatches keeps the certain ones; count caps the list', async () => {
    const certain = await post(parameters(anna, { name: 'onlyCertainMatches', valueBoolean: true }));
    expect(matches(certain.body).map(gradeOf)).toEqual(['certain', 'certain']);
    const one = await post(parameters(anna, { name: 'count', valueInteger: 1 }));
    expect(matches(one.body).map((e) => e.resource?.id)).toEqual(['anna']);
  });

  test('no match is an empty Bundle, not an error', async () => {
    const res = await post(parameters({ resourceType: 'Patient', name: [{ family: 'Nobody', given: ['Zed'] }] }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    expect(res.body.entry ?? []).toEqual([]);
  });

  test('bad input is a 400 with an OperationOutcome; $match on another type is a 404', async () => {
    const cases: [unknown, RegExp][] = [
      [{ resourceType: 'Parameters', parameter: [] }, /resource/],
      [parameters({ resourceType: 'Observation' }), /Patient, not a Observation/],
      [parameters({ resourceType: 'Patient', gender: 'male' }), /Nothing to match on/],
      [parameters({ ...anna, birthDate: 'yesterday' }), /birthDate/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect({ status: res.status, type: res.body.resourceType }).toEqual({ status: 400, type: 'OperationOutcome' });
      expect(res.body.issue[0].diagnostics).toMatch(message);
    }
    expect((await post(anna, t.token, 'Observation')).status).toBe(404);
  });

  test("a patient's token matches only its own record, never another patient's", async () => {
    const token = await patientToken(t, 'patient/Patient.rs', 'anna-dup');
    const res = await post(anna, token);
    expect(res.status).toBe(200);
    expect(matches(res.body).map((e) => e.resource?.id)).toEqual(['anna-dup']);
    const text = JSON.stringify(res.body);
    for (const other of ['"anna"', 'twin', 'old-anna', 'merged-anna']) expect(text).not.toContain(other);
  });

  test('a token without search on Patient gets 403', async () => {
    const token = await patientToken(t, 'patient/Observation.rs', 'anna');
    const res = await post(anna, token);
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toContain('anna-dup');
  });

  test("a clinician's user token matches across patients", async () => {
    const { token } = await t.auth.tokens.issueAccessToken(
      { clientId: 'ehr', userId: 'dr-1', role: 'clinician', fhirUser: 'Practitioner/dr-1', scope: 'user/Patient.rs' },
      600_000,
    );
    const res = await post(anna, token);
    expect(matches(res.body).map((e) => e.resource?.id)).toEqual(['anna', 'anna-dup', 'twin']);
  });
});

async function patientToken(t: TestApp, scope: string, patient: string): Promise<string> {
  const { token } = await t.auth.tokens.issueAccessToken(
    {
      clientId: 'patient-app',
      userId: `user-${patient}`,
      role: 'patient',
      fhirUser: `Patient/${patient}`,
      scope,
      patient,
    },
    600_000,
  );
  return token;
}

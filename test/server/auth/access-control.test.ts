// Access control against the attack table (reference/smart.md section 5): a patient's token never reaches
// another patient's data, through reads, searches, includes, _has, compartments, history, batches, writes or
// replayed paging links; scopes limit types and interactions; granular scopes limit categories.
import request from 'supertest';
import type { Bundle } from '@medplum/fhirtypes';
import { FHIR_JSON, observation, patient, startTestApp, type TestApp, putThroughApi } from '../../support/app';

let t: TestApp;
const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

const put = (resource: Record<string, unknown>) => putThroughApi(t, resource);
const category = (code: string) => [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] },
];

/** A token of a patient app for P1, issued by the token store as the token endpoint would after consent. */
async function patientToken(scope: string, patientId = 'p1'): Promise<string> {
  const { token } = await t.auth.tokens.issueAccessToken(
    {
      clientId: 'patient-app',
      userId: `user-${patientId}`,
      role: 'patient',
      fhirUser: `Patient/${patientId}`,
      scope,
      patient: patientId,
    },
    600_000,
  );
  return token;
}

const as = (token: string) => ({
  get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
  send: (method: 'post' | 'put' | 'patch' | 'delete', url: string, body?: unknown, type = FHIR_JSON) => {
    const req = request(t.app)[method](url).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.set('Content-Type', type).send(body as object);
  },
});
const ids = (bundle: Bundle) =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode !== 'outcome')
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();

let t1: ReturnType<typeof as>;

beforeAll(async () => {
  t = await startTestApp();
  await put(patient({ id: 'p1', identifier: [{ system: 'urn:mrn', value: 'MRN1' }] }));
  await put(patient({ id: 'p2', name: [{ family: 'Other' }], identifier: [{ system: 'urn:mrn', value: 'MRN2' }] }));
  await put({ resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Jones' }] });
  await put({
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/p1' },
  });
  await put({
    ...observation('Patient/p1'),
    id: 'o1',
    category: category('laboratory'),
    performer: [{ reference: 'Practitioner/dr' }],
  });
  await put({ ...observation('Patient/p1'), id: 'o1v', category: category('vital-signs') });
  await put({
    ...observation('Patient/p2'),
    id: 'o2',
    category: category('laboratory'),
    identifier: [{ system: 'urn:obs', value: 'X2' }],
  });
  await put({ ...observation('Patient/p2'), id: 'o2e', encounter: { reference: 'Encounter/e1' } });
  await put({ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' } });
  t1 = as(await patientToken('patient/*.rs'));
});
afterAll(() => t.close());

test('1. reads of another patient and their data are 404, as for what does not exist', async () => {
  expect((await t1.get('/fhir/Patient/p1')).status).toBe(200);
  expect((await t1.get('/fhir/Observation/o1')).status).toBe(200);
  for (const url of [
    '/fhir/Patient/p2',
    '/fhir/Observation/o2',
    '/fhir/Observation/o2/_history/1',
    '/fhir/Patient/p2/_history',
  ]) {
    const res = await t1.get(url);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('Other');
  }
  // Shared directory data a chart points at stays readable.
  expect((await t1.get('/fhir/Practitioner/dr')).status).toBe(200);
});

test('2. searches are narrowed to the patient whatever the parameters say', async () => {
  const own = ['Observation/o1', 'Observation/o1v'];
  const cases: [string, string[]][] = [
    ['/fhir/Observation', own],
    ['/fhir/Observation?patient=p2', []],
    ['/fhir/Observation?subject=Patient/p2', []],
    ['/fhir/Observation?subject:Patient=p2', []],
    ['/fhir/Observation?patient=p1,p2', own],
    ['/fhir/Observation?patient=p1&patient=p2', []],
    ['/fhir/Observation?_id=o2,o1', ['Observation/o1']],
    ['/fhir/Observation?patient.identifier=urn:mrn|MRN2', []],
    ['/fhir/Observation?subject:Patient.name=Other', []],
    ['/fhir/Patient', ['Patient/p1']],
    ['/fhir/Patient?identifier=urn:mrn|MRN2', []],
    ['/fhir/Patient/p2/Observation', []],
    ['/fhir/Patient/p1/Observation', own],
  ];
  for (const [url, expected] of cases) {
    const res = await t1.get(url);
    expect({ url, status: res.status, ids: ids(res.body) }).toEqual({ url, status: 200, ids: expected });
  }
});

test('2b. POST _search with a form body is narrowed too', async () => {
  const token = await patientToken('patient/*.rs');
  const res = await request(t.app)
    .post('/fhir/Observation/_search')
    .set('Authorization', `Bearer ${token}`)
    .type('form')
    .send('patient=p2');
  expect(res.status).toBe(200);
  expect(ids(res.body)).toEqual([]);
});

test('3-4. includes, revincludes, _has and counts never bring in another patient', async () => {
  const rev = await t1.get('/fhir/Encounter?patient=p1&_revinclude=Observation:encounter');
  expect(ids(rev.body)).toEqual(['Encounter/e1']);
  const all = await t1.get('/fhir/Observation?_include=*&_revinclude=*');
  expect(ids(all.body).filter((id) => /p2|o2/.test(id))).toEqual([]);
  const has = await t1.get('/fhir/Patient?_has:Observation:patient:identifier=urn:obs|X2');
  expect(ids(has.body)).toEqual([]);
  const count = await t1.get('/fhir/Observation?_summary=count');
  expect(count.body.total).toBe(2);
  const total = await t1.get('/fhir/Observation?code=8867-4&_total=accurate');
  expect(total.body.total).toBe(2);
});

test('5. system-wide history and search, and the audit trail, are refused to patient scopes', async () => {
  for (const url of [
    '/fhir/_history',
    '/fhir/Observation/_history',
    '/fhir?_type=Observation,Patient',
    '/fhir/AuditEvent',
  ]) {
    const res = await t1.get(url);
    expect({ url, status: res.status }).toEqual({ url, status: 403 });
  }
});

test('6. batch and transaction entries are checked one by one', async () => {
  const batch = await t1.send('post', '/fhir', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: 'Patient/p2' } }, { request: { method: 'GET', url: 'Patient/p1' } }],
  });
  expect(batch.status).toBe(200);
  expect(batch.body.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3))).toEqual([
    '404',
    '200',
  ]);
  const tx = await t1.send('post', '/fhir', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        resource: { ...observation('Patient/p1'), identifier: [{ system: 'urn:obs', value: 'X2' }] },
        request: { method: 'PUT', url: 'Observation?identifier=urn:obs|X2' },
      },
    ],
  });
  expect(tx.status).toBe(403);
  expect((await t.api().get('/fhir/Observation/o2')).body.subject.reference).toBe('Patient/p2');
});

test('7. writes cannot create, move or delete anything outside the compartment', async () => {
  const t1w = as(await patientToken('patient/Observation.cru patient/Observation.rs'));
  expect((await t1w.send('post', '/fhir/Observation', observation('Patient/p1'))).status).toBe(201);
  expect((await t1w.send('post', '/fhir/Observation', observation('Patient/p2'))).status).toBe(403);
  const o1 = (await t.api().get('/fhir/Observation/o1')).body;
  expect((await t1w.send('put', '/fhir/Observation/o1', { ...o1, subject: { reference: 'Patient/p2' } })).status).toBe(
    403,
  );
  const patch = await t1w.send(
    'patch',
    '/fhir/Observation/o1',
    [{ op: 'replace', path: '/subject/reference', value: 'Patient/p2' }],
    'application/json-patch+json',
  );
  expect(patch.status).toBe(403);
  const o2 = (await t.api().get('/fhir/Observation/o2')).body;
  // Taking over another patient's resource: it is not there for this caller.
  expect((await t1w.send('put', '/fhir/Observation/o2', { ...o2, subject: { reference: 'Patient/p1' } })).status).toBe(
    404,
  );
  expect((await t1w.send('delete', '/fhir/Observation?code=8867-4')).status).toBe(403);
  expect((await t1w.send('delete', '/fhir/Patient/p1')).status).toBe(403);
  const after = (await t.api().get('/fhir/Observation/o2')).body;
  expect(after).toMatchObject({ status: 'final', subject: { reference: 'Patient/p2' } });
  expect((await t.api().get('/fhir/Observation/o1')).body.subject.reference).toBe('Patient/p1');
});

test('8. granular scopes: other types 403, writes 403, other categories hidden', async () => {
  const lab = as(await patientToken(`patient/Observation.rs?category=${LAB}`));
  expect((await lab.get('/fhir/Condition?patient=p1')).status).toBe(403);
  expect((await lab.send('post', '/fhir/Observation', observation('Patient/p1'))).status).toBe(403);
  expect((await lab.get('/fhir/Observation/o1v')).status).toBe(404);
  expect((await lab.get('/fhir/Observation/o1')).status).toBe(200);
  expect(ids((await lab.get('/fhir/Observation')).body)).toEqual(['Observation/o1']);
  const both = as(
    await patientToken(
      `patient/Observation.rs?category=${LAB} patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs`,
    ),
  );
  expect(ids((await both.get('/fhir/Observation')).body)).toEqual(['Observation/o1', 'Observation/o1v']);
});

test('9. a paging link from a wider token replayed with a patient token is narrowed again', async () => {
  const page = await t.api().get('/fhir/Observation?_count=1&_sort=_id');
  const next = (page.body as Bundle).link?.find((l) => l.relation === 'next')?.url as string;
  expect(next).toBeTruthy();
  const replay = await t1.get(next.replace('http://localhost:8080', ''));
  expect(replay.status).toBe(200);
  expect(ids(replay.body).every((id) => ['Observation/o1', 'Observation/o1v'].includes(id))).toBe(true);
});

test('12. functions above the caller: $reindex, deletes, $validate of ungranted types', async () => {
  expect((await t1.send('post', '/fhir/$reindex')).status).toBe(403);
  expect((await t1.send('delete', '/fhir/Patient/p1')).status).toBe(403);
  expect((await t1.send('post', '/fhir/Observation/$validate', observation('Patient/p1'))).status).toBe(403);
});

test('10. the audit trail is not writable through the API, whatever the scope', async () => {
  const res = await t
    .api()
    .post('/fhir/AuditEvent')
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'AuditEvent' });
  expect(res.status).toBe(403);
});

test('staff roles: user/ scopes limit types and interactions', async () => {
  const { token } = await t.auth.tokens.issueAccessToken(
    { clientId: 'desk-app', userId: 'desk', role: 'front-desk', scope: 'user/Patient.crus user/Appointment.cruds' },
    600_000,
  );
  const desk = as(token);
  expect(ids((await desk.get('/fhir/Patient')).body)).toEqual(['Patient/p1', 'Patient/p2']);
  expect((await desk.get('/fhir/Observation')).status).toBe(403);
  expect((await desk.get('/fhir/Observation/o1')).status).toBe(403);
  expect((await desk.send('delete', '/fhir/Patient/p2')).status).toBe(403);
});

test('26. NoSQL-style parameter names are plain unknown parameters, never operators', async () => {
  for (const url of [
    '/fhir/Observation?patient[$ne]=x',
    '/fhir/Observation?_id[$gt]=',
    '/fhir/Patient?name[$regex]=.*',
  ]) {
    const res = await t1.get(url);
    expect(res.status).toBe(200);
    expect(ids(res.body).some((id) => /p2|o2/.test(id))).toBe(false);
  }
  expect((await t1.get('/fhir/Observation?_sort=$where')).status).toBe(400);
});

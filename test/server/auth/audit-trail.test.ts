// The audit trail through the API: every disclosure, write and refusal is an AuditEvent (BALP shape, one per
// patient), readable only with a scope naming AuditEvent, never writable, and its hash chain verifies.
import request from 'supertest';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { verifyChain } from '../../../resources/audit/chain';
import { FHIR_JSON, observation, patient, startTestApp, type TestApp, putThroughApi } from '../../support/app';

let t: TestApp;
let patientToken: string;

const put = (resource: Record<string, unknown>) => putThroughApi(t, resource);

async function events(query: string): Promise<AuditEvent[]> {
  const res = await t.api().get(`/fhir/AuditEvent?${query}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
}

const entityRefs = (e: AuditEvent) => (e.entity ?? []).map((x) => x.what?.reference).filter(Boolean);

beforeAll(async () => {
  t = await startTestApp();
  await put(patient({ id: 'a1' }));
  await put(patient({ id: 'a2' }));
  await put({ ...observation('Patient/a1'), id: 'ob1' });
  await put({ ...observation('Patient/a2'), id: 'ob2' });
  ({ token: patientToken } = await t.auth.tokens.issueAccessToken(
    {
      clientId: 'patient-app',
      userId: 'pat-a1',
      role: 'patient',
      fhirUser: 'Patient/a1',
      scope: 'patient/*.rs patient/AuditEvent.rs',
      patient: 'a1',
    },
    600_000,
  ));
});
afterAll(() => t.close());

test('writes are audited with the version written and the patient, in the same transaction', async () => {
  // PUT with a new id is the update interaction creating the resource (FHIR restful-interaction).
  const created = await events('patient=a1&subtype=update');
  expect(created.map(entityRefs).flat()).toEqual(expect.arrayContaining(['Patient/a1', 'Observation/ob1/_history/1']));
  const event = created.find((e) => entityRefs(e).includes('Observation/ob1/_history/1')) as AuditEvent;
  expect(event).toMatchObject({ action: 'U', outcome: '0', type: { code: 'rest' } });
  expect(event.agent?.find((a) => a.requestor)?.who?.identifier?.value).toBe('test-system');
});

test('a patient read is audited with who, what, from where; a denied one as a failure; never the token', async () => {
  expect(
    (await request(t.app).get('/fhir/Observation/ob1').set('Authorization', `Bearer ${patientToken}`)).status,
  ).toBe(200);
  expect(
    (await request(t.app).get('/fhir/Observation/ob2').set('Authorization', `Bearer ${patientToken}`)).status,
  ).toBe(404);
  const reads = await events('agent=Patient/a1&subtype=read&outcome=0');
  expect(reads).toHaveLength(1);
  const read = reads[0];
  expect(entityRefs(read)).toEqual(['Patient/a1', 'Observation/ob1/_history/1']);
  const user = read.agent?.find((a) => a.requestor);
  expect(user?.who?.reference).toBe('Patient/a1');
  expect(user?.policy?.[0]).toMatch(/^urn:ietf:params:oauth:jti:/);
  expect(read.agent?.find((a) => a.who?.identifier?.value === 'patient-app')?.network?.address).toBeTruthy();
  const failures = await events('agent=Patient/a1&outcome=4');
  expect(failures.map(entityRefs).flat()).toEqual(['Patient/a2', 'Observation/ob2/_history/1']);
  // "Who tried to see patient a2" finds it.
  expect((await events('patient=a2&outcome=4')).map((e) => e.id)).toEqual(failures.map((e) => e.id));
  const all = JSON.stringify(await events('_count=1000'));
  expect(all).not.toContain(patientToken);
});

test('a search is one event per patient returned, with the query', async () => {
  await t.api().get('/fhir/Observation?code=8867-4');
  const searches = (await events('subtype=search-type&agent=client/test-system')).filter((e) =>
    (e.entity ?? []).some((x) => x.query && Buffer.from(x.query, 'base64').toString() === 'code=8867-4'),
  );
  expect(searches).toHaveLength(2);
  expect(searches.map((e) => e.entity?.find((x) => x.role?.code === '1')?.what?.reference).sort()).toEqual([
    'Patient/a1',
    'Patient/a2',
  ]);
});

test('a request without a valid token is a failed access', async () => {
  await request(t.app).get('/fhir/Patient/a1').set('Authorization', 'Bearer forged');
  const failed = await events('outcome=4&subtype=read&agent=anonymous');
  expect(failed.length).toBeGreaterThanOrEqual(1);
  expect(failed[0].outcomeDesc).toBe('no valid access token');
});

test('reading the audit trail: an audit scope sees all, a patient only their own, others 403; writes 403', async () => {
  const own = await request(t.app).get('/fhir/AuditEvent?patient=a2').set('Authorization', `Bearer ${patientToken}`);
  expect(own.status).toBe(200);
  expect((own.body as Bundle).entry ?? []).toEqual([]);
  const mine = await request(t.app).get('/fhir/AuditEvent').set('Authorization', `Bearer ${patientToken}`);
  const patients = ((mine.body as Bundle).entry ?? []).map(
    (e) => (e.resource as AuditEvent).entity?.find((x) => x.role?.code === '1')?.what?.reference,
  );
  expect(patients.length).toBeGreaterThan(0);
  expect(new Set(patients)).toEqual(new Set(['Patient/a1']));
  const { token } = await t.auth.tokens.issueAccessToken(
    { clientId: 'c', userId: 'dr', role: 'clinician', scope: 'user/*.cruds' },
    60_000,
  );
  expect((await request(t.app).get('/fhir/AuditEvent').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  const one = (await events('_count=1'))[0];
  expect((await t.api().get(`/fhir/AuditEvent/${one.id}`)).body).toEqual(one);
  expect((await t.api().put(`/fhir/AuditEvent/${one.id}`).set('Content-Type', FHIR_JSON).send(one)).status).toBe(403);
  expect((await t.api().delete(`/fhir/AuditEvent/${one.id}`)).status).toBe(403);
  expect((await t.api().get('/fhir/AuditEvent?entity-name=x')).status).toBe(400);
  expect((await t.api().get('/fhir/AuditEvent?date=ge2020-01-01&date=le2100')).status).toBe(200);
});

test('the hash chain over everything written verifies', async () => {
  const result = await verifyChain(t.services.store.auditRecords());
  expect(result.broken).toBeUndefined();
  expect(result.checked).toBeGreaterThan(10);
});

test('token issuance, refused token requests and admin actions are in the trail', async () => {
  const issued = await events('subtype=token&outcome=0');
  expect(issued.some((e) => e.agent?.some((a) => a.who?.identifier?.value === 'test-system'))).toBe(true);
  await request(t.app)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: 'mallory' });
  const refused = await events('subtype=token&outcome=4');
  expect(
    refused.some(
      (e) => e.outcomeDesc === 'invalid_client' && e.agent?.some((a) => a.who?.identifier?.value === 'mallory'),
    ),
  ).toBe(true);
  await t.api().get('/admin/users');
  await request(t.app).get('/admin/users');
  const admin = await events('subtype=admin');
  expect(admin.map((e) => [e.outcome, e.outcomeDesc])).toEqual(
    expect.arrayContaining([
      ['0', 'user list'],
      ['4', 'GET /users'],
    ]),
  );
});

test('sign-ins and refused sign-ins are in the trail, naming who tried', async () => {
  await t.auth.users.add({ username: 'pat.audit', role: 'patient', password: 'a long enough password' });
  const agent = request.agent(t.app);
  const page = await agent.get('/auth/login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
  await agent.post('/auth/login').type('form').send({ csrf, username: 'pat.audit', password: 'wrong password!!' });
  await agent
    .post('/auth/login')
    .type('form')
    .send({ csrf, username: 'pat.audit', password: 'a long enough password' });
  const logins = await events('subtype=login&agent=user/pat.audit');
  expect(logins.map((e) => [e.outcome, e.outcomeDesc ?? ''])).toEqual([
    ['0', ''],
    ['4', 'password refused'],
  ]);
  expect(logins[0].agent?.[0]?.network?.address ?? logins[0].agent?.[1]?.network?.address).toBeTruthy();
});

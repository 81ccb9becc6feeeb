// Create-only updates and idempotent deletes through the real app: PUT with If-None-Match (`*`: 412 when the
// resource exists, created when it does not; an ETag: 412 when it names the current version), alone, as a
// conditional update and inside Bundles; DELETE of an id that never existed answers like any delete (204),
// while a resource the caller may not see stays a 404 and is not deleted.
import request from 'supertest';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { FHIR_JSON, observation, patient, putThroughApi, startTestApp, type TestApp } from '../../support/app';
import { bundleOf, entry } from '../../support/bundles';
import { Repository } from '../../../resources/repository';
import { grantsOf } from '../../../server/auth/scopes';
import { deleteInteraction } from '../../../server/fhir/delete';

let t: TestApp;
let sequence = 0;
const uniqueId = (label: string) => `${label}-${++sequence}-${Date.now()}`;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t.close();
});

function put(url: string, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return t.api().put(url).set('Content-Type', FHIR_JSON).set(headers).send(body);
}

function expectOutcome(res: Response, status: number, pattern: RegExp): OperationOutcome {
  expect(res.status).toBe(status);
  const outcome = JSON.parse(res.text) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue?.map((i) => i.diagnostics).join(' ')).toMatch(pattern);
  return outcome;
}

describe('PUT with If-None-Match', () => {
  test('* creates a resource that does not exist and answers 412 once it does, changing nothing', async () => {
    const id = uniqueId('create-only');
    const created = await put(`/fhir/Patient/${id}`, patient({ id }), { 'If-None-Match': '*' });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('W/"1"');
    const again = await put(`/fhir/Patient/${id}`, patient({ id, gender: 'male' }), { 'If-None-Match': '*' });
    expectOutcome(again, 412, new RegExp(`Patient/${id} exists`));
    const read = await t.api().get(`/fhir/Patient/${id}`);
    expect((read.body as Patient).meta?.versionId).toBe('1');
    expect((read.body as Patient).gender).toBe('female');
  });

  test('* creates again over a deleted resource (it has no current version)', async () => {
    const id = uniqueId('revive');
    await putThroughApi(t, patient({ id }));
    expect((await t.api().delete(`/fhir/Patient/${id}`)).status).toBe(204);
    const revived = await put(`/fhir/Patient/${id}`, patient({ id }), { 'If-None-Match': '*' });
    expect(revived.status).toBe(201);
    expect(revived.body.meta.versionId).toBe('3');
  });

  test('an ETag refuses the update when it names the current version, and lets it through otherwise', async () => {
    const id = uniqueId('etag');
    await putThroughApi(t, patient({ id }));
    expectOutcome(
      await put(`/fhir/Patient/${id}`, patient({ id, gender: 'male' }), { 'If-None-Match': 'W/"1"' }),
      412,
      /version 1/,
    );
    const other = await put(`/fhir/Patient/${id}`, patient({ id, gender: 'male' }), { 'If-None-Match': 'W/"7"' });
    expect(other.status).toBe(200);
    expect(other.headers.etag).toBe('W/"2"');
  });

  test('a malformed If-None-Match is a 400 naming the header', async () => {
    const id = uniqueId('bad-header');
    const res = await put(`/fhir/Patient/${id}`, patient({ id }), { 'If-None-Match': 'version one' });
    const outcome = expectOutcome(res, 400, /If-None-Match/);
    expect(outcome.issue?.[0].expression).toEqual(['If-None-Match']);
    expect((await t.api().get(`/fhir/Patient/${id}`)).status).toBe(404);
  });

  test('an invalid resource under If-None-Match: * is a 400, not a 500', async () => {
    const id = uniqueId('invalid');
    const res = await put(`/fhir/Patient/${id}`, patient({ id, gender: 'bogus' }), { 'If-None-Match': '*' });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('a conditional update with * creates when nothing matches and answers 412 when something does', async () => {
    const value = uniqueId('cond');
    const url = `/fhir/Patient?identifier=urn:test:inm|${value}`;
    const body = patient({ identifier: [{ system: 'urn:test:inm', value }] });
    expect((await put(url, body, { 'If-None-Match': '*' })).status).toBe(201);
    expectOutcome(await put(url, body, { 'If-None-Match': '*' }), 412, /exists/);
    const found = await t.api().get(url);
    expect((found.body as Bundle).total ?? found.body.entry.length).toBe(1);
  });

  test('inside Bundles: a batch entry answers 412 on its own; a transaction fails as a whole', async () => {
    const id = uniqueId('bundle');
    await putThroughApi(t, patient({ id }));
    const fresh = uniqueId('bundle-new');
    const createOnly = (target: string) =>
      entry('PUT', `Patient/${target}`, {
        resource: patient({ id: target }) as unknown as Resource,
        request: { ifNoneMatch: '*' } as never,
      });
    const batch = await t
      .api()
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(bundleOf('batch', [createOnly(id), createOnly(fresh)]));
    expect(batch.status).toBe(200);
    expect((batch.body as Bundle).entry?.map((e) => e.response?.status)).toEqual([
      '412 Precondition Failed',
      '201 Created',
    ]);
    const other = uniqueId('tx-new');
    const transaction = await t
      .api()
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(bundleOf('transaction', [createOnly(other), createOnly(id)]));
    expectOutcome(transaction, 412, /exists/);
    expect((await t.api().get(`/fhir/Patient/${other}`)).status).toBe(404);
  });
});

describe('DELETE of an id that never existed', () => {
  test('answers 204 like a delete of an existing resource, and an OperationOutcome when asked for one', async () => {
    const existing = uniqueId('del');
    await putThroughApi(t, patient({ id: existing }));
    const deleted = await t.api().delete(`/fhir/Patient/${existing}`);
    const unknown = await t.api().delete(`/fhir/Patient/${uniqueId('never')}`);
    expect(deleted.status).toBe(204);
    expect(unknown.status).toBe(204);
    expect(unknown.text ?? '').toBe('');
    const asked = await t
      .api()
      .delete(`/fhir/Patient/${uniqueId('never')}`)
      .set('Prefer', 'return=OperationOutcome');
    expect(asked.status).toBe(200);
    expect(asked.body.issue[0]).toMatchObject({ severity: 'information', code: 'informational' });
    expect(asked.body.issue[0].diagnostics).toMatch(/does not exist; nothing to delete/);
  });

  test('an unknown type and an invalid id are still errors', async () => {
    expect((await t.api().delete('/fhir/NoSuchType/1')).status).toBe(404);
    expect((await t.api().delete('/fhir/Patient/has%20space')).status).toBe(400);
  });

  test('batch and transaction entries deleting unknown ids succeed with 204', async () => {
    const remove = () => entry('DELETE', `Patient/${uniqueId('never')}`);
    for (const type of ['batch', 'transaction'] as const) {
      const res = await t
        .api()
        .post('/fhir')
        .set('Content-Type', FHIR_JSON)
        .send(bundleOf(type, [remove(), remove()]));
      expect(res.status).toBe(200);
      expect((res.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['204 No Content', '204 No Content']);
    }
  });

  test("another patient's resource stays a 404 for a patient token, and is not deleted", async () => {
    await putThroughApi(t, patient({ id: 'pa' }));
    await putThroughApi(t, patient({ id: 'pb' }));
    await putThroughApi(t, { ...observation('Patient/pb'), id: 'obs-pb' });
    const { token } = await t.auth.tokens.issueAccessToken(
      {
        clientId: 'patient-app',
        userId: 'user-pa',
        role: 'patient',
        fhirUser: 'Patient/pa',
        scope: 'patient/Observation.rds',
        patient: 'pa',
      },
      600_000,
    );
    const asPatient = (url: string) => request(t.app).delete(url).set('Authorization', `Bearer ${token}`);
    expect((await asPatient('/fhir/Observation/obs-pb')).status).toBe(404);
    expect((await t.api().get('/fhir/Observation/obs-pb')).status).toBe(200);
    expect((await asPatient(`/fhir/Observation/${uniqueId('never')}`)).status).toBe(204);
  });

  test('a restricted caller whose refusals are not noted (no request id) keeps the 404: it cannot be told apart', async () => {
    const access = { actor: 'test', patient: 'pa', grants: grantsOf(['patient/Observation.rds']) };
    const repo = new Repository(t.services, access);
    const params = { type: 'Observation', id: uniqueId('never') };
    const call = deleteInteraction({
      method: 'DELETE',
      params,
      query: [],
      headers: {},
      repo,
      baseUrl: 'http://x/fhir',
    });
    await expect(call).rejects.toMatchObject({ status: 404 });
  });
});

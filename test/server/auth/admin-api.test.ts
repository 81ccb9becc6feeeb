// The admin REST API: the CLI's client, user and key operations over HTTP, for the admin scope only.
import request from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const admin = () => ({
  get: (url: string) => t.api().get(url),
  post: (url: string, body?: unknown) =>
    t
      .api()
      .post(url)
      .send(body as object),
  delete: (url: string) => t.api().delete(url),
});

test('clients: add (secret once), list without secrets, remove; bad input is 400, duplicates 409', async () => {
  const added = await admin().post('/admin/clients', {
    id: 'billing-app',
    type: 'symmetric',
    redirectUris: ['https://billing.example/cb'],
  });
  expect(added.status).toBe(201);
  expect(added.body.secret).toBeTruthy();
  expect(added.body.client.secretHash).toBeUndefined();
  const list = await admin().get('/admin/clients');
  expect(list.body.map((c: { id: string }) => c.id)).toEqual(['billing-app', 'test-system']);
  expect(JSON.stringify(list.body)).not.toContain(added.body.secret);
  expect(
    (
      await admin().post('/admin/clients', {
        id: 'billing-app',
        type: 'symmetric',
        redirectUris: ['https://billing.example/cb'],
      })
    ).status,
  ).toBe(409);
  expect(
    (await admin().post('/admin/clients', { id: 'x', type: 'public', redirectUris: ['https://evil.example/cb#frag'] }))
      .status,
  ).toBe(400);
  expect((await admin().post('/admin/clients', [1, 2])).status).toBe(400);
  const malformed = await t.api().post('/admin/clients').set('Content-Type', 'application/json').send('{not json');
  expect(malformed.status).toBe(400);
  expect((await admin().delete('/admin/clients/billing-app')).status).toBe(200);
  expect((await admin().delete('/admin/clients/billing-app')).status).toBe(404);
});

test('users: add, list without secrets, disable, reset-totp', async () => {
  const added = await admin().post('/admin/users', {
    username: 'nurse.kim',
    role: 'nurse',
    password: 'a long enough password',
  });
  expect(added.status).toBe(201);
  expect(added.body.totpUri).toMatch(/^otpauth:/);
  const list = await admin().get('/admin/users');
  expect(list.body).toEqual([{ username: 'nurse.kim', role: 'nurse', disabled: false, secondFactor: ['totp'] }]);
  expect((await admin().post('/admin/users', { username: 'weak', role: 'nurse', password: 'short' })).status).toBe(400);
  expect((await admin().post('/admin/users/nurse.kim/disable')).body).toEqual({ disabled: 'nurse.kim' });
  expect((await admin().post('/admin/users/ghost/disable')).status).toBe(404);
  expect((await admin().post('/admin/users/nurse.kim/reset-totp')).body.totpUri).toMatch(/^otpauth:/);
  expect((await admin().post('/admin/keys/rotate')).body.kid).toBeTruthy();
  expect((await t.anonymous().get('/auth/jwks')).body.keys).toHaveLength(2);
});

test('only the admin scope may call it: no token 401, a non-admin token 403, unknown paths 404', async () => {
  const none = await request(t.app).get('/admin/users');
  expect(none.status).toBe(401);
  expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
  const { token } = await t.auth.tokens.issueAccessToken(
    { clientId: 'c', userId: 'dr', role: 'clinician', scope: 'user/*.cruds' },
    60_000,
  );
  expect((await request(t.app).get('/admin/users').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  expect((await request(t.app).post('/admin/clients').set('Authorization', `Bearer ${token}`).send({})).status).toBe(
    403,
  );
  expect((await admin().get('/admin/nothing')).status).toBe(404);
});

// The connected-apps page (SMART management_endpoint): a signed-in user sees the apps they allowed and revokes
// one; its tokens stop at once and its refresh token is refused. Another user's grant cannot be revoked.
import request from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.auth.users.add({
    username: 'pat.apps',
    role: 'patient',
    fhirUser: 'Patient/x1',
    password: 'a long enough password',
  });
});
afterAll(() => t.close());

async function signIn(): Promise<{ agent: ReturnType<typeof request.agent>; csrf: string }> {
  const agent = request.agent(t.app);
  const page = await agent.get('/auth/login');
  const loginCsrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
  const res = await agent
    .post('/auth/login')
    .type('form')
    .send({ csrf: loginCsrf, username: 'pat.apps', password: 'a long enough password' });
  expect(res.status).toBe(303);
  const status = await agent.get('/auth/login');
  return { agent, csrf: /name="csrf" value="([^"]+)"/.exec(status.text)?.[1] as string };
}

test('list and revoke: the token stops at once, the refresh token is refused', async () => {
  const context = {
    clientId: 'health-diary',
    userId: 'pat.apps',
    role: 'patient',
    fhirUser: 'Patient/x1',
    scope: 'patient/*.rs offline_access',
    patient: 'x1',
  };
  const grant = await t.auth.tokens.createGrant(context);
  const { token } = await t.auth.tokens.issueAccessToken(context, 600_000, grant.id);
  const refresh = await t.auth.tokens.issueRefreshToken(grant.id, context.scope, 600_000);
  const other = await t.auth.tokens.createGrant({ ...context, userId: 'someone-else' });
  expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${token}`)).status).toBe(200);

  const { agent, csrf } = await signIn();
  const page = await agent.get('/auth/apps');
  expect(page.status).toBe(200);
  expect(page.text).toContain('health-diary');
  expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  expect((await agent.post('/auth/apps/revoke').type('form').send({ grant: grant.id })).status).toBe(403);
  expect((await agent.post('/auth/apps/revoke').type('form').send({ csrf, grant: other.id })).status).toBe(303);
  expect((await t.auth.tokens.grant(other.id))?.revoked).toBe(false);
  const revoked = await agent.post('/auth/apps/revoke').type('form').send({ csrf, grant: grant.id });
  expect(revoked.headers.location).toBe('/auth/apps?done=revoked');
  expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  const refreshed = await request(t.app)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refresh });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe('invalid_grant');
  expect((await agent.get('/auth/apps')).text).toContain('No app has access');
});

test('without a signed-in session the page sends the browser to sign in', async () => {
  const res = await request(t.app).get('/auth/apps');
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/auth/login');
});

// Sign-in on the authorization pages (smart.md §5 row 25): one message for every failed password, TOTP for
// staff with replay refused, a new session id at each factor, cookie flags, idle logoff and sign-out.
import express from 'express';
import request from 'supertest';
import { mountAuthorizePages } from '../../../server/auth/pages/mount';
import { AuthService } from '../../../server/auth/service';
import { startTestApp, tempDir, testAuthSettings, type TestApp } from '../../support/app';
import {
  PASSWORD,
  authorize,
  authorizeParams,
  hidden,
  newClinician,
  pkce,
  postLogin,
  setUpWorld,
  signIn,
  totp,
  type Agent,
} from './authorize-support';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await setUpWorld(t);
});
afterAll(() => t.close());

function sessionCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('hms_session='));
}

async function loginPage(agent: Agent): Promise<string> {
  const step = await authorize(agent, authorizeParams(pkce().challenge));
  return (await agent.get(step)).text;
}

test('unknown user, wrong password and disabled account get the same answer', async () => {
  await t.auth.users.add({ username: 'gone', role: 'patient', password: PASSWORD });
  await t.auth.users.setDisabled('gone', true);
  const answers = [];
  for (const [username, password] of [
    ['nobody-here', PASSWORD],
    ['pat1', 'wrong password!'],
    ['gone', PASSWORD],
  ]) {
    const agent = request.agent(t.app);
    const res = await postLogin(agent, await loginPage(agent), username, password);
    expect(sessionCookie(res)).toBeUndefined();
    answers.push({ status: res.status, message: /<p class="error" role="alert">([^<]*)</.exec(res.text)?.[1] });
  }
  expect(answers).toEqual(Array(3).fill({ status: 401, message: 'Wrong username or password' }));
});

test('a staff sign-in needs TOTP; the session id changes at each factor; a used code is refused', async () => {
  const { username, secret } = await newClinician(t, 'clin-login');
  const agent = request.agent(t.app);
  agent.jar.setCookie('hms_session=fixated-by-an-attacker; Path=/auth', 'localhost', '/auth');
  const page = await loginPage(agent);
  const afterPassword = await postLogin(agent, page, username, PASSWORD);
  expect(afterPassword.status).toBe(303);
  const first = sessionCookie(afterPassword) as string;
  expect(first).toMatch(/^hms_session=[A-Za-z0-9_-]{43}; Path=\/auth; HttpOnly; SameSite=Lax$/);
  expect(first).not.toContain('fixated');

  const totpPage = await agent.get(afterPassword.headers.location);
  expect(totpPage.text).toContain('6-digit code');
  // No passkey enrolled: the code page offers none.
  expect(totpPage.text).not.toContain('id="passkey"');
  const form = { csrf: hidden(totpPage.text, 'csrf'), request: hidden(totpPage.text, 'request') };
  const wrong = await agent
    .post('/auth/login/totp')
    .type('form')
    .send({ ...form, code: '000000' });
  expect(wrong.status).toBe(401);
  const code = totp(secret);
  const ok = await agent
    .post('/auth/login/totp')
    .type('form')
    .send({ ...form, code });
  expect(ok.status).toBe(303);
  const second = sessionCookie(ok) as string;
  expect(second).toMatch(/^hms_session=/);
  expect(second).not.toBe(first);
  // The half-signed-in session is gone: its cookie alone shows the sign-in page.
  const stale = await request(t.app).get('/auth/login').set('Cookie', first.split(';')[0]);
  expect(stale.text).toContain('Sign in');

  // Sign in again and replay the same code: refused.
  const again = request.agent(t.app);
  const replayed = await postLogin(again, await loginPage(again), username, PASSWORD);
  const replayPage = await again.get(replayed.headers.location);
  const replay = await again
    .post('/auth/login/totp')
    .type('form')
    .send({ csrf: hidden(replayPage.text, 'csrf'), request: hidden(replayPage.text, 'request'), code });
  expect(replay.status).toBe(401);
  expect(replay.text).toContain('That code did not work');
  expect(sessionCookie(replay)).toBeUndefined();
});

test('the consent page is not reachable with only a password for a staff user', async () => {
  const { username } = await newClinician(t, 'clin-half');
  const agent = request.agent(t.app);
  const step = await authorize(agent, authorizeParams(pkce().challenge));
  const res = await postLogin(agent, (await agent.get(step)).text, username, PASSWORD);
  const page = await agent.get(res.headers.location);
  expect(page.text).toContain('6-digit code');
  const consent = await agent
    .post('/auth/consent')
    .type('form')
    .send({ csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), decision: 'allow' });
  expect(consent.status).toBe(200);
  expect(consent.headers.location).toBeUndefined();
  expect(consent.text).toContain('6-digit code');
});

test('the session ends after the idle timeout, not while in use', async () => {
  const agent = request.agent(t.app);
  await signIn(agent, '/auth/login', 'pat1');
  expect((await agent.get('/auth/login')).text).toContain('You are signed in');
  const start = Date.now();
  const clock = jest.spyOn(Date, 'now');
  try {
    clock.mockReturnValue(start + 14 * 60_000);
    expect((await agent.get('/auth/login')).text).toContain('You are signed in');
    clock.mockReturnValue(start + 28 * 60_000);
    expect((await agent.get('/auth/login')).text).toContain('You are signed in');
    clock.mockReturnValue(start + 43 * 60_000 + 1000);
    const expired = await agent.get('/auth/login');
    expect(expired.text).toContain('Sign in');
    expect(expired.text).not.toContain('You are signed in');
  } finally {
    clock.mockRestore();
  }
});

test('sign-out needs the session CSRF token and ends the session at once', async () => {
  const agent = request.agent(t.app);
  await signIn(agent, '/auth/login', 'pat1');
  const logoutPage = await agent.get('/auth/logout');
  expect(logoutPage.text).toContain('Sign out?');
  const forged = await agent.post('/auth/logout').type('form').send({ csrf: 'nope' });
  expect(forged.status).toBe(403);
  expect((await agent.get('/auth/login')).text).toContain('You are signed in');
  const out = await agent
    .post('/auth/logout')
    .type('form')
    .send({ csrf: hidden(logoutPage.text, 'csrf') });
  expect(out.text).toContain('You are signed out');
  expect(sessionCookie(out)).toMatch(/^hms_session=; Path=\/auth; Max-Age=0/);
  expect((await agent.get('/auth/login')).text).not.toContain('You are signed in');
});

test('cookies are Secure when the server is reached over https', async () => {
  const dir = tempDir();
  const auth = await AuthService.open(t.services.store, {
    ...testAuthSettings(dir),
    baseUrl: 'https://hms.example/fhir',
  });
  try {
    await auth.users.add({ username: 'pat-https', role: 'patient', password: PASSWORD });
    const app = express();
    mountAuthorizePages(app, { auth, services: t.services });
    const page = await request(app).get('/auth/login');
    const csrfCookie = ([] as string[]).concat(page.headers['set-cookie'] ?? [])[0];
    expect(csrfCookie).toMatch(/^hms_csrf=[A-Za-z0-9_-]+; Path=\/auth; HttpOnly; SameSite=Lax; Secure$/);
    const res = await request(app)
      .post('/auth/login')
      .set('Cookie', csrfCookie.split(';')[0])
      .type('form')
      .send({ csrf: hidden(page.text, 'csrf'), request: '', username: 'pat-https', password: PASSWORD });
    expect(res.status).toBe(303);
    expect(sessionCookie(res)).toMatch(/; Path=\/auth; HttpOnly; SameSite=Lax; Secure$/);
  } finally {
    await auth.close();
  }
});

// Passkeys through the API (the browser test drives the same endpoints with Chromium's virtual
// authenticator): enrolment needs a signed-in session and its CSRF token, and sign-in with a passkey refuses a
// missing session, a wrong CSRF token, a wrong challenge or origin, an unknown credential, a counter that did
// not go up and a locked account, and otherwise authenticates the session under a new id.
import request from 'supertest';
import { MAX_FAILED_LOGINS } from '../../../server/auth/users';
import { startTestApp, type TestApp } from '../../support/app';
import { PASSWORD, hidden, newClinician, postLogin, signIn, type Agent } from './authorize-support';
import { SoftAuthenticator, type Ceremony } from './passkey-authenticator';

const ORIGIN = 'http://localhost:8080';
const RP_ID = 'localhost';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** An agent whose session passed the password and the TOTP code. */
async function signedIn(username: string, secret: string): Promise<Agent> {
  const agent = request.agent(t.app);
  const page = await signIn(agent, '/auth/login', username, secret);
  expect(page.text).toContain('You are signed in');
  return agent;
}

/** An agent whose session passed the password only; returns the second-factor page too. */
async function passwordOnly(username: string): Promise<{ agent: Agent; page: string; cookie?: string }> {
  const agent = request.agent(t.app);
  const login = await agent.get('/auth/login');
  const res = await postLogin(agent, login.text, username, PASSWORD);
  expect(res.status).toBe(303);
  return { agent, page: (await agent.get(res.headers.location)).text, cookie: sessionCookie(res) };
}

function dataCsrf(page: string): string {
  const match = /data-csrf="([^"]+)"/.exec(page);
  if (!match) throw new Error(`No data-csrf in the page:\n${page}`);
  return match[1];
}

async function postJson(agent: Agent, url: string, csrf: string | undefined, body: Record<string, unknown> = {}) {
  const req = agent.post(url).set('Content-Type', 'application/json');
  if (csrf !== undefined) req.set('X-CSRF-Token', csrf);
  return req.send(JSON.stringify(body));
}

async function ceremony(agent: Agent, url: string, csrf: string): Promise<Ceremony> {
  const res = await postJson(agent, url, csrf);
  expect(res.status).toBe(200);
  return { challenge: res.body.challenge as string, origin: ORIGIN, rpId: RP_ID };
}

/** Enrols the authenticator for a signed-in agent through the API. */
async function enrol(agent: Agent, authenticator: SoftAuthenticator): Promise<void> {
  const csrf = dataCsrf((await agent.get('/auth/passkeys')).text);
  const options = await ceremony(agent, '/auth/passkeys/options', csrf);
  const res = await postJson(agent, '/auth/passkeys', csrf, { credential: authenticator.register(options) });
  expect(res.status).toBe(201);
  expect(res.body).toEqual({ redirect: '/auth/passkeys?done=added' });
}

function sessionCookie(res: request.Response): string | undefined {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('hms_session='));
}

test('the passkey page and its endpoints need a signed-in session and its CSRF token', async () => {
  const { username, secret } = await newClinician(t, 'pk-enrol');
  const anonymous = request.agent(t.app);
  expect((await anonymous.get('/auth/passkeys')).headers.location).toBe('/auth/login');
  expect((await postJson(anonymous, '/auth/passkeys/options', 'x')).status).toBe(401);
  expect((await postJson(anonymous, '/auth/passkeys', 'x', { credential: {} })).status).toBe(401);

  const pending = await passwordOnly(username);
  const pendingCsrf = hidden(pending.page, 'csrf');
  expect((await pending.agent.get('/auth/passkeys')).headers.location).toBe('/auth/login');
  expect((await postJson(pending.agent, '/auth/passkeys/options', pendingCsrf)).status).toBe(403);

  const agent = await signedIn(username, secret);
  const page = await agent.get('/auth/passkeys');
  expect(page.status).toBe(200);
  expect(page.text).toContain('You have no passkeys yet.');
  expect(page.text).toContain('<script src="/auth/assets/passkey.js" defer></script>');
  expect(page.headers['content-security-policy']).toContain("script-src 'self'; connect-src 'self'");
  expect(page.headers['content-security-policy']).not.toContain("unsafe-inline'; script");
  const csrf = dataCsrf(page.text);
  expect((await postJson(agent, '/auth/passkeys/options', undefined)).status).toBe(403);
  expect((await postJson(agent, '/auth/passkeys/options', `${csrf}x`)).status).toBe(403);

  const options = await postJson(agent, '/auth/passkeys/options', csrf);
  expect(options.body).toMatchObject({
    rp: { id: RP_ID, name: 'HMS' },
    user: { name: username },
    attestation: 'none',
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  expect(options.body.user.id).not.toContain(username);
  const authenticator = new SoftAuthenticator();
  const ceremonyOf = { challenge: options.body.challenge as string, origin: ORIGIN, rpId: RP_ID };
  const wrongOrigin = authenticator.register({ ...ceremonyOf, origin: 'http://evil.example' });
  const refused = await postJson(agent, '/auth/passkeys', csrf, { credential: wrongOrigin });
  expect(refused.status).toBe(400);
  const reused = await postJson(agent, '/auth/passkeys', csrf, { credential: authenticator.register(ceremonyOf) });
  expect(reused.status).toBe(400);
  expect(reused.body.error).toMatch(/expired/);
  expect((await t.auth.users.get(username))?.passkeys).toEqual([]);

  await enrol(agent, authenticator);
  const stored = (await t.auth.users.get(username))?.passkeys ?? [];
  expect(stored).toEqual([
    expect.objectContaining({
      id: authenticator.id,
      counter: 0,
      transports: ['internal'],
      createdAt: expect.any(Number),
    }),
  ]);
  const listed = await agent.get('/auth/passkeys?done=added');
  expect(listed.text).toContain('Your passkey was added.');
  expect(listed.text).toContain('Passkey 1');
  expect((await agent.get('/auth/passkeys?done=constructor')).text).not.toContain('function');

  const again = await ceremony(agent, '/auth/passkeys/options', csrf);
  const duplicate = await postJson(agent, '/auth/passkeys', csrf, { credential: authenticator.register(again) });
  expect(duplicate.status).toBe(409);
});

test('a passkey replaces the TOTP code as second factor; the session id changes', async () => {
  const { username, secret } = await newClinician(t, 'pk-login');
  const authenticator = new SoftAuthenticator();
  await enrol(await signedIn(username, secret), authenticator);

  const { agent, page, cookie } = await passwordOnly(username);
  expect(page).toContain('Use a passkey');
  expect(page).toContain('6-digit code');
  expect(page).toContain('data-mode="login"');
  const csrf = dataCsrf(page);
  expect(hidden(page, 'csrf')).toBe(csrf);
  const options = await postJson(agent, '/auth/login/passkey/options', csrf, { request: '' });
  expect(options.body).toMatchObject({
    rpId: RP_ID,
    userVerification: 'preferred',
    allowCredentials: [{ id: authenticator.id, type: 'public-key', transports: ['internal'] }],
  });
  const res = await postJson(agent, '/auth/login/passkey', csrf, {
    request: '',
    credential: authenticator.authenticate({ challenge: options.body.challenge, origin: ORIGIN, rpId: RP_ID }),
  });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ redirect: '/auth/login' });
  expect(sessionCookie(res)).toMatch(/^hms_session=[A-Za-z0-9_-]{43}; Path=\/auth; HttpOnly; SameSite=Lax$/);
  expect(sessionCookie(res)).not.toBe(cookie);
  expect(cookie).toBeDefined();
  expect((await agent.get('/auth/login')).text).toContain('You are signed in');
  const user = await t.auth.users.get(username);
  expect(user?.passkeys[0]).toMatchObject({ counter: 1, lastUsedAt: expect.any(Number) });
  expect(user?.failedLogins).toBe(0);

  const patient = await t.auth.users.add({ username: 'pk-patient', role: 'patient', password: PASSWORD });
  expect((await passwordOnly('pk-patient')).page).toContain('You are signed in');
  await t.auth.users.save({ ...patient.user, passkeys: user?.passkeys ?? [] });
  const patientStep = (await passwordOnly('pk-patient')).page;
  expect(patientStep).toContain('Use a passkey');
  expect(patientStep).not.toContain('6-digit code');
});

test('sign-in refuses no session, a wrong CSRF token, challenge or credential, and a replayed counter', async () => {
  const { username, secret } = await newClinician(t, 'pk-refuse');
  const authenticator = new SoftAuthenticator();
  await enrol(await signedIn(username, secret), authenticator);
  const { agent, page } = await passwordOnly(username);
  const csrf = dataCsrf(page);

  expect((await postJson(request.agent(t.app), '/auth/login/passkey/options', csrf)).status).toBe(401);
  expect((await postJson(request.agent(t.app), '/auth/login/passkey', csrf, { credential: {} })).status).toBe(401);
  expect((await postJson(agent, '/auth/login/passkey/options', 'wrong')).status).toBe(403);
  expect((await postJson(agent, '/auth/login/passkey', undefined, { credential: {} })).status).toBe(403);
  const noChallenge = await postJson(agent, '/auth/login/passkey', csrf, {
    credential: authenticator.authenticate({ challenge: 'never-issued', origin: ORIGIN, rpId: RP_ID }),
  });
  expect(noChallenge.status).toBe(400);

  const attempt = async (credential: (c: Ceremony) => Record<string, unknown>) => {
    const c = await ceremony(agent, '/auth/login/passkey/options', csrf);
    return postJson(agent, '/auth/login/passkey', csrf, { credential: credential(c) });
  };
  const wrongChallenge = await attempt((c) => authenticator.authenticate({ ...c, challenge: 'AAAA' }));
  expect(wrongChallenge.status).toBe(401);
  const unknown = await attempt((c) => new SoftAuthenticator().authenticate(c));
  expect(unknown.status).toBe(401);
  expect((await t.auth.users.get(username))?.failedLogins).toBe(2);
  const ok = await attempt((c) => authenticator.authenticate(c));
  expect(ok.status).toBe(200);
  expect((await t.auth.users.get(username))?.failedLogins).toBe(0);

  const second = await passwordOnly(username);
  const secondCsrf = dataCsrf(second.page);
  const c = await ceremony(second.agent, '/auth/login/passkey/options', secondCsrf);
  const replay = await postJson(second.agent, '/auth/login/passkey', secondCsrf, {
    credential: authenticator.authenticate(c, { sameCounter: true }),
  });
  expect(replay.status).toBe(401);
  expect((await second.agent.get('/auth/login')).text).not.toContain('You are signed in');
});

test('passkey failures count towards the lockout; a locked account is refused even with its passkey', async () => {
  const { username, secret } = await newClinician(t, 'pk-lock');
  const authenticator = new SoftAuthenticator();
  await enrol(await signedIn(username, secret), authenticator);
  const { agent, page } = await passwordOnly(username);
  const csrf = dataCsrf(page);
  for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
    const c = await ceremony(agent, '/auth/login/passkey/options', csrf);
    const res = await postJson(agent, '/auth/login/passkey', csrf, {
      credential: new SoftAuthenticator().authenticate(c),
    });
    expect(res.status).toBe(401);
  }
  expect((await t.auth.users.get(username))?.lockedUntil).toBeGreaterThan(Date.now());
  const c = await ceremony(agent, '/auth/login/passkey/options', csrf);
  const locked = await postJson(agent, '/auth/login/passkey', csrf, { credential: authenticator.authenticate(c) });
  expect(locked.status).toBe(401);
});

test('passkeys can be removed with the CSRF token; the script is served as JavaScript', async () => {
  const { username, secret } = await newClinician(t, 'pk-remove');
  const agent = await signedIn(username, secret);
  const authenticator = new SoftAuthenticator();
  await enrol(agent, authenticator);
  const page = (await agent.get('/auth/passkeys')).text;
  const form = { csrf: hidden(page, 'csrf'), id: hidden(page, 'id') };
  expect(
    (
      await agent
        .post('/auth/passkeys/remove')
        .type('form')
        .send({ ...form, csrf: 'x' })
    ).status,
  ).toBe(403);
  const removed = await agent.post('/auth/passkeys/remove').type('form').send(form);
  expect(removed.headers.location).toBe('/auth/passkeys?done=removed');
  expect((await t.auth.users.get(username))?.passkeys).toEqual([]);

  const script = await request(t.app).get('/auth/assets/passkey.js');
  expect(script.status).toBe(200);
  expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(script.headers['x-content-type-options']).toBe('nosniff');
  expect(script.text).toContain('navigator.credentials');
});

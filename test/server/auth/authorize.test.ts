// The authorization endpoint and its pages end to end: a patient's and a clinician's standalone launches
// through sign-in, consent (one scope deselected) and the token endpoint, and the attacks of smart.md §5
// rows 15-19 on them (redirect URIs, codes, PKCE, CSRF and clickjacking, aud).
import express from 'express';
import request from 'supertest';
import { mountAuthorizePages } from '../../../server/auth/pages/mount';
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';
import {
  REDIRECT_URI,
  authorize,
  authorizeParams,
  consent,
  exchange,
  formOf,
  hidden,
  newClinician,
  patientCode,
  pkce,
  scopesOffered,
  setUpWorld,
  signIn,
  type World,
} from './authorize-support';

let t: TestApp;
let world: World;
beforeAll(async () => {
  t = await startTestApp();
  world = await setUpWorld(t);
});
afterAll(() => t.close());

function expectPageHeaders(res: request.Response): void {
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cache-control']).toBe('no-store');
}

test('a patient launches standalone, deselects a scope, and gets a token for their own record only', async () => {
  const agent = request.agent(t.app);
  const { verifier, challenge } = pkce();
  const scope = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs';
  const step = await authorize(agent, authorizeParams(challenge, { scope, nonce: 'n-1' }));
  const page = await signIn(agent, step, 'pat1');
  expect(page.status).toBe(200);
  expectPageHeaders(page);
  expect(page.headers['content-security-policy']).toContain("form-action 'self' http://127.0.0.1:9");
  expect(page.text).toContain('<html lang="en">');
  expect(scopesOffered(page.text)).toEqual(scope.split(' '));
  expect(page.text).toContain('Read and search your test results, vital signs and other measurements');
  expect(page.text).toContain('This app will keep access until you revoke it, even when you are not using it.');

  const url = await consent(agent, page.text, { untick: ['patient/Observation.rs'] });
  expect(url.origin + url.pathname).toBe(REDIRECT_URI);
  expect(url.searchParams.get('state')).toBe('state-123');
  expect(url.searchParams.get('iss')).toBe(BASE_URL);
  const code = url.searchParams.get('code') as string;

  const token = await exchange(t.app, code, verifier);
  expect(token.status).toBe(200);
  expect(token.body.scope).toBe('launch/patient openid fhirUser offline_access patient/Patient.rs');
  expect(token.body.patient).toBe(world.p1);
  expect(token.body.need_patient_banner).toBe(true);
  expect(token.body.refresh_token).toEqual(expect.any(String));
  expect(token.body.id_token).toEqual(expect.any(String));
  const bearer = `Bearer ${token.body.access_token}`;
  expect((await request(t.app).get(`/fhir/Patient/${world.p1}`).set('Authorization', bearer)).status).toBe(200);
  expect((await request(t.app).get(`/fhir/Patient/${world.p2}`).set('Authorization', bearer)).status).toBe(404);
  const observations = await request(t.app).get(`/fhir/Observation?patient=${world.p1}`).set('Authorization', bearer);
  expect(observations.status).toBe(403);
});

test('a clinician signs in with TOTP, picks a patient by family name and gets that patient context', async () => {
  const { username, secret } = await newClinician(t, 'clin-picker');
  // The pages with the repository services the picker searches (the app's own mount passes them too).
  const pages = express();
  mountAuthorizePages(pages, { auth: t.auth, services: t.services });
  const agent = request.agent(pages);
  const { verifier, challenge } = pkce();
  const step = await authorize(agent, authorizeParams(challenge));
  const picker = await signIn(agent, step, username, secret);
  expect(picker.text).toContain('Choose a patient');
  expectPageHeaders(picker);
  const csrf = hidden(picker.text, 'csrf');
  const requestId = hidden(picker.text, 'request');
  const results = await agent.post('/auth/patient').type('form').send({ csrf, request: requestId, family: 'alpha' });
  expect(results.status).toBe(200);
  expect(results.text).toContain(`Ann Alpha, born 1980-02-03 (Patient/${world.p1})`);
  expect(results.text).not.toContain(world.p2);
  const unknown = await agent.post('/auth/patient').type('form').send({ csrf, request: requestId, patient: 'nope' });
  expect(unknown.text).toContain('That patient record could not be opened.');
  const chosen = await agent.post('/auth/patient').type('form').send({ csrf, request: requestId, patient: world.p1 });
  expect(chosen.status).toBe(303);
  const page = await agent.get(chosen.headers.location);
  expect(page.text).toContain(`Patient/${world.p1}`);
  expect(page.text).toContain('Read and search the patient&#39;s health records');
  const url = await consent(agent, page.text);
  const token = await exchange(t.app, url.searchParams.get('code') as string, verifier);
  expect(token.status).toBe(200);
  expect(token.body).toMatchObject({ patient: world.p1, scope: 'launch/patient openid fhirUser patient/*.rs' });
});

test('Deny sends access_denied with the state; nothing is granted beyond the client ceiling and the role', async () => {
  const agent = request.agent(t.app);
  const { challenge } = pkce();
  const scope = 'launch/patient patient/*.rs user/*.cruds admin system/*.rs';
  const step = await authorize(agent, authorizeParams(challenge, { scope }));
  const page = await signIn(agent, step, 'pat1');
  expect(scopesOffered(page.text)).toEqual(['launch/patient', 'patient/*.rs']);
  const url = await consent(agent, page.text, { decision: 'deny' });
  expect(Object.fromEntries(url.searchParams)).toMatchObject({ error: 'access_denied', state: 'state-123' });
  expect(url.searchParams.has('code')).toBe(false);
});

describe('row 15: redirect_uri and client checks come first and never redirect', () => {
  beforeAll(async () => {
    await t.auth.clients.add({ id: 'registered-app', type: 'public', redirectUris: ['https://app.example/cb'] });
  });
  const variants = [
    'https://app.example/cb/../x',
    'https://app.example/cbx',
    'https://app.example/cb?x=1',
    'https://app.example@evil.example/cb',
    'https://evil.example/cb',
    'http://app.example/cb',
    'https://app.example/cb/',
    'https://APP.example/cb',
  ];
  test.each(variants)('redirect_uri %s ⇒ 400 page without Location', async (redirectUri) => {
    const { challenge } = pkce();
    const params = authorizeParams(challenge, { client_id: 'registered-app', redirect_uri: redirectUri });
    for (const res of [
      await request(t.app).get('/auth/authorize').query(params),
      await request(t.app).post('/auth/authorize').type('form').send(params),
    ]) {
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expectPageHeaders(res);
    }
  });
  test('unknown client, missing or repeated redirect_uri ⇒ 400 page without Location', async () => {
    const { challenge } = pkce();
    const cases = [
      authorizeParams(challenge, { client_id: 'no-such-app' }),
      authorizeParams(challenge, { client_id: 'test-system' }),
      authorizeParams(challenge, { redirect_uri: undefined }),
      authorizeParams(challenge, { client_id: undefined }),
    ];
    for (const params of cases) {
      const res = await request(t.app).get('/auth/authorize').query(params);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
    const repeated = `${formOf(Object.entries(authorizeParams(challenge)))}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
    const res = await request(t.app).get(`/auth/authorize?${repeated}`);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('errors after the client checks go back to the app (RFC 6749 4.1.2.1)', () => {
  async function errorOf(overrides: Record<string, string | undefined>, post = false): Promise<URL> {
    const { challenge } = pkce();
    const params = authorizeParams(challenge, overrides);
    const res = post
      ? await request(t.app).post('/auth/authorize').type('form').send(params)
      : await request(t.app).get('/auth/authorize').query(params);
    expect(res.status).toBe(303);
    const url = new URL(res.headers.location);
    expect(url.origin + url.pathname).toBe(REDIRECT_URI);
    expect(url.searchParams.has('code')).toBe(false);
    return url;
  }
  test.each([
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ response_type: undefined }, 'invalid_request'],
    [{ aud: 'https://evil/fhir' }, 'invalid_request'],
    [{ aud: undefined }, 'invalid_request'],
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ code_challenge: 'short' }, 'invalid_request'],
    [{ scope: undefined }, 'invalid_scope'],
    [{ launch: 'made-up-launch-handle' }, 'invalid_request'],
  ])('%j ⇒ %s with the state', async (overrides, error) => {
    for (const post of [false, true]) {
      const url = await errorOf(overrides, post);
      expect(url.searchParams.get('error')).toBe(error);
      expect(url.searchParams.get('state')).toBe('state-123');
      expect(url.searchParams.get('iss')).toBe(BASE_URL);
    }
  });
  test('a missing state is an error; an odd state is echoed verbatim', async () => {
    const missing = await errorOf({ state: undefined, aud: 'https://evil/fhir' });
    expect(missing.searchParams.get('error')).toBe('invalid_request');
    expect(missing.searchParams.has('state')).toBe(false);
    const noState = await errorOf({ state: undefined });
    expect(noState.searchParams.get('error')).toBe('invalid_request');
    const odd = 'a b&c=d/é?<x>"\'';
    expect((await errorOf({ state: odd, aud: 'https://evil/fhir' })).searchParams.get('state')).toBe(odd);
    const { code } = await patientCode(t, { state: odd });
    expect(code).toBeTruthy();
  });
  test('aud with a trailing slash is the same base', async () => {
    const { code } = await patientCode(t, { aud: `${BASE_URL}/` });
    expect(code).toBeTruthy();
  });
});

describe('row 16: code attacks', () => {
  test('a replayed code ⇒ invalid_grant, and the token issued from it becomes inactive', async () => {
    const { code, verifier } = await patientCode(t);
    const first = await exchange(t.app, code, verifier);
    expect(first.status).toBe(200);
    const replay = await exchange(t.app, code, verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const introspection = await t.api().post('/auth/introspect').type('form').send({ token: first.body.access_token });
    expect(introspection.status).toBe(200);
    expect(introspection.body).toEqual({ active: false });
  });
  test("another client's code ⇒ 400/401; a code older than 60 s ⇒ 400", async () => {
    await t.auth.clients.add({ id: 'other-app', type: 'public', redirectUris: [REDIRECT_URI] });
    const stolen = await patientCode(t);
    const res = await exchange(t.app, stolen.code, stolen.verifier, 'other-app');
    expect([400, 401]).toContain(res.status);
    const old = await patientCode(t);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      const late = await exchange(t.app, old.code, old.verifier);
      expect(late.status).toBe(400);
      expect(late.body.error).toBe('invalid_grant');
    } finally {
      clock.mockRestore();
    }
  });
});

test('row 17: a verifier missing, blank, wrong or equal to the challenge ⇒ 400', async () => {
  for (const bad of [undefined, '', 'x'.repeat(64), 'challenge']) {
    const agent = request.agent(t.app);
    const { challenge } = pkce();
    const step = await authorize(agent, authorizeParams(challenge));
    const page = await signIn(agent, step, 'pat1');
    const code = (await consent(agent, page.text)).searchParams.get('code') as string;
    const res = await exchange(t.app, code, bad === 'challenge' ? challenge : bad);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/invalid_grant|invalid_request/);
  }
});

test('row 18: consent without or with a wrong CSRF token ⇒ 403, and nothing is issued', async () => {
  const agent = request.agent(t.app);
  const { challenge } = pkce();
  const step = await authorize(agent, authorizeParams(challenge));
  const page = await signIn(agent, step, 'pat1');
  const requestId = hidden(page.text, 'request');
  for (const csrf of [undefined, '', 'forged-token']) {
    const res = await agent
      .post('/auth/consent')
      .type('form')
      .send({ request: requestId, scope: 'patient/*.rs', decision: 'allow', ...(csrf !== undefined ? { csrf } : {}) });
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    expectPageHeaders(res);
  }
  const url = await consent(agent, page.text);
  expect(url.searchParams.get('code')).toBeTruthy();
  const again = await agent
    .post('/auth/consent')
    .type('form')
    .send({ csrf: hidden(page.text, 'csrf'), request: requestId, scope: 'patient/*.rs', decision: 'allow' });
  expect(again.status).toBe(400);
  expect(again.headers.location).toBeUndefined();
});

test('the login form needs its double-submit CSRF cookie', async () => {
  const agent = request.agent(t.app);
  const { challenge } = pkce();
  const step = await authorize(agent, authorizeParams(challenge));
  const page = await agent.get(step);
  const res = await request(t.app)
    .post('/auth/login')
    .type('form')
    .send({ csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), username: 'pat1', password: 'x' });
  expect(res.status).toBe(403);
  expect(res.headers['set-cookie']).toBeUndefined();
});

test('an unknown or expired request id shows our page, not a redirect', async () => {
  const res = await request(t.app).get('/auth/authorize/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  expect(res.status).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.text).toContain('This sign-in has expired');
});

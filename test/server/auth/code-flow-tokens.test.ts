// What an app gets from a code: the Inferno OpenID Connect checks on the id_token (RS256, kid, aud = client,
// iss, sub, exp, iat, nonce, fhirUser readable with the token), refresh with and without scope (narrower
// allowed, wider invalid_scope, a rotated token reused revokes the grant), and introspection of a user token.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';
import { CLIENT_ID, exchange, patientCode, setUpWorld, type World } from './authorize-support';
import { listen } from '../../support/chromium';

let t: TestApp;
let world: World;
const SCOPE = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs';

beforeAll(async () => {
  t = await startTestApp();
  world = await setUpWorld(t);
});
afterAll(() => t.close());

async function tokens(): Promise<Record<string, string>> {
  const { code, verifier } = await patientCode(t, { scope: SCOPE, nonce: 'nonce-42' });
  const res = await exchange(t.app, code, verifier);
  expect(res.status).toBe(200);
  return res.body as Record<string, string>;
}

const refresh = (refreshToken: string, scope?: string) =>
  request(t.app)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope ? { scope } : {}) });

test('the id_token verifies against the published JWKS and carries the claims Inferno checks', async () => {
  const body = await tokens();
  const header = decodeProtectedHeader(body.id_token);
  expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
  expect(header.kid).toBeTruthy();
  // The JWKS as a client fetches it: over HTTP from jwks_uri.
  const server = await listen(t.app);
  try {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/auth/jwks`));
    const { payload } = await jwtVerify(body.id_token, jwks, {
      issuer: BASE_URL,
      audience: CLIENT_ID,
      algorithms: ['RS256'],
      clockTolerance: 60,
    });
    expect(payload).toMatchObject({ sub: 'pat1', nonce: 'nonce-42', fhirUser: `${BASE_URL}/Patient/${world.p1}` });
    expect((payload.sub as string).length).toBeLessThan(256);
    expect(payload.exp).toBeGreaterThan(payload.iat as number);
    const fhirUser = (payload.fhirUser as string).slice(BASE_URL.length);
    expect(
      (await request(t.app).get(`/fhir${fhirUser}`).set('Authorization', `Bearer ${body.access_token}`)).status,
    ).toBe(200);
  } finally {
    await server.close();
  }
});

test('refresh: same scope, narrower scope, wider scope refused; no-store; the old token cannot be reused', async () => {
  const body = await tokens();
  const same = await refresh(body.refresh_token);
  expect(same.status).toBe(200);
  expect(same.headers['cache-control']).toBe('no-store');
  expect(same.body).toMatchObject({ token_type: 'Bearer', scope: SCOPE, patient: world.p1 });
  expect(same.body.refresh_token).not.toBe(body.refresh_token);

  const narrower = await refresh(same.body.refresh_token, 'patient/Patient.rs');
  expect(narrower.status).toBe(200);
  expect(narrower.body.scope).toBe('patient/Patient.rs');
  const narrowBearer = `Bearer ${narrower.body.access_token}`;
  expect((await request(t.app).get('/fhir/Observation').set('Authorization', narrowBearer)).status).toBe(403);

  const wider = await refresh(narrower.body.refresh_token, `${SCOPE} patient/Condition.rs`);
  expect(wider.status).toBe(400);
  expect(wider.body.error).toBe('invalid_scope');

  // The rotated-out token used again: the whole grant is revoked, the newest tokens included.
  const reused = await refresh(body.refresh_token);
  expect(reused.status).toBe(400);
  expect(reused.body.error).toBe('invalid_grant');
  expect((await request(t.app).get(`/fhir/Patient/${world.p1}`).set('Authorization', narrowBearer)).status).toBe(401);
  expect((await refresh(narrower.body.refresh_token)).status).toBe(400);
  expect((await refresh('a-random-refresh-token')).status).toBe(400);
});

test('introspection of a user token: active with launch context and the id_token subject; inactive after revocation', async () => {
  const body = await tokens();
  const introspect = (token: string) =>
    request(t.app).post('/auth/introspect').type('form').set('Authorization', `Bearer ${t.token}`).send({ token });
  const active = await introspect(body.access_token);
  expect(active.body).toMatchObject({
    active: true,
    client_id: CLIENT_ID,
    scope: SCOPE,
    patient: world.p1,
    iss: BASE_URL,
    sub: 'pat1',
    fhirUser: `${BASE_URL}/Patient/${world.p1}`,
  });
  expect(active.body.exp).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 600);
  // Revoking the refresh token revokes the grant: the access token goes with it.
  expect(
    (await request(t.app).post('/auth/revoke').type('form').send({ token: body.refresh_token, client_id: CLIENT_ID }))
      .status,
  ).toBe(200);
  expect((await introspect(body.access_token)).body).toEqual({ active: false });
  expect((await refresh(body.refresh_token)).status).toBe(400);
});

// Backend services (client_credentials + private_key_jwt), client authentication and token lifecycle: the
// Inferno backend-services checks with their exact statuses, and the attacks on client assertions and
// tokens it does not try (jti replay, exp too far ahead, alg confusion, injected keys, revocation).
import crypto from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { backendKey, clientAssertion, registerBackendClient, type BackendKey } from '../../support/tokens';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let t: TestApp;
let es: BackendKey;
let rs: BackendKey;

beforeAll(async () => {
  t = await startTestApp();
  es = await backendKey('ES384');
  rs = await backendKey('RS384');
  await t.auth.clients.add({
    id: 'payer',
    type: 'backend',
    jwks: { keys: [es.publicJwk, rs.publicJwk] },
    scope: 'system/Patient.rs system/Observation.rs system/Claim.cruds',
  });
});
afterAll(() => t.close());

const token = (form: Record<string, string>, basic?: string) => {
  const req = request(t.app).post('/auth/token').type('form');
  if (basic) req.set('Authorization', `Basic ${Buffer.from(basic).toString('base64')}`);
  return req.send(form);
};

const backendForm = async (overrides: Record<string, string> = {}, key = es) => ({
  grant_type: 'client_credentials',
  scope: 'system/Patient.rs',
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: await clientAssertion(t.auth, 'payer', key),
  ...overrides,
});

describe('Inferno backend services authorization', () => {
  test('success with ES384 and RS384: bearer token, numeric expires_in <= 300, scope, no-store', async () => {
    for (const key of [es, rs]) {
      const res = await token(await backendForm({}, key));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs' });
      expect(typeof res.body.access_token).toBe('string');
      expect(res.body.expires_in).toBeLessThanOrEqual(300);
      expect(res.body.refresh_token).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
    }
  });

  test('invalid grant_type is 400 unsupported_grant_type', async () => {
    const res = await token(await backendForm({ grant_type: 'not_a_grant_type' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  test('invalid client_assertion_type is 400 or 401 invalid_client', async () => {
    const res = await token(await backendForm({ client_assertion_type: 'not_an_assertion_type' }));
    expect([400, 401]).toContain(res.status);
    expect(res.body.error).toBe('invalid_client');
  });

  test('an assertion with iss not_a_valid_iss is 400 or 401', async () => {
    const assertion = await clientAssertion(t.auth, 'payer', es, { claims: { iss: 'not_a_valid_iss' } });
    const res = await token(await backendForm({ client_assertion: assertion }));
    expect([400, 401]).toContain(res.status);
  });

  test('a token from it reads what it was granted and nothing else; $export without a token is 401', async () => {
    const access = (await token(await backendForm())).body.access_token as string;
    const bearer = `Bearer ${access}`;
    expect((await request(t.app).get('/fhir/Patient').set('Authorization', bearer)).status).toBe(200);
    const denied = await request(t.app).get('/fhir/Condition').set('Authorization', bearer);
    expect(denied.status).toBe(403);
    expect(denied.body.issue[0].code).toBe('forbidden');
    expect(
      (
        await request(t.app)
          .post('/fhir/Patient')
          .set('Authorization', bearer)
          .set('Content-Type', 'application/fhir+json')
          .send({ resourceType: 'Patient' })
      ).status,
    ).toBe(403);
    expect((await request(t.app).post('/fhir/$reindex').set('Authorization', bearer)).status).toBe(403);
    expect((await request(t.app).get('/fhir/Patient/$export')).status).toBe(401);
  });
});

describe('client assertion attacks are invalid_client (401)', () => {
  const rejected = async (assertion: string, extra: Record<string, string> = {}) => {
    const res = await token(await backendForm({ client_assertion: assertion, ...extra }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  };

  test('a replayed jti', async () => {
    const assertion = await clientAssertion(t.auth, 'payer', es);
    expect((await token(await backendForm({ client_assertion: assertion }))).status).toBe(200);
    await rejected(assertion);
  });

  test('exp an hour ahead, expired, wrong aud, iss != sub, no jti', async () => {
    await rejected(await clientAssertion(t.auth, 'payer', es, { expiresIn: 3600 }));
    await rejected(await clientAssertion(t.auth, 'payer', es, { expiresIn: -120 }));
    await rejected(await clientAssertion(t.auth, 'payer', es, { claims: { aud: 'https://evil.example/token' } }));
    await rejected(await clientAssertion(t.auth, 'payer', es, { claims: { sub: 'someone-else' } }));
    await rejected(await clientAssertion(t.auth, 'payer', es, { claims: { jti: undefined } }));
  });

  test('alg none, HS256 keyed with a public key, an unlisted algorithm (RS256), an unknown kid', async () => {
    const claims = {
      iss: 'payer',
      sub: 'payer',
      aud: t.auth.tokenUrl,
      jti: crypto.randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await rejected(`${b64({ alg: 'none', kid: es.kid, typ: 'JWT' })}.${b64(claims)}.`);
    const hmacKey = new TextEncoder().encode(JSON.stringify(rs.publicJwk));
    await rejected(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rs.kid }).sign(hmacKey));
    const rs256 = await generateKeyPair('RS256');
    await rejected(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: rs.kid }).sign(rs256.privateKey));
    await rejected(await clientAssertion(t.auth, 'payer', es, { header: { kid: 'unknown-kid' } }));
  });

  test('an assertion signed by another key that it carries itself (jwk) or points to (jku)', async () => {
    const attacker = await generateKeyPair('ES384', { extractable: true });
    const jwk = await exportJWK(attacker.publicKey);
    const claims = { jti: crypto.randomUUID() };
    const forged = (header: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES384', kid: es.kid, typ: 'JWT', ...header })
        .setIssuer('payer')
        .setSubject('payer')
        .setAudience(t.auth.tokenUrl)
        .setExpirationTime('2m')
        .sign(attacker.privateKey);
    await rejected(await forged({ jwk }));
    await rejected(await forged({ jku: 'https://evil.example/jwks.json' }));
    await rejected(await forged({}));
  });

  test('scope beyond what the client was registered for is invalid_scope', async () => {
    const res = await token(await backendForm({ scope: 'system/Condition.rs' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    const userScope = await token(await backendForm({ scope: 'user/Patient.rs' }));
    expect(userScope.body.error).toBe('invalid_scope');
  });
});

describe('symmetric clients, introspection and revocation', () => {
  let secret: string;
  beforeAll(async () => {
    ({ secret } = (await t.auth.clients.add({
      id: 'ehr-app',
      type: 'symmetric',
      redirectUris: ['https://app.example/cb'],
    })) as { secret: string });
  });

  test('a wrong secret, an unknown client and a public client pretending are invalid_client', async () => {
    const wrong = await token(
      { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example/cb' },
      'ehr-app:wrong',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
    const unknown = await token(
      { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example/cb' },
      `nobody:${secret}`,
    );
    expect(unknown.status).toBe(401);
    const noSecret = await token({ grant_type: 'authorization_code', code: 'x', client_id: 'ehr-app' });
    expect(noSecret.status).toBe(401);
  });

  test('a bad code is exactly 400 invalid_grant; client_credentials is not for apps', async () => {
    const bad = await token(
      {
        grant_type: 'authorization_code',
        code: 'BAD_CODE',
        redirect_uri: 'https://app.example/cb',
        code_verifier: 'x'.repeat(43),
      },
      `ehr-app:${secret}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_grant');
    const cc = await token({ grant_type: 'client_credentials', scope: 'system/Patient.rs' }, `ehr-app:${secret}`);
    expect(cc.status).toBe(400);
    expect(cc.body.error).toBe('unauthorized_client');
  });

  test('introspection: active token with its fields, unknown token inactive and nothing else; revocation ends it', async () => {
    const access = (await token(await backendForm())).body.access_token as string;
    const introspect = (tokenValue: string) =>
      request(t.app)
        .post('/auth/introspect')
        .type('form')
        .set('Authorization', `Basic ${Buffer.from(`ehr-app:${secret}`).toString('base64')}`)
        .send({ token: tokenValue });
    const active = await introspect(access);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, client_id: 'payer', scope: 'system/Patient.rs' });
    expect(active.body.exp).toBeGreaterThan(Date.now() / 1000);
    const inactive = await introspect('invalid_token_value');
    expect(inactive.status).toBe(200);
    expect(inactive.body).toEqual({ active: false });
    const unauthenticated = await request(t.app).post('/auth/introspect').type('form').send({ token: access });
    expect(unauthenticated.status).toBe(401);

    expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    const revoked = await request(t.app).post('/auth/revoke').type('form').send({ token: access, client_id: 'nobody' });
    expect(revoked.status).toBe(401);
    const revokedByOwner = await request(t.app)
      .post('/auth/revoke')
      .type('form')
      .send({
        token: access,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(t.auth, 'payer', es),
      });
    expect(revokedByOwner.status).toBe(200);
    expect((await request(t.app).get('/fhir/Patient').set('Authorization', `Bearer ${access}`)).status).toBe(401);
    expect((await introspect(access)).body).toEqual({ active: false });
    expect(
      (await request(t.app).post('/auth/revoke').type('form').send({ token: 'never-issued', client_id: 'x' })).status,
    ).toBe(401);
  });

  test('malformed requests are OAuth errors, never 500: JSON body, repeated parameters, oversize', async () => {
    const json = await request(t.app)
      .post('/auth/token')
      .set('Content-Type', 'application/json')
      .send({ grant_type: 'client_credentials' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const repeated = await request(t.app)
      .post('/auth/token')
      .type('form')
      .send('grant_type=client_credentials&grant_type=refresh_token');
    expect(repeated.status).toBe(400);
    const big = await request(t.app)
      .post('/auth/token')
      .type('form')
      .send(`grant_type=${'x'.repeat(70_000)}`);
    expect(big.status).toBe(400);
    const missing = await token({});
    expect(missing.body.error).toBe('invalid_request');
  });
});

test('a backend client registered through the registry rejects an inline private key', async () => {
  const k = await backendKey();
  await expect(
    registerBackendClient(t.auth, 'leaky', { ...k, publicJwk: { ...k.publicJwk, d: 'secret' } }, 'system/*.rs'),
  ).rejects.toThrow(/private key/);
});

test('a backend client registered without keys cannot use the token endpoint', async () => {
  await t.auth.clients.add({ id: 'scripts', type: 'backend', scope: 'system/*.rs' });
  const key = await backendKey();
  const res = await token({
    grant_type: 'client_credentials',
    scope: 'system/Patient.rs',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(t.auth, 'scripts', key),
  });
  expect(res.status).toBe(401);
  expect(res.body.error).toBe('invalid_client');
});

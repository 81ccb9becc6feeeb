// Discovery: the SMART configuration, the OpenID configuration, the JWKS and the CapabilityStatement's
// oauth-uris agree with each other and advertise only what works (Inferno discovery groups, STU1 and STU2).
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test('smart-configuration: public JSON with absolute endpoints, S256 only, the capabilities we support', async () => {
  const res = await t
    .anonymous()
    .get('/fhir/.well-known/smart-configuration')
    .set('Accept', 'text/html')
    .set('Origin', 'https://x.example');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['access-control-allow-origin']).toBe('*');
  const config = res.body;
  for (const key of [
    'authorization_endpoint',
    'token_endpoint',
    'introspection_endpoint',
    'revocation_endpoint',
    'jwks_uri',
  ])
    expect(config[key]).toMatch(/^http:\/\/localhost:8080\/auth\//);
  expect(config.issuer).toBe(BASE_URL);
  expect(config.code_challenge_methods_supported).toEqual(['S256']);
  expect(config.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
  expect(config.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);
  expect(config.capabilities).toEqual(
    expect.arrayContaining([
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'sso-openid-connect',
      'permission-v1',
      'permission-v2',
      'authorize-post',
    ]),
  );
  for (const capability of config.capabilities) expect(typeof capability).toBe('string');
});

test('openid-configuration has the required fields and RS256; the JWKS has an RSA signing key', async () => {
  const config = (await t.anonymous().get('/fhir/.well-known/openid-configuration')).body;
  for (const key of [
    'issuer',
    'authorization_endpoint',
    'token_endpoint',
    'jwks_uri',
    'response_types_supported',
    'subject_types_supported',
    'id_token_signing_alg_values_supported',
  ])
    expect(config[key]).toBeDefined();
  expect(config.id_token_signing_alg_values_supported).toContain('RS256');
  const jwks = (await t.anonymous().get('/auth/jwks')).body;
  expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
  expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  expect(jwks.keys[0].kid).toBeTruthy();
  expect(jwks.keys[0].d).toBeUndefined();
});

test('metadata is public, with CORS, and its oauth-uris equal the well-known endpoints', async () => {
  const res = await t.anonymous().get('/fhir/metadata').set('Origin', 'https://x.example');
  expect(res.status).toBe(200);
  expect(res.headers['access-control-allow-origin']).toBe('*');
  const security = res.body.rest[0].security;
  expect(security.service[0].coding[0].code).toBe('SMART-on-FHIR');
  const uris = Object.fromEntries(
    security.extension[0].extension.map((e: { url: string; valueUri: string }) => [e.url, e.valueUri]),
  );
  const config = (await t.anonymous().get('/fhir/.well-known/smart-configuration')).body;
  expect(uris.authorize).toBe(config.authorization_endpoint);
  expect(uris.token).toBe(config.token_endpoint);
  expect(uris.introspect).toBe(config.introspection_endpoint);
  expect(uris.revoke).toBe(config.revocation_endpoint);
});

test('the FHIR API without a token is 401 with a Bearer challenge; a token in the URL is refused', async () => {
  const res = await t.anonymous().get('/fhir/Patient');
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="hms"/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe('login');
  const inUrl = await t.anonymous().get(`/fhir/Patient?access_token=${t.token}`);
  expect(inUrl.status).toBe(401);
  expect(inUrl.headers['www-authenticate']).toMatch(/error="invalid_request"/);
  const bogus = await t.anonymous().get('/fhir/Patient').set('Authorization', 'Bearer not-a-token');
  expect(bogus.status).toBe(401);
  expect(bogus.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  const basic = await t.anonymous().get('/fhir/Patient').set('Authorization', 'Basic Zm9vOmJhcg==');
  expect(basic.status).toBe(401);
  const write = await t
    .anonymous()
    .post('/fhir/Patient')
    .set('Content-Type', 'application/fhir+json')
    .send({ resourceType: 'Patient' });
  expect(write.status).toBe(401);
});

// A backend client's JWKS URL is never a way into the server's network (attack table row 13): http, loopback,
// private, link-local and metadata addresses are refused before any connection is made.
import { fetchJwks, isBlockedAddress } from '../../../server/auth/jwks-fetch';
import { startTestApp, type TestApp } from '../../support/app';
import { backendKey, clientAssertion } from '../../support/tokens';

test.each([
  '127.0.0.1',
  '10.1.2.3',
  '172.16.0.9',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '::1',
  'fe80::1',
  'fd00::1',
  '::ffff:127.0.0.1',
])('%s is blocked', (address) => expect(isBlockedAddress(address)).toBe(true));

test.each(['8.8.8.8', '2606:4700:4700::1111'])('%s is public', (address) =>
  expect(isBlockedAddress(address)).toBe(false),
);

test.each([
  ['http://keys.example/jwks', /https/],
  ['https://169.254.169.254/latest/meta-data', /does not contact/],
  ['https://127.0.0.1:27017/', /does not contact/],
  ['https://localhost/jwks', /does not contact/],
])('fetchJwks(%s) is refused', async (url, message) => {
  await expect(fetchJwks(url)).rejects.toThrow(message);
});

describe('through the token endpoint', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  test('a client whose JWKS URL points at the metadata service gets invalid_client, and nothing is fetched', async () => {
    await t.auth.clients.add({
      id: 'ssrf',
      type: 'backend',
      jwksUrl: 'https://169.254.169.254/jwks.json',
      scope: 'system/*.rs',
    });
    const key = await backendKey();
    const res = await t
      .anonymous()
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'client_credentials',
        scope: 'system/Patient.rs',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(t.auth, 'ssrf', key),
      });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_client',
      error_description: "The client's JWKS could not be retrieved",
    });
  });

  test('expired tokens are 401', async () => {
    const { token } = await t.auth.tokens.issueAccessToken({ clientId: 'c', scope: 'system/*.rs' }, -1000);
    const res = await t.anonymous().get('/fhir/Patient').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
  });

  test('a token that expires while cached stops working', async () => {
    const { token } = await t.auth.tokens.issueAccessToken({ clientId: 'c', scope: 'system/*.rs' }, 400);
    expect((await t.anonymous().get('/fhir/Patient').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await t.anonymous().get('/fhir/Patient').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });
});

// Rate limits: per IP in front of everything (the FHIR read path and the Express app share one count), per
// OAuth client on the FHIR API. Over the limit: 429, an OperationOutcome and Retry-After. Probes and /metrics
// are never limited; 0 turns a limit off.
import request, { type Response } from 'supertest';
import { api, startFrontApp, type FrontApp } from './front-app';

let t: FrontApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

function expectThrottled(res: Response, who: string): void {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  const outcome = JSON.parse(res.text);
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'throttled' });
  expect(outcome.issue[0].diagnostics).toContain(`from this ${who}`);
}

test('per IP: the FHIR read path and the Express app count together; probes and /metrics never', async () => {
  // The token request made while starting counts as the first.
  t = await startFrontApp({ rateLimitPerMinute: 4, rateLimitClientPerMinute: 0 });
  expect((await api(t).get('/fhir/Patient/a')).status).toBe(404);
  expect((await request(t.app).get('/auth/jwks')).status).toBe(200);
  expect((await request(t.app).get('/fhir/metadata')).status).toBe(200);
  expectThrottled(await api(t).get('/fhir/Patient/a'), 'address');
  expectThrottled(await request(t.app).get('/auth/jwks'), 'address');
  expectThrottled(await request(t.app).post('/auth/token').type('form').send({}), 'address');
  for (const path of ['/healthz', '/readyz', '/metrics', '/metrics?x=1']) {
    expect((await request(t.app).get(path)).status).toBe(200);
  }
});

test('per client: one client over its limit is refused, another client from the same address is not', async () => {
  t = await startFrontApp({ rateLimitPerMinute: 0, rateLimitClientPerMinute: 2 });
  const other = await t.tokenOf('other-system');
  expect((await api(t).get('/fhir/Patient/a')).status).toBe(404);
  expect((await api(t).get('/fhir/Patient?_count=1')).status).toBe(200);
  expectThrottled(await api(t).get('/fhir/Patient/a'), 'client');
  const res = await request(t.app).get('/fhir/Patient/a').set('Authorization', `Bearer ${other}`);
  expect(res.status).toBe(404);
  // Without a token the answer is still the 401 (the client limit counts authenticated requests).
  expect((await request(t.app).get('/fhir/Patient/a')).status).toBe(401);
  // The metadata needs no token and is not counted per client.
  expect((await request(t.app).get('/fhir/metadata')).status).toBe(200);
});

test('behind a trusted proxy the address it forwards is counted, not the proxy or what the client claims', async () => {
  t = await startFrontApp({ rateLimitPerMinute: 2, rateLimitClientPerMinute: 0 }, { trustProxy: true });
  const from = (chain: string) => request(t!.app).get('/auth/jwks').set('X-Forwarded-For', chain);
  expect((await from('203.0.113.1')).status).toBe(200);
  expect((await from('198.51.100.7, 203.0.113.1')).status).toBe(200);
  // A made-up first entry does not make a new caller: the proxy's own entry is the last.
  expectThrottled(await from('192.0.2.99, 203.0.113.1'), 'address');
  expect((await from('203.0.113.2')).status).toBe(200);
  // Not an address: the connection's peer is counted (it already made the token request, so this is its 2nd).
  expect((await from('unknown')).status).toBe(200);
  expectThrottled(await request(t.app).get('/auth/jwks'), 'address');
});

test('without TRUST_PROXY a forwarded address is ignored', async () => {
  t = await startFrontApp({ rateLimitPerMinute: 2, rateLimitClientPerMinute: 0 });
  expect((await request(t.app).get('/auth/jwks').set('X-Forwarded-For', '203.0.113.1')).status).toBe(200);
  expectThrottled(await request(t.app).get('/auth/jwks').set('X-Forwarded-For', '203.0.113.2'), 'address');
});

test('limits at 0 are off', async () => {
  t = await startFrontApp({ rateLimitPerMinute: 0, rateLimitClientPerMinute: 0 });
  for (let i = 0; i < 30; i++) expect((await api(t).get('/fhir/Patient/a')).status).toBe(404);
});

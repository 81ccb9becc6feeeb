// Security headers on every answer: the FHIR read path, the Express app (authorization server, pages, probes),
// errors included. Patient data is never cacheable; the CapabilityStatement and discovery documents briefly are.
// The authorization pages' CSP allows their one inline style by hash, and the hash matches the style served.
import { createHash } from 'node:crypto';
import request from 'supertest';
import { FHIR_JSON, patient } from '../../support/app';
import { api, startFrontApp, type FrontApp } from './front-app';

let t: FrontApp;
let tlsFlagged: FrontApp;

beforeAll(async () => {
  t = await startFrontApp(undefined);
  // The HSTS header depends only on the listener speaking TLS; tls.test.ts checks it over a real HTTPS socket.
  tlsFlagged = await startFrontApp({ rateLimitPerMinute: 0, rateLimitClientPerMinute: 0, tls: true });
});

afterAll(async () => {
  await t.close();
  await tlsFlagged.close();
});

const COMMON = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

async function createPatient(app: FrontApp): Promise<string> {
  const res = await api(app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('the FHIR API (read path in front of Express)', () => {
  test('a read, a search, a write and an error are no-store and carry the common headers', async () => {
    const id = await createPatient(t);
    const answers = [
      await api(t).get(`/fhir/Patient/${id}`),
      await api(t).get('/fhir/Patient?name=smith'),
      await api(t)
        .put(`/fhir/Patient/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send({ ...patient(), id }),
      await api(t).get('/fhir/Patient/does-not-exist'),
      await request(t.app).get(`/fhir/Patient/${id}`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 404, 401]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({ ...COMMON, 'cache-control': 'no-store' });
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  test('the CapabilityStatement may be cached briefly, but not an error answered at its URL', async () => {
    const ok = await request(t.app).get('/fhir/metadata');
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ ...COMMON, 'cache-control': 'public, max-age=300' });
    const refused = await request(t.app).get('/fhir/metadata').set('Accept', 'application/fhir+xml');
    expect(refused.status).toBe(406);
    expect(refused.headers['cache-control']).toBe('no-store');
  });
});

describe('the Express app', () => {
  test('discovery documents are briefly cacheable, with the common headers and a CSP', async () => {
    for (const path of ['/fhir/.well-known/smart-configuration', '/.well-known/openid-configuration']) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({
        ...COMMON,
        'cache-control': 'public, max-age=300',
        'x-frame-options': 'DENY',
      });
    }
  });

  test('other answers (not found, token errors, admin) are no-store with a strict CSP and no framing', async () => {
    const answers = [
      await request(t.app).get('/nowhere'),
      await request(t.app).post('/auth/token').type('form').send({ grant_type: 'password' }),
      await request(t.app).get('/admin/users'),
    ];
    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers).toMatchObject({ ...COMMON, 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
      );
    }
  });

  test('an authorization page allows exactly its own inline style by hash, and no inline script', async () => {
    const page = await request(t.app).get('/auth/login');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const styles = [...page.text.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]).digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page.text).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(page.headers).toMatchObject({ ...COMMON, 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
  });
});

describe('under TLS', () => {
  test('every answer carries HSTS: FHIR read path, metadata, pages, probes and errors', async () => {
    const id = await createPatient(tlsFlagged);
    const answers = [
      await api(tlsFlagged).get(`/fhir/Patient/${id}`),
      await request(tlsFlagged.app).get('/fhir/metadata'),
      await request(tlsFlagged.app).get('/auth/login'),
      await request(tlsFlagged.app).get('/healthz'),
      await request(tlsFlagged.app).get('/nowhere'),
      await request(tlsFlagged.app).get('/fhir/Patient'),
    ];
    for (const res of answers) {
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

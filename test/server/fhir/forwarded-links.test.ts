// Links behind a reverse proxy: with TRUST_PROXY, the Location, Content-Location, self/next links and fullUrls
// follow the Forwarded (RFC 7239) or X-Forwarded-Proto/-Host/-Prefix headers; without it (the default) those
// headers change nothing, since any client could send them.
import fs from 'node:fs';
import request from 'supertest';
import type { Bundle } from '@medplum/fhirtypes';
import { createRequestListener } from '../../../server/app';
import { createLogger } from '../../../server/log';
import { closeServices, openServices } from '../../../server/services';
import { AuthService } from '../../../server/auth/service';
import { loadProxyConfig } from '../../../server/proxy-config';
import { loadConfig } from '../../../server/config';
import { ConfigError } from '../../../server/env';
import { authSettingsFor } from '../../support/tokens';
import { BASE_URL, FHIR_JSON, patient, startTestApp, systemToken, tempDir, type TestApp } from '../../support/app';

const FORWARDED = {
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'fhir.example.org',
  'X-Forwarded-Prefix': '/hospital',
};
const PUBLIC_BASE = 'https://fhir.example.org/hospital/fhir';

/** The real app on a real SQLite file, as startTestApp builds it, with TRUST_PROXY on. */
async function startTrustingApp() {
  const dataDir = tempDir();
  const services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL', baseUrl: BASE_URL });
  const auth = await AuthService.open(services.store, authSettingsFor(dataDir, BASE_URL));
  const app = createRequestListener({
    services,
    baseUrl: BASE_URL,
    trustProxy: true,
    maxBodyBytes: 1024 * 1024,
    logger: createLogger('silent'),
    auth,
  });
  const token = await systemToken(app, auth);
  return {
    api: () => request.agent(app).set('Authorization', `Bearer ${token}`),
    close: async () => {
      await auth.close();
      await closeServices(services);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let trusting: Awaited<ReturnType<typeof startTrustingApp>>;
let plain: TestApp;

beforeAll(async () => {
  [trusting, plain] = await Promise.all([startTrustingApp(), startTestApp()]);
});

afterAll(async () => {
  await Promise.all([trusting?.close(), plain?.close()]);
});

const links = (bundle: Bundle) => Object.fromEntries((bundle.link ?? []).map((l) => [l.relation, l.url]));

describe('TRUST_PROXY on', () => {
  test('X-Forwarded-Proto, -Host and -Prefix give Location, Content-Location, self, next and fullUrl', async () => {
    const family = `Forwarded${Date.now()}`;
    const created = await trusting
      .api()
      .post('/fhir/Patient')
      .set(FORWARDED)
      .set('Content-Type', FHIR_JSON)
      .send(patient({ name: [{ family }] }));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${PUBLIC_BASE}/Patient/${created.body.id}/_history/1`);
    expect(created.headers['content-location']).toBe(created.headers.location);
    await trusting
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ name: [{ family }] }))
      .expect(201);
    const page = await trusting.api().get(`/fhir/Patient?family=${family}&_count=1`).set(FORWARDED);
    expect(page.status).toBe(200);
    const { self, next } = links(page.body as Bundle);
    expect(self).toBe(`${PUBLIC_BASE}/Patient?family=${family}&_count=1`);
    expect(next.startsWith(`${PUBLIC_BASE}/Patient?`)).toBe(true);
    expect((page.body as Bundle).entry?.[0].fullUrl).toMatch(new RegExp(`^${PUBLIC_BASE}/Patient/`));
  });

  test('Forwarded proto and host (quoted, with a port) win over X-Forwarded-*; the last element counts', async () => {
    const res = await trusting
      .api()
      .get('/fhir/Patient?_count=1')
      .set('X-Forwarded-Host', 'ignored.example.org')
      .set(
        'Forwarded',
        'for=192.0.2.1;host=spoofed.example.org, for=192.0.2.60;proto=HTTPS;host="Fhir.Example.org:8443"',
      );
    expect(res.status).toBe(200);
    expect(links(res.body as Bundle).self).toBe('https://fhir.example.org:8443/fhir/Patient?_count=1');
  });

  test('what the proxy leaves out comes from BASE_URL; an empty prefix mounts the API at /fhir', async () => {
    const proto = await trusting.api().get('/fhir/Patient?_count=1').set('X-Forwarded-Proto', 'https');
    expect(links(proto.body as Bundle).self).toBe('https://localhost:8080/fhir/Patient?_count=1');
    const prefix = await trusting.api().get('/fhir/Patient?_count=1').set('X-Forwarded-Prefix', '/');
    expect(links(prefix.body as Bundle).self).toBe(`${BASE_URL}/Patient?_count=1`);
    const none = await trusting.api().get('/fhir/Patient?_count=1');
    expect(links(none.body as Bundle).self).toBe(`${BASE_URL}/Patient?_count=1`);
  });

  test('a forwarding header that is not a protocol, host or path is a 400 naming it', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'X-Forwarded-Proto': 'ftp' }, 'X-Forwarded-Proto'],
      [{ 'X-Forwarded-Host': 'evil.example/steal?x=' }, 'X-Forwarded-Host'],
      [{ 'X-Forwarded-Prefix': '/a b' }, 'X-Forwarded-Prefix'],
      [{ Forwarded: 'proto=gopher' }, 'Forwarded'],
      [{ Forwarded: 'host="a.example/b"' }, 'Forwarded'],
    ];
    for (const [headers, name] of cases) {
      const res = await trusting.api().get('/fhir/Patient?_count=1').set(headers);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].expression).toEqual([name]);
    }
  });
});

describe('TRUST_PROXY off (the default)', () => {
  test('forwarding headers change no link', async () => {
    const created = await plain
      .api()
      .post('/fhir/Patient')
      .set(FORWARDED)
      .set('Forwarded', 'proto=https;host=evil.example.org')
      .set('Content-Type', FHIR_JSON)
      .send(patient());
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${BASE_URL}/Patient/${created.body.id}/_history/1`);
    const page = await plain.api().get('/fhir/Patient?_count=1').set(FORWARDED).set('X-Forwarded-Proto', 'ftp');
    expect(page.status).toBe(200);
    expect(links(page.body as Bundle).self).toBe(`${BASE_URL}/Patient?_count=1`);
  });
});

describe('the TRUST_PROXY setting', () => {
  test('is off unless set to a true value, and refuses anything else', () => {
    expect(loadProxyConfig({}).trustProxy).toBe(false);
    expect(loadProxyConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadProxyConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(() => loadProxyConfig({ TRUST_PROXY: 'sometimes' })).toThrow(ConfigError);
    expect(loadConfig({}).proxy.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'yes' }).proxy.trustProxy).toBe(true);
  });
});

// GET /metrics: Prometheus text with requests by route pattern and status (never ids or query values), latency
// histograms, store commit / WAL sync times, worker pools and process metrics. Access: loopback callers when no
// METRICS_TOKEN is set (not through a proxy), else only that bearer token.
import request from 'supertest';
import { FHIR_JSON, patient } from '../../support/app';
import { isLoopback } from '../../../server/http/metrics';
import { api, startFrontApp, type FrontApp } from './front-app';

const METRICS_TOKEN = 'metrics-token-0123456789';

let t: FrontApp;
let guarded: FrontApp;

beforeAll(async () => {
  t = await startFrontApp(undefined, { validationWorkers: 1, searchWorkers: 1 });
  guarded = await startFrontApp({ rateLimitPerMinute: 0, rateLimitClientPerMinute: 0, metricsToken: METRICS_TOKEN });
});

afterAll(async () => {
  await t.close();
  await guarded.close();
});

test('requests are counted by route pattern, method and status, with no id or query value in a label', async () => {
  const created = await api(t).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await api(t).get(`/fhir/Patient/${id}`)).status).toBe(200);
  expect((await api(t).get(`/fhir/Patient/${id}`)).status).toBe(200);
  expect((await api(t).get('/fhir/Patient?family=Zebedee-Unique')).status).toBe(200);
  expect((await api(t).get('/fhir/Patient/no-such-id-42')).status).toBe(404);
  expect((await request(t.app).get('/auth/jwks')).status).toBe(200);

  const res = await request(t.app).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = res.text;
  expect(text).toContain('hms_http_requests_total{route="/fhir/:type/:id",method="GET",status="200"} 2');
  expect(text).toContain('hms_http_requests_total{route="/fhir/:type/:id",method="GET",status="404"} 1');
  expect(text).toContain('hms_http_requests_total{route="/fhir/:type",method="POST",status="201"} 1');
  expect(text).toContain('hms_http_requests_total{route="/fhir/:type",method="GET",status="200"} 1');
  expect(text).toContain('hms_http_requests_total{route="/auth/jwks",method="GET",status="200"} 1');
  expect(text).toContain('hms_http_requests_total{route="/auth/token",method="POST",status="200"} 1');
  expect(text).toMatch(
    /hms_http_request_duration_seconds_bucket\{route="\/fhir\/:type\/:id",method="GET",status="200",le="\+Inf"\} 2/,
  );
  for (const secret of [id, 'Zebedee', 'no-such-id-42', t.token]) expect(text).not.toContain(secret);
});

test('store commits, WAL syncs, worker pools and the process are measured', async () => {
  expect((await api(t).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).status).toBe(201);
  const text = (await request(t.app).get('/metrics')).text;
  expect(Number(/^hms_store_commit_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  expect(Number(/^hms_store_commit_transactions_sum (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  expect(Number(/^hms_store_wal_sync_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  expect(text).toContain('# TYPE hms_store_checkpoint_hold_seconds histogram');
  expect(text).toContain('hms_worker_threads{pool="validation"} 1');
  expect(text).toContain('hms_worker_threads{pool="search"} 1');
  expect(text).toMatch(/^hms_worker_queue_depth\{pool="search"\} 0$/m);
  expect(text).toContain('process_cpu_user_seconds_total');
  expect(text).toContain('nodejs_eventloop_lag_seconds');
});

test('the metrics request itself and the probes are counted under their own paths', async () => {
  await request(t.app).get('/healthz');
  const text = (await request(t.app).get('/metrics')).text;
  expect(text).toMatch(/hms_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/);
  expect(text).toMatch(/hms_http_requests_total\{route="\/metrics",method="GET",status="200"\} \d+/);
});

test('without METRICS_TOKEN, a request that came through a proxy is refused with 403', async () => {
  const res = await request(t.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9');
  expect(res.status).toBe(403);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].diagnostics).toMatch(/METRICS_TOKEN/);
  expect((await request(t.app).get('/metrics').set('Forwarded', 'for=203.0.113.9')).status).toBe(403);
});

test('with METRICS_TOKEN, only that bearer reads the metrics, from loopback too', async () => {
  const missing = await request(guarded.app).get('/metrics');
  expect(missing.status).toBe(401);
  expect(missing.headers['www-authenticate']).toBe('Bearer realm="metrics"');
  expect(missing.body.resourceType).toBe('OperationOutcome');
  expect((await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`)).status).toBe(
    401,
  );
  // An API token is not the metrics token.
  expect((await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${guarded.token}`)).status).toBe(401);
  const ok = await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(ok.status).toBe(200);
  expect(ok.text).toContain('hms_http_requests_total');
});

test.each([
  ['127.0.0.1', true],
  ['127.8.9.10', true],
  ['::1', true],
  ['::ffff:127.0.0.1', true],
  ['10.0.0.1', false],
  ['::ffff:10.0.0.1', false],
  ['2001:db8::1', false],
  [undefined, false],
])('loopback address %s: %s', (address, loopback) => {
  expect(isLoopback(address)).toBe(loopback);
});

// One JSON log line per request with request id, method, route pattern, status and duration, and nothing
// from the URL, the query or the body (no PHI in logs).
import fs from 'node:fs';
import request from 'supertest';
import { createRequestListener } from '../../server/app';
import { createLogger } from '../../server/log';
import { closeServices, openServices } from '../../server/services';
import type { RepositoryServices } from '../../resources/repository';
import { AuthService } from '../../server/auth/service';
import { BASE_URL, patient, systemToken, tempDir, testAuthSettings } from '../support/app';

const lines: string[] = [];
let services: RepositoryServices;
let app: ReturnType<typeof createRequestListener>;
let dataDir: string;
let auth: AuthService;
let bearer: string;

beforeAll(async () => {
  dataDir = tempDir();
  services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL' });
  auth = await AuthService.open(services.store, testAuthSettings(dataDir));
  app = createRequestListener({
    services,
    baseUrl: BASE_URL,
    maxBodyBytes: 1024 * 1024,
    logger: createLogger('info', (l) => lines.push(l)),
    auth,
  });
  bearer = `Bearer ${await systemToken(app, auth)}`;
  lines.length = 0;
});
afterAll(async () => {
  await auth.close();
  await closeServices(services);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('request lines carry the route pattern, never ids, query values or bodies', async () => {
  const created = await request(app)
    .post('/fhir/Patient')
    .set('Authorization', bearer)
    .set('Content-Type', 'application/fhir+json')
    .set('X-Request-Id', 'req-123')
    .send(patient({ name: [{ family: 'Secretname' }] }));
  await request(app).get(`/fhir/Patient/${created.body.id}`).set('Authorization', bearer);
  await request(app).get('/fhir/Patient?name=Secretname&birthdate=1980-02-03').set('Authorization', bearer);
  await request(app).get('/fhir/Patient/unknown-secret-id').set('Authorization', bearer);
  const logged = lines.map((l) => JSON.parse(l));
  expect(logged).toHaveLength(4);
  expect(logged[0]).toMatchObject({
    level: 'info',
    msg: 'request',
    requestId: 'req-123',
    method: 'POST',
    route: '/fhir/:type',
    status: 201,
  });
  expect(typeof logged[0].durationMs).toBe('number');
  expect(logged[1]).toMatchObject({ method: 'GET', route: '/fhir/:type/:id', status: 200 });
  expect(logged[3]).toMatchObject({ route: '/fhir/:type/:id', status: 404 });
  const all = lines.join('');
  for (const secret of ['Secretname', '1980-02-03', created.body.id, 'unknown-secret-id', bearer.slice(7)])
    expect(all).not.toContain(secret);
});

test('an unexpected error is a 500 OperationOutcome with the request id, logged without request data', async () => {
  const broken = createRequestListener({
    services: {
      ...services,
      store: { ...services.store, readCurrent: () => Promise.reject(new Error('disk on fire')) } as never,
    },
    baseUrl: BASE_URL,
    maxBodyBytes: 1024,
    logger: createLogger('info', (l) => lines.push(l)),
    auth,
  });
  lines.length = 0;
  const res = await request(broken)
    .get('/fhir/Patient/some-id')
    .set('X-Request-Id', 'req-500')
    .set('Authorization', bearer);
  expect(res.status).toBe(500);
  expect(res.body.issue[0]).toMatchObject({ code: 'exception', diagnostics: expect.stringContaining('req-500') });
  const error = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'error');
  expect(error).toMatchObject({ msg: 'unhandled error', requestId: 'req-500', route: '/fhir/:type/:id' });
  expect(lines.join('')).not.toContain('some-id');
  expect(lines.join('')).not.toContain('disk on fire');
});

test('below info no request lines are written, and requests are still answered', async () => {
  const quiet: string[] = [];
  const warnOnly = createRequestListener({
    services,
    baseUrl: BASE_URL,
    maxBodyBytes: 1024 * 1024,
    logger: createLogger('warn', (l) => quiet.push(l)),
    auth,
  });
  const response = await request(warnOnly).get('/fhir/Patient/not-there').set('Authorization', bearer);
  expect(response.status).toBe(404);
  expect(response.headers['x-request-id']).toBeTruthy();
  expect(quiet).toEqual([]);
});

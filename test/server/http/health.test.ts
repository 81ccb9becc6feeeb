// /healthz and /readyz need no token. /readyz is 200 while the store answers and each worker pool has a
// worker, and 503 with a JSON reason naming what is not ready otherwise (a stopped pool, a closed store).
import request from 'supertest';
import { startFrontApp, type FrontApp } from './front-app';

let t: FrontApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('both probes answer 200 without a token, and are no-store', async () => {
  t = await startFrontApp(undefined, { validationWorkers: 1, searchWorkers: 1 });
  const health = await request(t.app).get('/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });
  const ready = await request(t.app).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.headers['cache-control']).toBe('no-store');
  expect(ready.body).toEqual({
    status: 'ready',
    checks: { store: 'ok', validationWorkers: '1 workers', searchWorkers: '1 workers' },
  });
});

test('once a graceful stop began, /readyz answers 503 "stopping" while /healthz stays 200', async () => {
  const lifecycle = { stopping: false };
  t = await startFrontApp(undefined, { lifecycle });
  expect((await request(t.app).get('/readyz')).status).toBe(200);
  lifecycle.stopping = true;
  const ready = await request(t.app).get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body).toEqual({ status: 'not ready', reason: 'stopping' });
  expect((await request(t.app).get('/healthz')).status).toBe(200);
});

test('work on the event loop (no pools) is ready too', async () => {
  t = await startFrontApp(undefined, { validationWorkers: 0, searchWorkers: 0 });
  const ready = await request(t.app).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body.checks).toEqual({
    store: 'ok',
    validationWorkers: 'on the event loop',
    searchWorkers: 'on the event loop',
  });
});

test('a validation pool without workers is not ready: 503 with the reason', async () => {
  t = await startFrontApp(undefined, { validationWorkers: 1, searchWorkers: 0 });
  await t.services.preparer.close();
  // The pool notices each worker's exit.
  let ready = await request(t.app).get('/readyz');
  for (let i = 0; i < 100 && ready.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    ready = await request(t.app).get('/readyz');
  }
  expect(ready.status).toBe(503);
  expect(ready.body).toMatchObject({
    status: 'not ready',
    reason: 'validationWorkers: no worker is running',
    checks: { store: 'ok', validationWorkers: 'no worker is running' },
  });
  expect((await request(t.app).get('/healthz')).status).toBe(200);
});

test('a store that cannot read is not ready, and the reason names no detail of the error', async () => {
  t = await startFrontApp(undefined, { validationWorkers: 0, searchWorkers: 0 });
  const { app, services } = t;
  await services.store.close();
  const ready = await request(app).get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.status).toBe('not ready');
  expect(ready.body.reason).toMatch(/^store: read failed \(\w+\)$/);
  expect(ready.body.checks.validationWorkers).toBe('on the event loop');
  // close() closes the store again: harmless.
});

// The per-client limit of exports in progress (EXPORT_MAX_CONCURRENT, default 2): a kick-off beyond it is a
// 429 with Retry-After and a `throttled` OperationOutcome, other clients are not affected, and once an export
// completes (or is deleted) the client may start another. The count comes from the stored job Tasks.
import { loadConfig } from '../../../server/config';
import { ConfigError } from '../../../server/env';
import type { JobRunner } from '../../../resources/jobs/runner';
import { startTestApp, type TestApp } from '../../support/app';
import { BULK_HEADERS, as, pathOf, poll, tokenFor } from './export-support';

let t: TestApp;
const runner = () => t.services.jobs as JobRunner;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Runs `work` while no job can start: exports stay queued (in progress) for as long as it runs. */
async function withJobsHeld<T>(work: () => Promise<T>): Promise<T> {
  const concurrency = runner().settings.concurrency;
  runner().settings.concurrency = 0;
  try {
    return await work();
  } finally {
    runner().settings.concurrency = concurrency;
    runner().kick();
  }
}

test('a third export in progress is a 429 with Retry-After; another client is not affected', async () => {
  const busy = as(t, await tokenFor(t, 'system/*.read', 'busy-client'));
  const other = as(t, await tokenFor(t, 'system/*.read', 'other-client'));
  const statuses = await withJobsHeld(async () => {
    const first = await busy.get('/fhir/$export?_type=Patient').set(BULK_HEADERS);
    const second = await busy.get('/fhir/Patient/$export').set(BULK_HEADERS);
    expect([first.status, second.status]).toEqual([202, 202]);

    const refused = await busy.get('/fhir/$export?_type=Organization').set(BULK_HEADERS);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    expect(refused.body.issue[0].diagnostics).toMatch(/already has 2 exports in progress/);
    // A kick-off that is wrong anyway is told so first.
    expect((await busy.get('/fhir/$export?_type=Nonsense').set(BULK_HEADERS)).status).toBe(400);

    expect((await other.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(202);
    return [first.headers['content-location'], second.headers['content-location']] as string[];
  });

  // Once the first has completed, the client may start another.
  expect((await poll(busy, statuses[0])).status).toBe(200);
  expect((await busy.get('/fhir/$export?_type=Organization').set(BULK_HEADERS)).status).toBe(202);
});

test('a deleted export frees its place at once', async () => {
  const client = as(t, await tokenFor(t, 'system/*.read', 'deleting-client'));
  await withJobsHeld(async () => {
    const first = await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS);
    expect((await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(202);
    expect((await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(429);
    expect((await client.delete(pathOf(first.headers['content-location']))).status).toBe(202);
    expect((await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(202);
  });
});

test('EXPORT_MAX_CONCURRENT sets the limit (1 to 1000); the services pass it on to the kick-off', async () => {
  expect(loadConfig({}).export).toEqual({ maxConcurrent: 2 });
  const config = loadConfig({ EXPORT_MAX_CONCURRENT: '1' });
  expect(config.export).toEqual({ maxConcurrent: 1 });
  for (const bad of ['0', '1001', 'two']) {
    expect(() => loadConfig({ EXPORT_MAX_CONCURRENT: bad })).toThrow(ConfigError);
  }
  // As the server opens its services from the configuration (openServices(config) reads `export`).
  const one = await startTestApp({ services: { export: config.export } });
  try {
    const client = as(one, await tokenFor(one, 'system/*.read', 'single-client'));
    const jobs = one.services.jobs as JobRunner;
    jobs.settings.concurrency = 0;
    expect((await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(202);
    expect((await client.get('/fhir/$export?_type=Patient').set(BULK_HEADERS)).status).toBe(429);
  } finally {
    await one.close();
  }
});

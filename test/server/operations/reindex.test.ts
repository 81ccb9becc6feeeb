// Runtime SearchParameters over the API and $reindex: a new parameter finds resources written after it at
// once and older ones after $reindex (a background job reported by a Task); writes go on meanwhile; invalid
// definitions are refused; a deleted one is unknown again; stored ones survive a restart.
import fs from 'node:fs';
import request from 'supertest';
import type { Bundle, Task } from '@medplum/fhirtypes';
import { createRequestListener } from '../../../server/app';
import { createLogger } from '../../../server/log';
import { closeServices, openServices } from '../../../server/services';
import { applyJobChange, newJobTask, readJob } from '../../../resources/jobs/job-task';
import { claim } from '../../../resources/jobs/lease';
import type { JobRunner } from '../../../resources/jobs/runner';
import { JobSigner } from '../../../resources/jobs/signature';
import { AuthService } from '../../../server/auth/service';
import {
  BASE_URL,
  FHIR_JSON,
  nicknameSearchParameter,
  patient,
  startTestApp,
  testAuthSettings,
  type TestApp,
} from '../../support/app';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(() => t.close());

const NICKNAME = nicknameSearchParameter();

const nicknamed = (nickname: string) =>
  patient({
    name: [
      { family: 'Smith', given: ['Anna'] },
      { use: 'nickname', given: [nickname] },
    ],
  });

async function post(path: string, body: object) {
  return t.api().post(path).set('Content-Type', FHIR_JSON).send(body);
}

async function createPatient(nickname: string): Promise<string> {
  const res = await post('/fhir/Patient', nicknamed(nickname));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function nicknameMatches(api: () => ReturnType<typeof request>, nickname: string): Promise<string[]> {
  const res = await api().get(`/fhir/Patient?nickname=${nickname}&_count=1000`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => e.resource?.id as string)
    .sort();
}

/** Polls the Task at `location` until it is neither queued nor in progress. */
async function finished(location: string): Promise<Task> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await t.api().get(new URL(location).pathname);
    expect(res.status).toBe(200);
    if (res.body.status !== 'in-progress' && res.body.status !== 'requested') return res.body as Task;
    if (Date.now() > deadline) throw new Error(`Task ${location} still in progress`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function reindexed(task: Task): number | undefined {
  return task.output?.find((o) => o.type.text === 'reindexed')?.valueInteger;
}

test('a new parameter finds newer resources at once, older ones after type-level $reindex', async () => {
  const older = await createPatient('Bobby');
  expect((await post('/fhir/SearchParameter', NICKNAME)).status).toBe(201);
  const newer = await createPatient('Bobby');
  expect(await nicknameMatches(t.api, 'bobby')).toEqual([newer]);

  const res = await post('/fhir/Patient/$reindex', {});
  expect(res.status).toBe(202);
  const location = res.headers['content-location'];
  expect(location).toMatch(new RegExp(`^${BASE_URL}/Task/[^/]+$`));
  const task = await finished(location);
  expect(task).toMatchObject({
    resourceType: 'Task',
    status: 'completed',
    intent: 'order',
    code: { text: '$reindex' },
  });
  expect(task.input).toEqual([{ type: { text: 'resourceType' }, valueCode: 'Patient' }]);
  expect(reindexed(task)).toBe(2);
  expect(await nicknameMatches(t.api, 'bobby')).toEqual([older, newer].sort());
  // Reindexing writes no versions.
  expect((await t.api().get(`/fhir/Patient/${older}`)).body.meta.versionId).toBe('1');
});

test('system-level $reindex runs in batches while writes go on; a second job on a busy type is a 409', async () => {
  const older: string[] = [];
  for (let i = 0; i < 9; i++) {
    older.push(...(await Promise.all(Array.from({ length: 50 }, () => createPatient('Kit')))));
  }
  expect((await post('/fhir/SearchParameter', NICKNAME)).status).toBe(201);

  const res = await post('/fhir/$reindex', {});
  expect(res.status).toBe(202);
  const busy = await post('/fhir/Patient/$reindex', {});
  expect(busy.status).toBe(409);
  expect(busy.body.issue[0].diagnostics).toMatch(/already running: Task\//);
  const during = await Promise.all(Array.from({ length: 20 }, () => createPatient('Kit')));

  const task = await finished(res.headers['content-location']);
  expect(task.status).toBe('completed');
  expect(task.input).toEqual([{ type: { text: 'level' }, valueCode: 'system' }]);
  expect(reindexed(task)).toBeGreaterThanOrEqual(450);
  expect(await nicknameMatches(t.api, 'kit')).toEqual([...older, ...during].sort());
  // Once the job is over, the type can be reindexed again.
  expect((await post('/fhir/Patient/$reindex', {})).status).toBe(202);
});

test('$reindex of an unknown type is a 404', async () => {
  expect((await post('/fhir/Nonsense/$reindex', {})).status).toBe(404);
});

test.each([
  ['an expression that does not compile', { expression: 'Patient.name.where(' }],
  ['an unknown base type', { base: ['Nonsense'] }],
  ['no code', { code: undefined }],
  ['no type', { type: undefined }],
  ['a code that clashes with the query syntax', { code: 'nick:name' }],
])('a SearchParameter with %s is a 400 and nothing is stored', async (_, change) => {
  const res = await post('/fhir/SearchParameter', { ...NICKNAME, ...change });
  expect(res.status).toBe(400);
  expect(res.body.resourceType).toBe('OperationOutcome');
  const stored = await t.api().get('/fhir/SearchParameter?_count=0&_total=accurate');
  expect(stored.body.total).toBe(0);
});

test('an update of a SearchParameter changes the parameter; a delete makes it unknown again', async () => {
  const created = await post('/fhir/SearchParameter', NICKNAME);
  const id = created.body.id as string;
  const anna = await createPatient('Bobby');
  const byFamily = { ...NICKNAME, id, expression: 'Patient.name.family' };
  expect((await t.api().put(`/fhir/SearchParameter/${id}`).set('Content-Type', FHIR_JSON).send(byFamily)).status).toBe(
    200,
  );
  const later = await createPatient('Bobby');
  expect(await nicknameMatches(t.api, 'smith')).toEqual([later]);
  expect(anna).not.toBe(later);

  expect((await t.api().delete(`/fhir/SearchParameter/${id}`)).status).toBe(204);
  const lenient = await t.api().get('/fhir/Patient?nickname=smith');
  expect(lenient.status).toBe(200);
  const outcome = (lenient.body as Bundle).entry?.find((e) => e.search?.mode === 'outcome');
  expect(JSON.stringify(outcome?.resource)).toMatch(/nickname was ignored/);
  const strict = await t.api().get('/fhir/Patient?nickname=smith').set('Prefer', 'handling=strict');
  expect(strict.status).toBe(400);
});

test('a SearchParameter in a transaction Bundle applies once the transaction commits', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: NICKNAME, request: { method: 'POST', url: 'SearchParameter' } },
      { resource: nicknamed('Jo'), request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const res = await post('/fhir', bundle);
  expect(res.status).toBe(200);
  // The Patient in the same transaction was indexed before the parameter existed.
  expect(await nicknameMatches(t.api, 'jo')).toEqual([]);
  const jo = await createPatient('Jo');
  expect(await nicknameMatches(t.api, 'jo')).toEqual([jo]);
});

test('stored SearchParameters survive a restart', async () => {
  expect((await post('/fhir/SearchParameter', NICKNAME)).status).toBe(201);
  const id = await createPatient('Pip');
  await closeServices(t.services);

  const services = await openServices({ dataDir: t.dataDir, sqliteSynchronous: 'NORMAL' });
  const auth = await AuthService.open(services.store, testAuthSettings(t.dataDir));
  try {
    const app = createRequestListener({
      services,
      baseUrl: BASE_URL,
      maxBodyBytes: 1024 * 1024,
      logger: createLogger('silent'),
      auth,
    });
    // The token the first app issued is in the same store and still valid after the restart.
    const bearer = `Bearer ${t.token}`;
    expect(await nicknameMatches(() => request.agent(app).set('Authorization', bearer), 'pip')).toEqual([id]);
  } finally {
    await auth.close();
    await closeServices(services);
  }
  expect(fs.existsSync(t.dataDir)).toBe(true);
});

test('a $reindex job left in progress by a node that died is re-queued once its lease expired, and completes', async () => {
  const older = await createPatient('Zed');
  expect((await post('/fhir/SearchParameter', NICKNAME)).status).toBe(201);
  // As a node that died mid-job leaves it: claimed, its lease long expired.
  const past = Date.now() - 120_000;
  const input = [{ type: { text: 'resourceType' }, valueCode: 'Patient' }];
  const signature = await new JobSigner(t.services.store).sign('reindex', input);
  const queued = {
    ...newJobTask('reindex', '$reindex', input, 3, signature),
    authoredOn: new Date(past).toISOString(),
  };
  const dead = applyJobChange(queued, claim(readJob(queued), 'dead-node', past, 60_000), past);
  const created = await post('/fhir/Task', dead);
  expect(created.status).toBe(201);
  const other = { resourceType: 'Task', status: 'in-progress', intent: 'order', code: { text: 'something else' } };
  const unrelated = await post('/fhir/Task', other);

  // The runner's reconciliation re-queues it (with a retry backoff); a poll as it will run after the backoff
  // claims it (without these calls the runner's own polls do both within seconds).
  const runner = t.services.jobs as JobRunner;
  await runner.reconcile();
  await runner.poll(Date.now() + 60_000);
  const task = await finished(`${BASE_URL}/Task/${created.body.id}`);
  expect(task.status).toBe('completed');
  expect(readJob(task).attempts).toBe(2);
  expect(reindexed(task)).toBe(1);
  expect(await nicknameMatches(t.api, 'zed')).toEqual([older]);
  expect((await t.api().get(`/fhir/Task/${unrelated.body.id}`)).body.status).toBe('in-progress');
});

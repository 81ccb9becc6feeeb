// The export job on the job runner, below HTTP: it survives a restart and resumes from its checkpoint (no
// resource or deletion lost or doubled), runs the same on the MongoDB adapter, and its clean-up job deletes
// its files at expiry; the per-client limit of exports in progress holds across app nodes on one store;
// `hms export` writes the same NDJSON to a directory.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { FhirError } from '../../../resources/errors';
import { exportFiles, storeAccess, type ExportJob } from '../../../resources/export/export-job';
import { DEFAULT_EXPORT_SETTINGS, runExport, type ExportCheckpoint } from '../../../resources/export/exporter';
import { ExportFileStore } from '../../../resources/export/file-store';
import { startExport } from '../../../resources/export/kick-off';
import { parseExportRequest } from '../../../resources/export/request';
import { exportStatus } from '../../../resources/export/status';
import { exportsInProgress } from '../../../resources/export/throttle';
import type { JobRunner } from '../../../resources/jobs/runner';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { exportCommand } from '../../../server/export-command';
import { closeServices, openServices, type ServiceSettings } from '../../../server/services';
import { observation, patient, tempDir } from '../../support/app';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';

const BULK_ACCESS = {
  actor: 'client/bulk',
  clientId: 'bulk',
  grants: [{ level: 'system' as const, resourceType: '*', permissions: new Set(['r', 's'] as const) }],
};

let dir: string;
const opened: RepositoryServices[] = [];
beforeEach(() => {
  dir = tempDir('hms-export-');
});
afterEach(async () => {
  for (const services of opened.splice(0)) await closeServices(services);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(settings: Partial<ServiceSettings> = {}): Promise<RepositoryServices> {
  const services = await openServices({
    dataDir: dir,
    sqliteSynchronous: 'NORMAL',
    jobs: { pollIntervalMs: 50, leaseMs: 2000 },
    ...settings,
  });
  opened.push(services);
  return services;
}

async function seed(services: RepositoryServices, patients: number): Promise<string[]> {
  const repo = new Repository(services, SYSTEM_ACCESS);
  const ids: string[] = [];
  for (let i = 0; i < patients; i++) {
    const { stored } = await repo.create('Patient', patient({ name: [{ family: `P${i}` }] }) as unknown as Resource);
    await repo.create('Observation', observation(`Patient/${stored.id}`) as unknown as Resource);
    ids.push(stored.id);
  }
  return ids;
}

const PATIENTS = 30;

const kickOff = {
  level: 'system' as const,
  method: 'GET' as const,
  query: [['_type', 'Patient,Observation']] as [string, string][],
  lenient: false,
};

async function task(services: RepositoryServices, id: string): Promise<Task> {
  return JSON.parse((await new Repository(services, SYSTEM_ACCESS).read('Task', id)).json as string) as Task;
}

async function waitFor(services: RepositoryServices, id: string, done: (task: Task) => boolean): Promise<Task> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const current = await task(services, id);
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`Task/${id}: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every line of every file of the completed export, as type/id. */
async function exported(services: RepositoryServices, id: string): Promise<string[]> {
  const files = new ExportFileStore(services.store);
  const lines: string[] = [];
  for (const file of exportFiles(await task(services, id))) {
    const text = (await files.read(id, file.part))?.toString() ?? '';
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const resource = JSON.parse(line) as Resource;
      lines.push(`${resource.resourceType}/${resource.id}`);
    }
  }
  return lines.sort();
}

test('an export survives a restart: it resumes from its checkpoint and every resource is exported once', async () => {
  const slow = { export: { parts: { resources: 1, bytes: 1 << 20 }, pageSize: 1 } };
  const first = await open(slow);
  const ids = await seed(first, PATIENTS);
  const stored = await startExport(first, BULK_ACCESS, kickOff, 'http://x/fhir/$export');
  const midway = await waitFor(first, stored.id, (t) => exportFiles(t).length >= 5);
  expect(midway.status).toBe('in-progress');
  await closeServices(opened.splice(0, 1)[0]);
  // Reopened with no free slot first, to look at what the stopped node handed back.
  const second = await open({ ...slow, jobs: { pollIntervalMs: 50, leaseMs: 2000, concurrency: 0 } });
  const handedBack = await task(second, stored.id);
  const resumedFrom = exportFiles(handedBack).length;
  expect(handedBack.status).toBe('requested');
  expect(resumedFrom).toBeGreaterThanOrEqual(5);

  const writes = jest.spyOn(ExportFileStore.prototype, 'write');
  const runner = second.jobs as JobRunner;
  runner.settings.concurrency = 2;
  runner.kick();
  const done = await waitFor(second, stored.id, (t) => t.status === 'completed');
  // The second node wrote only the parts after the checkpoint.
  expect(writes.mock.calls.length).toBe(2 * PATIENTS - resumedFrom);
  writes.mockRestore();
  expect(exportFiles(done)).toHaveLength(2 * PATIENTS);
  expect(exportFiles(done).map((f) => f.part)).toEqual([...Array(2 * PATIENTS).keys()]);
  const patients = ids.map((id) => `Patient/${id}`);
  const lines = await exported(second, stored.id);
  expect(lines.filter((l) => l.startsWith('Patient/'))).toEqual([...patients].sort());
  expect(lines.filter((l) => l.startsWith('Observation/'))).toHaveLength(PATIENTS);
  expect(new Set(lines).size).toBe(2 * PATIENTS);
});

/** Each makes the stores of nodes over one database (undefined: the SQLite file in `dir`), and its bucket. */
const stores: [string, () => { bucket?: MemoryBucket; store: () => MongoStore | undefined }][] = [
  ['SQLite', () => ({ store: () => undefined })],
  [
    'the MongoDB adapter',
    () => {
      const database = new MingoDatabase();
      const bucket = new MemoryBucket();
      return { bucket, store: () => new MongoStore(database, bucket) };
    },
  ],
];

test.each(stores)('on %s an export completes, and its clean-up job deletes its files at expiry', async (_, nodes) => {
  const { bucket, store } = nodes();
  const services = await open({ store: store(), export: { retentionMs: 300 } });
  await seed(services, 3);
  const stored = await startExport(services, BULK_ACCESS, kickOff, 'http://x/fhir/$export');
  await waitFor(services, stored.id, (t) => t.status === 'completed');
  const status = await exportStatus(services, BULK_ACCESS, stored.id, (part) => `http://x/${part}`);
  expect(status).toMatchObject({
    state: 'done',
    manifest: {
      output: [
        { type: 'Observation', count: 3 },
        { type: 'Patient', count: 3 },
      ],
    },
  });
  expect(await exported(services, stored.id)).toHaveLength(6);

  const removed = await waitFor(services, stored.id, (t) => t.businessStatus?.text === 'files removed');
  expect(exportFiles(removed)).toHaveLength(2);
  // Gone from the store itself, not emptied.
  for (const file of exportFiles(removed)) {
    expect(await services.store.readBinaryData?.(`bulk:${stored.id}:${file.part}`, 1)).toBeUndefined();
  }
  if (bucket) expect([...bucket.files.keys()].filter((key) => key.includes(stored.id))).toEqual([]);
  await expect(exportStatus(services, BULK_ACCESS, stored.id, String)).rejects.toMatchObject({ status: 404 });
});

test.each(stores)('on %s the limit of exports in progress holds across two app nodes', async (_, nodes) => {
  const { store } = nodes();
  const held = { pollIntervalMs: 50, leaseMs: 2000, concurrency: 0 };
  const a = await open({ store: store(), jobs: held });
  const b = await open({ store: store(), jobs: held });
  await seed(a, 1);
  await startExport(a, BULK_ACCESS, kickOff, 'http://x/fhir/$export');
  await startExport(b, BULK_ACCESS, kickOff, 'http://x/fhir/$export');
  const third = startExport(a, BULK_ACCESS, kickOff, 'http://x/fhir/$export');
  await expect(third).rejects.toMatchObject({ status: 429, headers: { 'Retry-After': '30' } });
  await expect(startExport(b, BULK_ACCESS, kickOff, 'http://x/fhir/$export')).rejects.toMatchObject({ status: 429 });
  expect(await exportsInProgress(b, 'bulk')).toHaveLength(2);

  // Kick-offs at the same moment on both nodes: however they interleave, never more than the limit is kept.
  const other = { ...BULK_ACCESS, actor: 'client/racer', clientId: 'racer' };
  const results = await Promise.allSettled(
    [a, b, a, b].map((node) => startExport(node, other, kickOff, 'http://x/fhir/$export')),
  );
  const accepted = results.filter((r) => r.status === 'fulfilled');
  expect(accepted.length).toBeLessThanOrEqual(2);
  for (const r of results) {
    if (r.status === 'rejected') expect((r.reason as FhirError).status).toBe(429);
  }
  // Withdrawn kick-offs hold no place.
  expect(await exportsInProgress(a, 'racer')).toHaveLength(accepted.length);
});

test('an export stopped while listing deletions resumes from its checkpoint: each deletion listed once', async () => {
  const services = await open();
  const ids = await seed(services, 12);
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const repo = new Repository(services, SYSTEM_ACCESS);
  for (const id of ids) await repo.delete('Patient', id);
  const request = parseExportRequest({
    ...kickOff,
    query: [
      ['_type', 'Patient'],
      ['_since', since],
    ],
  });
  const job: ExportJob = {
    request,
    types: ['Patient'],
    requestUrl: 'http://x/fhir/$export',
    transactionTime: new Date().toISOString(),
    owner: 'bulk',
    access: storeAccess(BULK_ACCESS),
  };
  const written = new Map<number, string>();
  const settings = { ...DEFAULT_EXPORT_SETTINGS, parts: { resources: 2, bytes: 1 << 20 }, pageSize: 3 };
  const walk = (checkpoint: ExportCheckpoint | undefined, save: (state: ExportCheckpoint) => Promise<void>) =>
    runExport(services, {
      job,
      settings,
      checkpoint,
      sink: { write: async (part, _type, bytes) => void written.set(part, bytes.toString()) },
      save,
      assertActive: () => undefined,
    });

  let saved: ExportCheckpoint | undefined;
  let saves = 0;
  const stopped = walk(undefined, async (state) => {
    if (++saves === 3) throw new Error('the node stops');
    saved = JSON.parse(JSON.stringify(state)) as ExportCheckpoint;
  });
  await expect(stopped).rejects.toThrow('the node stops');
  expect(saved).toMatchObject({ typeIndex: 0, deletions: true });
  const resumedFrom = saved?.files.length as number;

  const done = await walk(saved, async () => undefined);
  expect(done.files.every((f) => f.deleted === 'Patient' && f.type === 'Bundle')).toBe(true);
  expect(done.files.map((f) => f.part)).toEqual([...done.files.keys()]);
  expect(resumedFrom).toBeGreaterThan(0);
  const urls = done.files.flatMap((f) =>
    (written.get(f.part) as string)
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { entry: { request: { url: string } }[] }).entry[0].request.url),
  );
  expect(urls.sort()).toEqual(ids.map((id) => `Patient/${id}`).sort());
});

test('hms export writes one NDJSON file per type into the directory it is given', async () => {
  const services = await open();
  const ids = await seed(services, 3);
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const gone = ids.pop() as string;
  await new Repository(services, SYSTEM_ACCESS).delete('Patient', gone);
  await closeServices(opened.splice(0, 1)[0]);
  const out = path.join(dir, 'out');
  const printed: string[] = [];
  const io = { out: (text: string) => printed.push(text), err: (text: string) => printed.push(text) };
  const env = { ...process.env };
  process.env.DATA_DIR = dir;
  try {
    expect(await exportCommand(['--type', 'Patient', '--out', out], io)).toBe(0);
    expect(await exportCommand(['--type'], io)).toBe(2);
    expect(await exportCommand(['--since', 'tomorrow'], io)).toBe(1);
    expect(await exportCommand(['--type', 'Patient', '--since', since, '--out', path.join(dir, 'since')], io)).toBe(0);
  } finally {
    process.env = env;
  }
  const summary = JSON.parse(printed[0]) as { output: { type: string; file: string; count: number }[] };
  expect(summary.output).toEqual([{ type: 'Patient', file: path.join(out, 'Patient.0.ndjson'), count: 2 }]);
  const lines = fs.readFileSync(summary.output[0].file, 'utf8').trim().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as Resource).id).sort()).toEqual([...ids].sort());
  expect(printed[1]).toMatch(/Usage: hms export/);
  expect(printed[2]).toMatch(/_since/);
  // With --since: nothing changed but the deletion, listed in a file of Bundles.
  const deletions = JSON.parse(printed[3]) as { output: { type: string; file: string; deleted?: string }[] };
  expect(deletions.output).toEqual([
    { type: 'Bundle', file: path.join(dir, 'since', 'Bundle.0.ndjson'), count: 1, deleted: 'Patient' },
  ]);
  const [bundle] = fs.readFileSync(deletions.output[0].file, 'utf8').trim().split('\n');
  expect(JSON.parse(bundle)).toMatchObject({
    type: 'transaction',
    entry: [{ request: { method: 'DELETE', url: `Patient/${gone}` } }],
  });
});

// The export job on the job runner, below HTTP: it survives a restart and resumes from its checkpoint (no
// resource lost or doubled), runs the same on the MongoDB adapter, and its clean-up job empties its files
// at expiry; `hms export` writes the same NDJSON to a directory.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { exportFiles } from '../../../resources/export/export-job';
import { ExportFileStore } from '../../../resources/export/file-store';
import { startExport } from '../../../resources/export/kick-off';
import { exportStatus } from '../../../resources/export/status';
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

test('on the MongoDB adapter an export completes, and its clean-up job empties its files at expiry', async () => {
  const services = await open({
    store: new MongoStore(new MingoDatabase(), new MemoryBucket()),
    export: { retentionMs: 300 },
  });
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
  const files = new ExportFileStore(services.store);
  for (const file of exportFiles(removed)) expect((await files.read(stored.id, file.part))?.length).toBe(0);
  await expect(exportStatus(services, BULK_ACCESS, stored.id, String)).rejects.toMatchObject({ status: 404 });
});

test('hms export writes one NDJSON file per type into the directory it is given', async () => {
  const services = await open();
  const ids = await seed(services, 2);
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
  } finally {
    process.env = env;
  }
  const summary = JSON.parse(printed[0]) as { output: { type: string; file: string; count: number }[] };
  expect(summary.output).toEqual([{ type: 'Patient', file: path.join(out, 'Patient.0.ndjson'), count: 2 }]);
  const lines = fs.readFileSync(summary.output[0].file, 'utf8').trim().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as Resource).id).sort()).toEqual([...ids].sort());
  expect(printed[1]).toMatch(/Usage: hms export/);
  expect(printed[2]).toMatch(/_since/);
});

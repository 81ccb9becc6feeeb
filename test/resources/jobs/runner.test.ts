// The job runner on a real SQLite store: a job survives a restart and resumes from its checkpoint, a job whose
// runner died is re-queued from its expired lease, failures retry with backoff up to the attempt cap, and a
// cancel stops a running job at its next checkpoint.
import { PermanentJobError } from '../../../resources/jobs/handler';
import { JobSigner } from '../../../resources/jobs/signature';
import { JOB_KIND_SYSTEM, newJobTask, applyJobChange, readJob } from '../../../resources/jobs/job-task';
import { claim } from '../../../resources/jobs/lease';
import {
  countInput,
  countingHandler,
  freshDir,
  newLog,
  openNode,
  readTask,
  removeDir,
  waitForTask,
  waitUntil,
  type Node,
} from './jobs-harness';

let dir: string;
const open: Node[] = [];

beforeEach(() => {
  dir = freshDir();
});
afterEach(async () => {
  for (const node of open.splice(0)) await node.close();
  removeDir(dir);
});

async function node(settings = {}): Promise<Node> {
  const opened = await openNode(dir, settings);
  open.push(opened);
  return opened;
}

async function closeNode(closing: Node): Promise<void> {
  open.splice(open.indexOf(closing), 1);
  await closing.close();
}

/** A job Task the server queued at `past` (authoredOn may not be later than lastModified). */
async function pastTask(at: Node, input: ReturnType<typeof countInput>, maxAttempts: number, past: number) {
  const signature = await new JobSigner(at.services.store).sign('count', input);
  return { ...newJobTask('count', 'Count', input, maxAttempts, signature), authoredOn: new Date(past).toISOString() };
}

const items = (log: ReturnType<typeof newLog>, id: string) => log.processed.filter(([t]) => t === id).map(([, i]) => i);

test('a job enqueued on a node with a free slot starts at once and completes with its outputs', async () => {
  const log = newLog();
  const a = await node();
  a.jobs.register(countingHandler(log));
  const stored = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(3) });
  const { task, job } = await readTask(a.repo, stored.id);
  expect(task.status).toBe('in-progress');
  expect(task.code).toEqual({ coding: [{ system: JOB_KIND_SYSTEM, code: 'count' }], text: 'Count' });
  expect(job.owner).toBe(a.jobs.settings.nodeId);
  expect(job.attempts).toBe(1);

  const done = await waitForTask(a.repo, stored.id, (t) => t.status === 'completed');
  expect(done.task.output).toEqual([{ type: { text: 'done' }, valueInteger: 3 }]);
  expect(done.task.executionPeriod?.end).toBeDefined();
  expect(done.job.owner).toBeUndefined();
  expect(items(log, stored.id)).toEqual([0, 1, 2]);
});

test('a job survives a restart: the stopped node hands it back, the reopened one resumes from the checkpoint', async () => {
  const log = newLog();
  const first = await node();
  first.jobs.register(countingHandler(log, { stepMs: 30 }));
  const { id } = await first.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(12) });
  await waitUntil(() => items(log, id).length >= 3);
  await closeNode(first);

  const handedBack = await readTask((await node()).repo, id);
  expect(handedBack.job).toMatchObject({ status: 'requested', attempts: 0 });
  expect(handedBack.job.owner).toBeUndefined();
  const checkpoint = (handedBack.job.checkpoint as { next: number }).next;
  expect(checkpoint).toBeGreaterThanOrEqual(3);

  const second = open[0];
  second.jobs.register(countingHandler(log, { stepMs: 1 }));
  const done = await waitForTask(second.repo, id, (t) => t.status === 'completed');
  expect(done.job.attempts).toBe(1);
  // The second run began where the first one's last checkpoint was, and the job completed once.
  expect(log.starts).toEqual([
    [id, 0],
    [id, checkpoint],
  ]);
  expect(log.completions).toEqual([id]);
  expect([...new Set(items(log, id))]).toEqual([...Array(12).keys()]);
  // At most the one item after the last checkpoint is done twice (steps are idempotent).
  expect(items(log, id).length).toBeLessThanOrEqual(13);
});

test('a job whose node died (lease expired) is re-queued, resumes from its checkpoint and completes', async () => {
  const log = newLog();
  const a = await node();
  const past = Date.now() - 10_000;
  const queued = await pastTask(a, countInput(5), 3, past);
  const dead = applyJobChange(
    queued,
    { ...claim(readJob(queued), 'dead-node', past, 1000), checkpoint: { next: 2 } },
    past,
  );
  const { stored } = await a.repo.create('Task', dead);
  a.jobs.register(countingHandler(log));

  const done = await waitForTask(a.repo, stored.id, (t) => t.status === 'completed');
  expect(done.job.attempts).toBe(2);
  expect(log.starts).toEqual([[stored.id, 2]]);
  expect(items(log, stored.id)).toEqual([2, 3, 4]);
});

test('a lease that keeps expiring fails the job once its attempts are used up, not forever', async () => {
  const a = await node();
  const past = Date.now() - 10_000;
  const task = await pastTask(a, countInput(5), 2, past);
  const exhausted = applyJobChange(task, { ...claim(readJob(task), 'dead-node', past, 1000), attempts: 2 }, past);
  const { stored } = await a.repo.create('Task', exhausted);
  expect(await a.jobs.reconcile()).toBe(1);
  const { task: failed } = await readTask(a.repo, stored.id);
  expect(failed.status).toBe('failed');
  expect(failed.statusReason?.text).toMatch(/stopped before it finished.*attempt 2 of 2; no more retries/);
  expect(await a.jobs.reconcile()).toBe(0);
});

test('a running job renews its lease (heartbeat), so a live job is never taken for a dead one', async () => {
  const log = newLog();
  const a = await node({ leaseMs: 300 });
  a.jobs.register({
    kind: 'count',
    run: async (context) => {
      // Saves nothing for over two lease periods: only the heartbeat keeps the lease.
      await new Promise((resolve) => setTimeout(resolve, 800));
      context.assertActive();
      log.completions.push(context.taskId);
      return [];
    },
  });
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count' });
  await new Promise((resolve) => setTimeout(resolve, 450));
  const running = await readTask(a.repo, id);
  expect(running.job.leaseUntil).toBeGreaterThan(Date.now());
  expect(await a.jobs.reconcile(Date.now())).toBe(0);
  const done = await waitForTask(a.repo, id, (t) => t.status === 'completed');
  expect(done.job.attempts).toBe(1);
  expect(log.completions).toEqual([id]);
});

test('a failing attempt is retried after a backoff, resuming from its checkpoint', async () => {
  const log = newLog();
  const a = await node();
  a.jobs.register(countingHandler(log, { failOn: (attempt, item) => attempt === 1 && item === 2 }));
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(4) });

  const waiting = await waitForTask(a.repo, id, (t) => t.status === 'requested');
  expect(waiting.task.statusReason?.text).toBe('item 2 failed (attempt 1 of 3; retrying)');
  const failedAt = Date.parse(waiting.task.lastModified as string);
  expect(waiting.job.notBefore).toBe(failedAt + 150);

  const done = await waitForTask(a.repo, id, (t) => t.status === 'completed');
  expect(done.job.attempts).toBe(2);
  expect(Date.parse(done.task.executionPeriod?.end as string)).toBeGreaterThanOrEqual(failedAt + 150);
  expect(done.task.statusReason).toBeUndefined();
  expect(log.starts).toEqual([
    [id, 0],
    [id, 2],
  ]);
  expect(items(log, id)).toEqual([0, 1, 2, 3]);
});

test('backoff doubles per attempt; when the attempts are used up the job fails with the reason', async () => {
  const log = newLog();
  const a = await node({ maxAttempts: 3 });
  a.jobs.register(countingHandler(log, { failOn: () => true }));
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(1) });

  const second = await waitForTask(a.repo, id, (_, job) => job.status === 'requested' && job.attempts === 2);
  expect(second.job.notBefore).toBe(Date.parse(second.task.lastModified as string) + 300);
  const failed = await waitForTask(a.repo, id, (t) => t.status === 'failed');
  expect(failed.task.statusReason?.text).toBe('item 0 failed (attempt 3 of 3; no more retries)');
  expect(failed.job.attempts).toBe(3);
  expect(log.starts).toHaveLength(3);
});

test('a cancelled job stops at its next checkpoint and stays cancelled; a queued one never runs', async () => {
  const log = newLog();
  const a = await node({ concurrency: 1 });
  a.jobs.register(countingHandler(log, { stepMs: 20 }));
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(1000) });
  const queued = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(3) });
  expect((await readTask(a.repo, queued.id)).task.status).toBe('requested');
  expect(await a.jobs.cancel(queued.id)).toBe(true);
  await waitUntil(() => items(log, id).length >= 2);

  expect(await a.jobs.cancel(id)).toBe(true);
  const stoppedAt = items(log, id).length;
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(items(log, id).length).toBeLessThanOrEqual(stoppedAt + 1);
  const { task, job } = await readTask(a.repo, id);
  expect(task.status).toBe('cancelled');
  expect(job.owner).toBe(a.jobs.settings.nodeId);
  expect(log.completions).toEqual([]);
  expect(items(log, queued.id)).toEqual([]);
  expect(await a.jobs.cancel(id)).toBe(false);
});

test('a client that sets the Task to cancelled (a plain update) stops the job the same way', async () => {
  const log = newLog();
  const a = await node();
  a.jobs.register(countingHandler(log, { stepMs: 20 }));
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(1000) });
  await waitUntil(() => items(log, id).length >= 1);
  const { task } = await readTask(a.repo, id);
  await a.repo.update('Task', id, { ...task, status: 'cancelled' });
  await waitUntil(() => a.jobs['running'].size === 0);
  expect((await readTask(a.repo, id)).task.status).toBe('cancelled');
  expect(log.completions).toEqual([]);
});

test('a node runs at most `concurrency` jobs at once; the others wait in the queue', async () => {
  const log = newLog();
  const a = await node({ concurrency: 2 });
  let running = 0;
  let most = 0;
  a.jobs.register({
    kind: 'count',
    run: async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 60));
      running--;
      log.completions.push('x');
      return [];
    },
  });
  const ids = await Promise.all(
    Array.from({ length: 5 }, () => a.jobs.enqueue({ kind: 'count', label: 'Count' }).then((s) => s.id)),
  );
  for (const id of ids) await waitForTask(a.repo, id, (t) => t.status === 'completed');
  expect(most).toBe(2);
  expect(log.completions).toHaveLength(5);
});

test('a handler error that no retry can fix fails the job at once', async () => {
  const a = await node();
  a.jobs.register({
    kind: 'count',
    run: async () => {
      throw new PermanentJobError('Group/x is not known');
    },
  });
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count' });
  const { task, job } = await waitForTask(a.repo, id, (t) => t.status === 'failed');
  expect(task.statusReason?.text).toBe('Group/x is not known');
  expect(job.attempts).toBe(1);
});

test('a job Task the server did not queue (a client wrote it) is refused, never run', async () => {
  const log = newLog();
  const a = await node();
  a.jobs.register(countingHandler(log));
  const signed = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(1) });
  await waitForTask(a.repo, signed.id, (t) => t.status === 'completed');
  const { task } = await readTask(a.repo, signed.id);
  // The same job with other input, or without a signature, as a client allowed to write Tasks could post it.
  const forged = newJobTask('count', 'Count', countInput(7), 3, readJob(task).signature as string);
  const unsigned = { ...forged, extension: forged.extension?.filter((e) => !e.url.endsWith('signature')) };
  for (const body of [forged, unsigned]) {
    const { stored } = await a.repo.create('Task', body);
    const refused = await waitForTask(a.repo, stored.id, (t) => t.status === 'failed');
    expect(refused.task.statusReason?.text).toMatch(/signature does not check/);
  }
  expect(log.starts).toHaveLength(1);
});

test('a resident job: one Task under its id, re-armed when it ended, taking no slot, its saves resetting attempts', async () => {
  const a = await node({ concurrency: 1 });
  let saves = 0;
  let release: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (release = resolve));
  a.jobs.register({
    kind: 'resident',
    resident: true,
    run: async (context) => {
      await context.save({ round: ++saves });
      await stopped;
      context.assertActive();
      return [];
    },
  });
  const request = { kind: 'resident', label: 'Resident', maxAttempts: 2 };
  await Promise.all([a.jobs.ensureResident('the-resident', request), a.jobs.ensureResident('the-resident', request)]);
  const running = await waitForTask(a.repo, 'the-resident', (t) => t.status === 'in-progress' && saves === 1);
  // Its claim counted one attempt; the save set it back to 1, whatever came before.
  expect(running.job.attempts).toBe(1);
  // It takes no slot: an ordinary job still runs on this one-slot node.
  const log = newLog();
  a.jobs.register(countingHandler(log));
  const other = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(1) });
  await waitForTask(a.repo, other.id, (t) => t.status === 'completed');
  // Asking again while it runs changes nothing.
  const version = (await a.repo.read('Task', 'the-resident')).versionId;
  await a.jobs.ensureResident('the-resident', request);
  expect((await a.repo.read('Task', 'the-resident')).versionId).toBe(version);

  // Cancelled by an admin, it is queued afresh by the next ensureResident (at the next start).
  expect(await a.jobs.cancel('the-resident')).toBe(true);
  release();
  await waitForTask(a.repo, 'the-resident', (t) => t.status === 'cancelled');
  await a.jobs.ensureResident('the-resident', request);
  await waitForTask(a.repo, 'the-resident', (t) => t.status === 'completed' && saves === 2);
});

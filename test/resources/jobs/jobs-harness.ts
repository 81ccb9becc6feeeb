// Shared pieces of the job runner tests: services on a temporary store, fast runner settings, a countable
// job kind that walks items with a checkpoint per item, and polling for a Task's state.
import fs from 'node:fs';
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import type { JobContext, JobHandler } from '../../../resources/jobs/handler';
import { readJob, type JobState } from '../../../resources/jobs/job-task';
import { JobRunner, type JobRunnerSettings } from '../../../resources/jobs/runner';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import { closeServices, openServices } from '../../../server/services';
import type { ResourceStore } from '../../../resources/store/port';
import { tempDir } from '../../support/app';

export const FAST: Partial<JobRunnerSettings> = {
  pollIntervalMs: 50,
  leaseMs: 600,
  concurrency: 2,
  maxAttempts: 3,
  retry: { baseDelayMs: 150, maxDelayMs: 1000 },
};

export interface Node {
  services: RepositoryServices;
  jobs: JobRunner;
  repo: Repository;
  close: () => Promise<void>;
}

/** Services on `dataDir` (or `store`) with a runner of their own, started. */
export async function openNode(
  dataDir: string,
  settings: Partial<JobRunnerSettings> = {},
  store?: ResourceStore,
): Promise<Node> {
  const services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL', store });
  const jobs = new JobRunner(services, { ...FAST, ...settings });
  await jobs.start();
  return {
    services,
    jobs,
    repo: new Repository(services, SYSTEM_ACCESS),
    close: async () => {
      await jobs.stop();
      await closeServices(services);
    },
  };
}

export function freshDir(): string {
  return tempDir('hms-jobs-');
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** What the counting handler saw, across every runner and attempt of the test. */
export interface CountLog {
  /** [taskId, item] per item processed. */
  processed: [string, number][];
  /** [taskId, first item] per attempt started. */
  starts: [string, number][];
  completions: string[];
}

export const newLog = (): CountLog => ({ processed: [], starts: [], completions: [] });

/**
 * Kind `count`: processes items 0..n-1 (n from input `items`), `stepMs` each, saving `{ next }` after each;
 * `failOn(attempt, item)` makes an item throw.
 */
export function countingHandler(
  log: CountLog,
  options: { stepMs?: number; failOn?: (attempt: number, item: number) => boolean; kind?: string } = {},
): JobHandler {
  return {
    kind: options.kind ?? 'count',
    async run(context: JobContext): Promise<TaskOutput[]> {
      const items = context.task.input?.find((i) => i.type.text === 'items')?.valueInteger ?? 0;
      let next = (context.checkpoint as { next?: number } | undefined)?.next ?? 0;
      log.starts.push([context.taskId, next]);
      for (; next < items;) {
        context.assertActive();
        if (options.failOn?.(context.attempt, next)) throw new Error(`item ${next} failed`);
        await new Promise((resolve) => setTimeout(resolve, options.stepMs ?? 5));
        log.processed.push([context.taskId, next]);
        next++;
        await context.save({ next }, [{ type: { text: 'done' }, valueInteger: next }]);
      }
      log.completions.push(context.taskId);
      return [{ type: { text: 'done' }, valueInteger: next }];
    },
  };
}

export const countInput = (items: number) => [{ type: { text: 'items' }, valueInteger: items }];

export async function readTask(repo: Repository, id: string): Promise<{ task: Task; job: JobState }> {
  const task = JSON.parse((await repo.read('Task', id)).json as string) as Task;
  return { task, job: readJob(task) };
}

/** Polls the Task until `done` holds for it (10 s at most). */
export async function waitForTask(
  repo: Repository,
  id: string,
  done: (task: Task, job: JobState) => boolean,
): Promise<{ task: Task; job: JobState }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const read = await readTask(repo, id);
    if (done(read.task, read.job)) return read;
    if (Date.now() > deadline) throw new Error(`Task/${id} never got there: ${JSON.stringify(read.task)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Background $reindex jobs: rewrite the search-index rows of current resources from the current registry (no
// new versions), one short store transaction per batch, so a parameter created at run time finds old data too.
// Each job reports through a Task resource: in-progress with a running count, then completed or failed.
import type { Resource, Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { conflict } from '../errors';
import { Repository, type ReindexStarter, type RepositoryServices } from '../repository';
import type { StoredVersion } from '../store/port';
import { extractIndexEntries } from './extract';
import { RESOURCE_TYPES } from './resource-types';

/** Resources per batch: small enough that extraction and the write transaction stay short. */
export const REINDEX_BATCH = 200;

/** The Task is updated at most this often while a job runs (each update is a new version). */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * An in-progress Task not updated for this long has no job behind it (its server crashed or was killed): a
 * running job reports every PROGRESS_INTERVAL_MS, also when other server nodes share the store.
 */
export const ABANDONED_AFTER_MS = 60_000;

type TaskStatus = 'in-progress' | 'completed' | 'failed';

export class ReindexJobs implements ReindexStarter {
  /** resource type -> id of the Task of the job reindexing it. */
  private readonly running = new Map<string, string>();
  private readonly jobs = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly services: RepositoryServices) {}

  /**
   * Creates the job's Task and starts the job over these types (every type when absent: system level); 409 when
   * another job is reindexing one of them.
   */
  async start(repo: Repository, types?: string[]): Promise<StoredVersion> {
    const resourceTypes = types ?? [...RESOURCE_TYPES];
    const busy = resourceTypes.find((type) => this.running.has(type));
    if (busy) {
      throw conflict(`$reindex of ${busy} is already running: Task/${this.running.get(busy) ?? ''}`);
    }
    // Reserved before the Task write, so two requests arriving together cannot both start.
    for (const type of resourceTypes) this.running.set(type, '');
    let task: StoredVersion;
    try {
      task = (await repo.create('Task', reindexTask(types, 'in-progress', 0))).stored;
    } catch (error) {
      for (const type of resourceTypes) this.running.delete(type);
      throw error;
    }
    for (const type of resourceTypes) this.running.set(type, task.id);
    const job = this.run(task.id, types, resourceTypes).finally(() => {
      for (const type of resourceTypes) this.running.delete(type);
      this.jobs.delete(job);
    });
    this.jobs.add(job);
    return task;
  }

  /**
   * Marks the Tasks of jobs that died with their server (in-progress, silent for ABANDONED_AFTER_MS) as
   * failed, so a client polling one learns to run $reindex again. Run at start-up; returns how many.
   */
  async failAbandoned(now = Date.now()): Promise<number> {
    const repo = new Repository(this.services, SYSTEM_ACCESS);
    const params: [string, string][] = [
      ['status', 'in-progress'],
      ['code:text', '$reindex'],
      ['_lastUpdated', `lt${new Date(now - ABANDONED_AFTER_MS).toISOString()}`],
      ['_count', '1000'],
    ];
    const { page } = await repo.search(['Task'], params, { strict: true });
    for (const stored of page.entries) {
      const task = JSON.parse(stored.json as string) as Task;
      const reason = 'The server stopped before the reindex was complete: run $reindex again';
      await repo.update('Task', stored.id, {
        ...task,
        status: 'failed',
        statusReason: { text: reason },
        lastModified: new Date(now).toISOString(),
      });
    }
    return page.entries.length;
  }

  /** Ends running jobs at their next batch (their Tasks say failed) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.jobs);
  }

  private async run(taskId: string, types: string[] | undefined, resourceTypes: string[]): Promise<void> {
    const repo = new Repository(this.services, SYSTEM_ACCESS);
    const progress = { reindexed: 0, reportedAt: Date.now() };
    const report = (status: TaskStatus, reason?: string) =>
      repo.update('Task', taskId, { ...reindexTask(types, status, progress.reindexed, reason), id: taskId });
    try {
      for (const type of resourceTypes) {
        await this.reindexType(type, progress, () => report('in-progress'));
      }
      await report('completed');
    } catch (error) {
      await report('failed', (error as Error).message).catch(() => undefined);
    }
  }

  private async reindexType(
    resourceType: string,
    progress: { reindexed: number; reportedAt: number },
    reportProgress: () => Promise<unknown>,
  ): Promise<void> {
    const { store, registry } = this.services;
    const entriesFor = (stored: StoredVersion) =>
      extractIndexEntries(registry, JSON.parse(stored.json as string) as Resource);
    let after: string | undefined;
    do {
      if (this.stopping) throw new Error('The server stopped before the reindex was complete');
      const batch = await store.reindex(resourceType, { after, count: REINDEX_BATCH }, entriesFor);
      progress.reindexed += batch.count;
      after = batch.next;
      if (Date.now() - progress.reportedAt >= PROGRESS_INTERVAL_MS) {
        progress.reportedAt = Date.now();
        await reportProgress();
      }
      // Requests waiting on the event loop run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    } while (after);
  }
}

/** `types` undefined: a system-level job. */
function reindexTask(types: string[] | undefined, status: TaskStatus, reindexed: number, reason?: string): Task {
  const now = new Date().toISOString();
  return {
    resourceType: 'Task',
    status,
    intent: 'order',
    code: { text: '$reindex' },
    lastModified: now,
    ...(reason ? { statusReason: { text: reason } } : {}),
    input: types
      ? types.map((type) => ({ type: { text: 'resourceType' }, valueCode: type }))
      : [{ type: { text: 'level' }, valueCode: 'system' }],
    output: [{ type: { text: 'reindexed' }, valueInteger: reindexed }],
  };
}

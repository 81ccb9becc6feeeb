// Background $reindex jobs: rewrite the search-index rows of current resources from the current registry (no
// new versions), one short store transaction per batch, so a parameter created at run time finds old data too.
// A job is a Task run by the job runner (resources/jobs): it checkpoints its position (type and store cursor)
// about once a second, so a job resumed after a restart or a failed attempt continues where it was.
import type { Resource, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { conflict } from '../errors';
import type { JobContext, JobHandler } from '../jobs/handler';
import { JOB_KIND_SYSTEM } from '../jobs/job-task';
import type { JobQueue } from '../jobs/queue';
import { Repository, type ReindexStarter, type RepositoryServices } from '../repository';
import type { StoredVersion } from '../store/port';
import { extractIndexEntries } from './extract';
import { RESOURCE_TYPES } from './resource-types';

export const REINDEX_KIND = 'reindex';

/** Resources per batch: small enough that extraction and the write transaction stay short. */
export const REINDEX_BATCH = 200;

/** The Task is checkpointed at most this often while a job runs (each update is a new version). */
const PROGRESS_INTERVAL_MS = 1000;

/** Where a job is: the index in its list of types, the store cursor in that type, and the count so far. */
interface ReindexCheckpoint {
  typeIndex: number;
  after?: string;
  reindexed: number;
}

export class ReindexJobs implements ReindexStarter, JobHandler {
  readonly kind = REINDEX_KIND;
  /** Starts on this node one at a time, so two requests arriving together cannot both pass the busy check. */
  private starting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly services: RepositoryServices,
    private readonly jobs: JobQueue,
  ) {}

  /**
   * Queues a job over these types (every type when absent: system level) and returns its Task; 409 when a
   * queued or running job covers one of them.
   */
  start(types?: string[]): Promise<StoredVersion> {
    const started = this.starting.then(async () => {
      await this.checkNotBusy(types ?? [...RESOURCE_TYPES]);
      return this.jobs.enqueue({ kind: REINDEX_KIND, label: '$reindex', input: reindexInput(types) });
    });
    this.starting = started.catch(() => undefined);
    return started;
  }

  async run(context: JobContext): Promise<TaskOutput[]> {
    const types = typesOf(context.task.input);
    const position: ReindexCheckpoint = (context.checkpoint as ReindexCheckpoint | undefined) ?? {
      typeIndex: 0,
      reindexed: 0,
    };
    let savedAt = Date.now();
    while (position.typeIndex < types.length) {
      context.assertActive();
      const batch = await this.services.store.reindex(
        types[position.typeIndex],
        { after: position.after, count: REINDEX_BATCH },
        (stored) => this.entriesFor(stored),
      );
      position.reindexed += batch.count;
      position.after = batch.next;
      if (!batch.next) position.typeIndex++;
      if (Date.now() - savedAt >= PROGRESS_INTERVAL_MS) {
        savedAt = Date.now();
        await context.save(position, reindexedOutput(position.reindexed));
      }
      // Requests waiting on the event loop run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return reindexedOutput(position.reindexed);
  }

  private entriesFor(stored: StoredVersion) {
    return extractIndexEntries(this.services.registry, JSON.parse(stored.json as string) as Resource);
  }

  private async checkNotBusy(types: string[]): Promise<void> {
    const repo = new Repository(this.services, SYSTEM_ACCESS);
    const params: [string, string][] = [
      ['status', 'requested,in-progress'],
      ['code', `${JOB_KIND_SYSTEM}|${REINDEX_KIND}`],
      ['_count', '100'],
    ];
    const { page } = await repo.search(['Task'], params, { strict: true, internal: true });
    for (const stored of page.entries) {
      const input = (JSON.parse(stored.json as string) as { input?: TaskInput[] }).input;
      const busy = typesOf(input).find((type) => types.includes(type));
      if (busy) throw conflict(`$reindex of ${busy} is already running: Task/${stored.id}`);
    }
  }
}

/** `types` undefined: a system-level job. */
function reindexInput(types: string[] | undefined): TaskInput[] {
  return types
    ? types.map((type) => ({ type: { text: 'resourceType' }, valueCode: type }))
    : [{ type: { text: 'level' }, valueCode: 'system' }];
}

function typesOf(input: TaskInput[] | undefined): string[] {
  const named = (input ?? []).filter((i) => i.type.text === 'resourceType').map((i) => i.valueCode as string);
  return named.length > 0 ? named : [...RESOURCE_TYPES];
}

function reindexedOutput(reindexed: number): TaskOutput[] {
  return [{ type: { text: 'reindexed' }, valueInteger: reindexed }];
}

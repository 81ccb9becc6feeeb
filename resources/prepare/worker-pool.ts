// Runs write preparation on a pool of worker threads, so validation and index extraction use the cores
// the event loop does not. Each request goes to the worker with the fewest requests in flight; SearchParameter
// changes go to every worker, and are replayed to a worker that replaces one that died.
import type { OperationOutcomeIssue, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { PreparedWrite, SearchParameterChange, WritePreparer } from './preparer';
import type { WorkerMessage } from './worker';
import { builtScript } from '../built-script';
import { ThreadPool, WorkerPoolError, type PoolThread, type WorkerLoad } from '../thread-pool';

export { WorkerPoolError };

/** Resources per message of prepareMany. */
const PREPARE_CHUNK = 50;

export function workerScript(): string | undefined {
  return builtScript(__dirname, 'resources/prepare/worker');
}

export class WorkerPreparer implements WritePreparer {
  /** Every change so far, folded: what a fresh worker needs to catch up with the others. */
  private readonly added = new Map<string, SearchParameter>();
  private readonly removed = new Set<string>();

  private constructor(private readonly pool: ThreadPool) {
    pool.onReplace = (thread) => this.replay(thread);
  }

  /** Starts `size` workers and waits until each has loaded its definitions. */
  static async start(size: number, script: string): Promise<WorkerPreparer> {
    const pool = await ThreadPool.start(size, {
      script,
      name: 'preparation',
      toError: (error) => new WorkerPoolError(error as string),
    });
    return new WorkerPreparer(pool);
  }

  /** The running workers (a live list). */
  private get workers(): PoolThread[] {
    return this.pool.threads;
  }

  /** Workers running and requests in flight or waiting (for /metrics and /readyz). */
  load(): WorkerLoad {
    return this.pool.load();
  }

  prepare(resource: Resource): Promise<PreparedWrite> {
    return this.pool.send({ kind: 'prepare', json: JSON.stringify(resource) }) as Promise<PreparedWrite>;
  }

  /**
   * One message per chunk of resources rather than per resource: a message costs each side some microseconds,
   * as much as validating a small resource; chunks still spread a large Bundle over every worker.
   */
  async prepareMany(resources: Resource[]): Promise<PreparedWrite[]> {
    const chunks: Resource[][] = [];
    for (let i = 0; i < resources.length; i += PREPARE_CHUNK) chunks.push(resources.slice(i, i + PREPARE_CHUNK));
    const prepared = await Promise.all(
      chunks.map(
        (chunk) => this.pool.send({ kind: 'prepare-many', json: JSON.stringify(chunk) }) as Promise<PreparedWrite[]>,
      ),
    );
    return prepared.flat();
  }

  validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]> {
    return this.pool.send({ kind: 'validate', json: JSON.stringify(resource), profiles }) as Promise<
      OperationOutcomeIssue[]
    >;
  }

  async changeSearchParameters(change: SearchParameterChange): Promise<void> {
    for (const url of change.remove) {
      this.added.delete(url);
      this.removed.add(url);
    }
    for (const parameter of change.add) this.added.set(parameter.url, parameter);
    const message: WorkerMessage = { kind: 'search-parameters', change };
    await Promise.all(this.workers.map((thread) => this.pool.sendTo(thread, message)));
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Brings a replacement worker up to date before it takes requests. */
  private replay(thread: PoolThread): void {
    const change = { remove: [...this.removed], add: [...this.added.values()] };
    if (change.remove.length + change.add.length === 0) return;
    const message: WorkerMessage = { kind: 'search-parameters', change };
    void this.pool.sendTo(thread, message).catch(() => undefined);
  }
}

// Runs write preparation on a pool of worker threads, so validation and index extraction use the cores
// the event loop does not. Each request goes to the worker with the fewest requests in flight; SearchParameter
// changes go to every worker, and are replayed to a worker that replaces one that died.
import { Worker } from 'node:worker_threads';
import type { OperationOutcomeIssue, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { PreparedWrite, SearchParameterChange, WritePreparer } from './preparer';
import type { WorkerMessage, WorkerReply, WorkerRequest } from './worker';
import { compiledWorkerScript } from '../worker-script';

interface PoolWorker {
  worker: Worker;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
}

export class WorkerPoolError extends Error {}

export function workerScript(): string | undefined {
  return compiledWorkerScript(__dirname, 'resources/prepare/worker');
}

export class WorkerPreparer implements WritePreparer {
  private nextId = 1;
  private closed = false;
  /** Every change so far, folded: what a fresh worker needs to catch up with the others. */
  private readonly added = new Map<string, SearchParameter>();
  private readonly removed = new Set<string>();

  private constructor(
    private readonly script: string,
    private readonly workers: PoolWorker[],
  ) {
    for (const worker of workers) this.watch(worker);
  }

  /** Starts `size` workers and waits until each has loaded its definitions. */
  static async start(size: number, script: string): Promise<WorkerPreparer> {
    const workers = await Promise.all(Array.from({ length: size }, () => startWorker(script)));
    return new WorkerPreparer(script, workers);
  }

  prepare(resource: Resource): Promise<PreparedWrite> {
    return this.send({ kind: 'prepare', json: JSON.stringify(resource) }) as Promise<PreparedWrite>;
  }

  validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]> {
    return this.send({ kind: 'validate', json: JSON.stringify(resource), profiles }) as Promise<
      OperationOutcomeIssue[]
    >;
  }

  async changeSearchParameters(change: SearchParameterChange): Promise<void> {
    for (const url of change.remove) {
      this.added.delete(url);
      this.removed.add(url);
    }
    for (const parameter of change.add) this.added.set(parameter.url, parameter);
    await Promise.all(this.workers.map((worker) => this.sendTo(worker, { kind: 'search-parameters', change })));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private send(request: WorkerMessage): Promise<unknown> {
    if (this.closed || this.workers.length === 0) {
      return Promise.reject(new WorkerPoolError('no preparation worker is running'));
    }
    return this.sendTo(
      this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a)),
      request,
    );
  }

  private sendTo(target: PoolWorker, request: WorkerMessage): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage({ ...request, id } satisfies WorkerRequest);
    });
  }

  /** A worker that dies fails its pending requests and is replaced, so the pool keeps its size. */
  private watch(pool: PoolWorker): void {
    pool.worker.on('exit', () => {
      failAll(pool, new WorkerPoolError('a preparation worker stopped'));
      this.workers.splice(this.workers.indexOf(pool), 1);
      if (this.closed) return;
      void startWorker(this.script).then((replacement) => {
        if (this.closed) return void replacement.worker.terminate();
        // Messages to one worker arrive in order, so the replay lands before any request sent after it.
        const replay = { remove: [...this.removed], add: [...this.added.values()] };
        if (replay.remove.length + replay.add.length > 0) {
          void this.sendTo(replacement, { kind: 'search-parameters', change: replay }).catch(() => undefined);
        }
        this.workers.push(replacement);
        this.watch(replacement);
      });
    });
  }
}

function startWorker(script: string): Promise<PoolWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script);
    const pool: PoolWorker = { worker, pending: new Map() };
    worker.once('error', reject);
    worker.on('message', (message: WorkerReply | { ready: true }) => {
      if ('ready' in message) {
        worker.off('error', reject);
        worker.on('error', (error) => failAll(pool, error));
        resolve(pool);
        return;
      }
      const waiting = pool.pending.get(message.id);
      if (!waiting) return;
      pool.pending.delete(message.id);
      if ('error' in message) waiting.reject(new WorkerPoolError(message.error));
      else waiting.resolve(message.result);
    });
  });
}

function failAll(pool: PoolWorker, error: Error): void {
  for (const waiting of pool.pending.values()) waiting.reject(error);
  pool.pending.clear();
}

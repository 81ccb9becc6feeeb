// Runs write preparation on a pool of worker threads, so validation and index extraction use the cores
// the event loop does not. Each request goes to the worker with the fewest requests in flight.
import { Worker } from 'node:worker_threads';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { PreparedWrite, WritePreparer } from './preparer';
import type { WorkerReply, WorkerRequest } from './worker';
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

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private send(request: Omit<WorkerRequest, 'id'>): Promise<unknown> {
    if (this.closed || this.workers.length === 0) {
      return Promise.reject(new WorkerPoolError('no preparation worker is running'));
    }
    const target = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
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

// A pool of worker threads that answer requests by id: each request goes to the worker with the fewest
// requests in flight, and a worker that dies fails its pending requests and is replaced, so the pool keeps its
// size. With a timeout, a request that outlives it is refused and its worker retired (see `expire`).
import { Worker } from 'node:worker_threads';

/** What a worker posts back: once `{ ready: true }`, then one reply per request. */
export type ThreadReply = { id: number; result: unknown } | { id: number; error: unknown };

export interface PoolThread {
  worker: Worker;
  pending: Map<number, Job>;
}

interface Job {
  id: number;
  message: object;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  thread?: PoolThread;
  timer?: NodeJS.Timeout;
}

export interface ThreadPoolOptions {
  script: string;
  workerData?: unknown;
  /** Names the workers in errors: "no <name> worker is running". */
  name: string;
  /** The error that a reply's `error` field stands for. */
  toError: (error: unknown) => Error;
  /** Refuse a request after `ms` with `error()`, counted from when a worker receives it (again if it moves). */
  timeout?: { ms: number; error: () => Error };
}

export class WorkerPoolError extends Error {}

export interface WorkerLoad {
  /** Worker threads running now. */
  workers: number;
  /** Requests sent to a worker or waiting for one. */
  inFlight: number;
}

export class ThreadPool {
  private nextId = 1;
  private closed = false;
  /** Replacements still starting, and the requests waiting for one while no worker is running. */
  private starting = 0;
  private readonly backlog: Job[] = [];
  /** Runs before a replacement takes requests; messages to one worker arrive in order. */
  onReplace: ((thread: PoolThread) => void) | undefined;

  private constructor(
    private readonly options: ThreadPoolOptions,
    readonly threads: PoolThread[],
  ) {
    for (const thread of threads) this.watch(thread);
  }

  /** Starts `size` workers and waits until each has said it is ready. */
  static async start(size: number, options: ThreadPoolOptions): Promise<ThreadPool> {
    const threads = await Promise.all(Array.from({ length: size }, () => startThread(options)));
    return new ThreadPool(options, threads);
  }

  send(message: object): Promise<unknown> {
    if (this.closed || this.threads.length + this.starting === 0) {
      return Promise.reject(new WorkerPoolError(`no ${this.options.name} worker is running`));
    }
    return this.enqueue(message, (job) => this.dispatch(job));
  }

  /** Workers running and requests in flight or waiting (for /metrics and /readyz). */
  load(): WorkerLoad {
    let inFlight = this.backlog.length;
    for (const thread of this.threads) inFlight += thread.pending.size;
    return { workers: this.threads.length, inFlight };
  }

  sendTo(thread: PoolThread, message: object): Promise<unknown> {
    return this.enqueue(message, (job) => this.post(thread, job));
  }

  async close(): Promise<void> {
    this.closed = true;
    failAll(this.backlog.splice(0), new WorkerPoolError(`the ${this.options.name} pool is closed`));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private enqueue(message: object, place: (job: Job) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const job: Job = { id, message: { ...message, id }, resolve, reject };
      job.resolve = (value) => settle(job, () => resolve(value));
      job.reject = (error) => settle(job, () => reject(error));
      place(job);
    });
  }

  private dispatch(job: Job): void {
    if (this.threads.length === 0) return void this.backlog.push(job);
    this.post(
      this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a)),
      job,
    );
  }

  private post(thread: PoolThread, job: Job): void {
    const { timeout } = this.options;
    clearTimeout(job.timer);
    if (timeout) job.timer = setTimeout(() => this.expire(job, thread, timeout.error()), timeout.ms);
    job.thread = thread;
    thread.pending.set(job.id, job);
    thread.worker.postMessage(job.message);
  }

  /**
   * A timed-out request is refused at once. Its worker cannot be interrupted inside a native call (a SQLite
   * statement), so it leaves the pool and is terminated, exiting when the call returns; its other requests move.
   */
  private expire(job: Job, thread: PoolThread, error: Error): void {
    job.reject(error);
    if (!this.remove(thread)) return;
    const waiting = [...thread.pending.values()];
    thread.pending.clear();
    void thread.worker.terminate();
    this.replace();
    for (const other of waiting) {
      clearTimeout(other.timer);
      this.dispatch(other);
    }
  }

  private watch(thread: PoolThread): void {
    thread.worker.on('exit', () => {
      failAll([...thread.pending.values()], new WorkerPoolError(`a ${this.options.name} worker stopped`));
      if (this.remove(thread)) this.replace();
    });
  }

  private remove(thread: PoolThread): boolean {
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads.splice(index, 1);
    return index >= 0;
  }

  private replace(): void {
    if (this.closed) return;
    this.starting++;
    startThread(this.options).then(
      (replacement) => {
        this.starting--;
        if (this.closed) return void replacement.worker.terminate();
        this.onReplace?.(replacement);
        this.threads.push(replacement);
        this.watch(replacement);
        for (const job of this.backlog.splice(0)) this.dispatch(job);
      },
      (error: Error) => {
        this.starting--;
        if (this.threads.length + this.starting === 0) failAll(this.backlog.splice(0), error);
      },
    );
  }
}

function startThread(options: ThreadPoolOptions): Promise<PoolThread> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(options.script, { workerData: options.workerData });
    const thread: PoolThread = { worker, pending: new Map() };
    const stopped = () => reject(new WorkerPoolError(`a ${options.name} worker stopped while starting`));
    worker.once('error', reject);
    worker.once('exit', stopped);
    worker.on('message', (message: ThreadReply | { ready: true }) => {
      if ('ready' in message) {
        worker.off('error', reject);
        worker.off('exit', stopped);
        worker.on('error', (error) => failAll([...thread.pending.values()], error));
        return resolve(thread);
      }
      const job = thread.pending.get(message.id);
      if (!job) return;
      if ('error' in message) job.reject(options.toError(message.error));
      else job.resolve(message.result);
    });
  });
}

/** Stops the job's clock and takes it off its worker before answering. */
function settle(job: Job, answer: () => void): void {
  clearTimeout(job.timer);
  job.thread?.pending.delete(job.id);
  answer();
}

function failAll(jobs: Job[], error: Error): void {
  for (const job of jobs) job.reject(error);
}

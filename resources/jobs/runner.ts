// The one runner of background jobs: jobs are Task resources (job-task.ts) written through a system
// repository, claimed atomically by If-Match on their version (a 412 means another node won), run under a
// renewed lease, retried with backoff, and re-queued or failed when their runner died. Every node polls the
// store for due jobs; a local enqueue kicks the poll at once.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { FhirError } from '../errors';
import { Repository, type RepositoryServices } from '../repository';
import type { StoredVersion } from '../store/port';
import { JobAttempt } from './attempt';
import type { JobHandler } from './handler';
import { JOB_KIND_SYSTEM, applyJobChange, isFinal, newJobTask, readJob, type JobChange } from './job-task';
import { afterFailure, claim, isDue, leaseExpired, type RetryPolicy } from './lease';
import type { JobQueue, JobRequest } from './queue';
import { JobSigner } from './signature';
import { parseTask } from './task-writer';

export interface JobRunnerSettings {
  /** This node's name in leases; unique per process. */
  nodeId: string;
  pollIntervalMs: number;
  /** A running job renews its lease every third of this; a lease this old means its runner died. */
  leaseMs: number;
  /** Jobs this node runs at once. */
  concurrency: number;
  maxAttempts: number;
  retry: RetryPolicy;
}

export const DEFAULT_JOB_SETTINGS: Omit<JobRunnerSettings, 'nodeId'> = {
  pollIntervalMs: 3000,
  leaseMs: 60_000,
  concurrency: 2,
  maxAttempts: 3,
  retry: { baseDelayMs: 5000, maxDelayMs: 10 * 60_000 },
};

/** Jobs looked at per poll; the rest wait for the next one. */
const POLL_BATCH = 100;

export class JobRunner implements JobQueue {
  readonly settings: JobRunnerSettings;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<string, { attempt: JobAttempt; done: Promise<void>; resident: boolean }>();
  private readonly repo: Repository;
  private readonly signer: JobSigner;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private pollAgain = false;
  private reserved = 0;
  private started = false;
  private stopping = false;

  constructor(services: RepositoryServices, settings: Partial<JobRunnerSettings> = {}) {
    this.settings = { ...DEFAULT_JOB_SETTINGS, nodeId: `${os.hostname()}/${process.pid}/${randomUUID()}`, ...settings };
    this.repo = new Repository(services, SYSTEM_ACCESS);
    this.signer = new JobSigner(services.store);
  }

  /** Registers the handler of a kind; jobs of it queued already are looked for at once. */
  register(handler: JobHandler): void {
    this.handlers.set(handler.kind, handler);
    this.kick();
  }

  /**
   * Writes the job's Task. When this node runs the kind and has a free slot, the Task is written already
   * claimed by it and the job starts once the write is durable (no wait for a poll); otherwise it is queued.
   */
  async enqueue(request: JobRequest): Promise<StoredVersion> {
    const maxAttempts = request.maxAttempts ?? this.settings.maxAttempts;
    const input = request.input ?? [];
    const signature = await this.signer.sign(request.kind, input);
    const created = newJobTask(request.kind, request.label, input, maxAttempts, signature);
    const later = request.notBefore !== undefined && request.notBefore > Date.now();
    const queued = later ? applyJobChange(created, { notBefore: request.notBefore }, Date.now()) : created;
    const handler = this.handlers.get(request.kind);
    const runHere =
      handler !== undefined && !later && this.started && !this.stopping && this.busySlots() < this.settings.concurrency;
    if (!runHere) {
      const { stored } = await this.repo.create('Task', queued);
      this.kick();
      return stored;
    }
    this.reserved++;
    try {
      const now = Date.now();
      const claimed = applyJobChange(
        queued,
        claim(readJob(queued), this.settings.nodeId, now, this.settings.leaseMs),
        now,
      );
      const { stored } = await this.repo.create('Task', claimed);
      this.begin(stored, handler);
      return stored;
    } finally {
      this.reserved--;
    }
  }

  async ensureResident(id: string, request: JobRequest): Promise<void> {
    const existing = await this.repo.read('Task', id).catch((error: unknown) => {
      if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
      throw error;
    });
    if (existing && !isFinal(readJob(parseTask(existing)).status)) return;
    const input = request.input ?? [];
    const signature = await this.signer.sign(request.kind, input);
    const maxAttempts = request.maxAttempts ?? this.settings.maxAttempts;
    const task: Task = { ...newJobTask(request.kind, request.label, input, maxAttempts, signature), id };
    const options = existing ? { ifMatch: existing.versionId } : { ifNoneMatch: true };
    try {
      await this.repo.update('Task', id, task, options);
    } catch (error) {
      // Another node wrote it first.
      if (!(error instanceof FhirError && error.status === 412)) throw error;
    }
    this.kick();
  }

  async cancel(taskId: string): Promise<boolean> {
    for (;;) {
      const stored = await this.repo.read('Task', taskId);
      const task = parseTask(stored);
      if (isFinal(readJob(task).status)) return false;
      const cancelled = applyJobChange(task, { status: 'cancelled', businessStatus: 'cancelled' }, Date.now());
      if (await this.writeIfCurrent(stored, cancelled)) {
        this.running.get(taskId)?.attempt.stop('cancelled');
        return true;
      }
    }
  }

  async start(): Promise<void> {
    this.started = true;
    await this.poll();
    this.schedule();
  }

  /** Polls now (soon, if a poll is under way). */
  kick(): void {
    if (!this.started || this.stopping) return;
    // A failed poll (the store busy or closing) is retried by the next one.
    setImmediate(() => this.poll().catch(() => undefined));
  }

  /** Re-queues or fails jobs with expired leases, then claims and starts due jobs up to the concurrency. */
  poll(now = Date.now()): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = this.pollOnce(now).finally(() => {
      this.polling = undefined;
      if (this.pollAgain && !this.stopping) {
        this.pollAgain = false;
        this.kick();
      }
    });
    return this.polling;
  }

  /** Stops claiming, asks running jobs to stop at their next step (they hand their jobs back) and waits. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    for (const { attempt } of this.running.values()) attempt.stop('stopping');
    await this.polling;
    // A claim that was under way when the stop began started its job after the loop above.
    for (const { attempt } of this.running.values()) attempt.stop('stopping');
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /**
   * Jobs whose runner died: back to requested after the backoff, or failed once their attempts are used. Jobs of
   * every kind, also those this node does not run, so that a job never stays in progress forever.
   */
  async reconcile(now = Date.now()): Promise<number> {
    let changed = 0;
    for (const stored of await this.jobsIn('in-progress')) {
      const job = readJob(parseTask(stored));
      if (this.running.has(stored.id) || !leaseExpired(job, now)) continue;
      const reason = 'The node running the job stopped before it finished';
      if (await this.change(stored, afterFailure(job, reason, now, this.settings.retry), now)) changed++;
    }
    return changed;
  }

  private async pollOnce(now: number): Promise<void> {
    if (this.stopping) return;
    await this.reconcile(now);
    if (this.handlers.size === 0) return;
    for (const stored of await this.jobsIn('requested', [...this.handlers.keys()])) {
      if (this.stopping || this.busySlots() >= this.settings.concurrency) return;
      // A job this node still runs (an attempt that lost its lease and has not noticed yet) is not claimed twice.
      if (!this.running.has(stored.id) && isDue(readJob(parseTask(stored)), now)) await this.tryClaim(stored);
    }
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.settings.pollIntervalMs);
    this.timer.unref();
  }

  private async tryClaim(stored: StoredVersion): Promise<void> {
    const task = parseTask(stored);
    const job = readJob(task);
    const handler = this.handlers.get(job.kind);
    if (!handler) return;
    const now = Date.now();
    if (!(await this.signer.verify(job.kind, task.input, job.signature))) return this.refuse(stored, task);
    const claimed = await this.writeIfCurrent(
      stored,
      applyJobChange(task, claim(job, this.settings.nodeId, now, this.settings.leaseMs), now),
    );
    if (claimed) this.begin(claimed, handler);
  }

  /**
   * A job whose signature does not check was not queued by a server node: it is never run, and marked failed
   * unless the key is this node's own (then another node may have queued it).
   */
  private async refuse(stored: StoredVersion, task: Task): Promise<void> {
    if (!(await this.signer.isShared())) return;
    const reason = 'Not a job the server queued: its signature does not check';
    const change = { status: 'failed', reason, businessStatus: 'failed' } as const;
    await this.writeIfCurrent(stored, applyJobChange(task, change, Date.now()));
  }

  /** Runs an attempt at a job this node has just claimed. */
  private begin(claimed: StoredVersion, handler: JobHandler): void {
    const { nodeId, leaseMs, retry } = this.settings;
    const resident = handler.resident === true;
    const attempt = new JobAttempt(this.repo, claimed, { owner: nodeId, leaseMs, retry, resident });
    if (this.stopping) attempt.stop('stopping');
    const done = attempt.run(handler).finally(() => {
      this.running.delete(claimed.id);
      this.kick();
    });
    this.running.set(claimed.id, { attempt, done, resident });
  }

  /** Slots taken by running jobs (resident ones aside) and by claims being written. */
  private busySlots(): number {
    let busy = this.reserved;
    for (const { resident } of this.running.values()) if (!resident) busy++;
    return busy;
  }

  private async change(stored: StoredVersion, change: JobChange, now: number): Promise<boolean> {
    return (await this.writeIfCurrent(stored, applyJobChange(parseTask(stored), change, now))) !== undefined;
  }

  /** Writes the Task if `stored` is still its current version; undefined when another writer came first. */
  private async writeIfCurrent(stored: StoredVersion, task: Task): Promise<StoredVersion | undefined> {
    try {
      return (await this.repo.update('Task', stored.id, task, { ifMatch: stored.versionId })).stored;
    } catch (error) {
      if (error instanceof FhirError && error.status === 412) return undefined;
      throw error;
    }
  }

  /** Current job Tasks in this status (of the kinds given, or of every kind), oldest first. */
  private async jobsIn(status: 'requested' | 'in-progress', kinds?: string[]): Promise<StoredVersion[]> {
    const codes = kinds ? kinds.map((kind) => `${JOB_KIND_SYSTEM}|${kind}`).join(',') : `${JOB_KIND_SYSTEM}|`;
    const params: [string, string][] = [
      ['status', status],
      ['code', codes],
      ['_sort', '_lastUpdated'],
      ['_count', String(POLL_BATCH)],
    ];
    const { page } = await this.repo.search(['Task'], params, { strict: true, internal: true });
    return page.entries;
  }
}

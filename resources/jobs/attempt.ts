// One attempt at a claimed job on this node: runs the handler with its context, renews the lease while it
// runs (heartbeat), and settles the Task: completed, retried with backoff, failed, released on a stop, or
// left alone when it was cancelled or taken over.
import type { TaskOutput } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { JobStopped, PermanentJobError, type JobContext, type JobHandler, type StopReason } from './handler';
import { readJob, type JobChange } from './job-task';
import { afterFailure, release, renewal, type RetryPolicy } from './lease';
import { JobTaskWriter } from './task-writer';

export interface AttemptSettings {
  owner: string;
  leaseMs: number;
  retry: RetryPolicy;
  /** The handler is resident: a saved checkpoint means it runs well, and resets the attempts. */
  resident?: boolean;
}

export class JobAttempt implements JobContext {
  private readonly writer: JobTaskWriter;
  private stopReason?: StopReason;
  readonly checkpoint: unknown;
  readonly attempt: number;

  constructor(
    repo: Repository,
    claimed: StoredVersion,
    private readonly settings: AttemptSettings,
  ) {
    this.writer = new JobTaskWriter(repo, claimed, settings.owner);
    const job = readJob(this.writer.current);
    this.checkpoint = job.checkpoint;
    this.attempt = job.attempts;
  }

  get taskId(): string {
    return this.writer.id;
  }

  get task() {
    return this.writer.current;
  }

  /** Asks the handler to stop at its next step (the runner is stopping). */
  stop(reason: StopReason): void {
    this.stopReason ??= reason;
  }

  assertActive(): void {
    if (this.stopReason) throw new JobStopped(this.stopReason);
  }

  async save(checkpoint: unknown, outputs?: TaskOutput[]): Promise<void> {
    this.assertActive();
    const progress = this.settings.resident ? { attempts: 1 } : {};
    await this.write({ checkpoint, outputs, ...progress, ...renewal(Date.now(), this.settings.leaseMs) });
  }

  /** Runs the handler to the end and settles the Task; never rejects. */
  async run(handler: JobHandler): Promise<void> {
    const heartbeat = setInterval(() => {
      this.write(renewal(Date.now(), this.settings.leaseMs)).catch(() => undefined);
    }, this.settings.leaseMs / 3);
    heartbeat.unref();
    try {
      const outputs = await handler.run(this);
      // Done is done, even if a stop was asked meanwhile; a cancel makes this write a 412 (settled below).
      await this.write({
        status: 'completed',
        outputs,
        checkpoint: null,
        ...ENDED,
        reason: null,
        businessStatus: 'completed',
      });
    } catch (error) {
      await this.settle(error).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** A write that notes a JobStopped it runs into, so the handler's next step stops too. */
  private async write(change: JobChange): Promise<void> {
    try {
      await this.writer.write(change);
    } catch (error) {
      if (error instanceof JobStopped) this.stop(error.reason);
      throw error;
    }
  }

  private async settle(error: unknown): Promise<void> {
    const reason = error instanceof JobStopped ? error.reason : this.stopReason;
    // Cancelled or taken over: the Task already says so, and it is no longer ours to write.
    if (reason === 'cancelled' || reason === 'lost') return;
    const job = readJob(this.writer.current);
    if (reason === 'stopping') return this.writer.write(release(job));
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof PermanentJobError) {
      return this.writer.write({ status: 'failed', ...ENDED, reason: message, businessStatus: 'failed' });
    }
    return this.writer.write(afterFailure(job, message, Date.now(), this.settings.retry));
  }
}

const ENDED = { owner: null, leaseUntil: null } as const;

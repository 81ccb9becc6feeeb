// What a job kind implements (a handler) and what it is given while it runs (its context): the job's Task,
// the checkpoint of the previous attempt, and a save that checkpoints, reports progress and renews the lease.
import type { Task, TaskOutput } from '@medplum/fhirtypes';

export interface JobContext {
  readonly taskId: string;
  /** The job's Task as claimed (its `input` holds the job's parameters). */
  readonly task: Task;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** What the previous attempt saved last; undefined on a fresh start. */
  readonly checkpoint: unknown;
  /**
   * Stores a checkpoint (and progress outputs) on the Task and renews the lease. Throws JobStopped when the
   * job was cancelled, another node took it over, or this runner is stopping: the handler just lets it go.
   */
  save(checkpoint: unknown, outputs?: TaskOutput[]): Promise<void>;
  /** Throws JobStopped when the job should stop (a cheap check between steps; nothing is written). */
  assertActive(): void;
}

export interface JobHandler {
  /** The `Task.code` the handler runs (job-task.ts JOB_KIND_SYSTEM). */
  readonly kind: string;
  /**
   * A job that runs as long as the server does (subscription delivery): one Task under a fixed id
   * (JobQueue.ensureResident), taking no slot of the runner's concurrency; each checkpoint it saves resets its
   * attempts, so that crashes far apart never use up its retries.
   */
  readonly resident?: boolean;
  /** Runs (or resumes) the job; resolves with its result outputs. Steps must be idempotent: a retried or
   * resumed attempt may redo the work done after the last checkpoint. */
  run(context: JobContext): Promise<TaskOutput[]>;
}

export type StopReason = 'cancelled' | 'lost' | 'stopping';

const STOP_MESSAGES: Record<StopReason, string> = {
  cancelled: 'The job was cancelled',
  lost: 'Another node took the job over',
  stopping: 'The server is stopping',
};

/** The job must stop now; the runner knows what to do with its Task. */
export class JobStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(STOP_MESSAGES[reason]);
  }
}

/** A failure a retry cannot fix (bad parameters, a resource gone): the job fails at once. */
export class PermanentJobError extends Error {}

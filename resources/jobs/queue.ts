// The job queue as the rest of the server sees it (RepositoryServices.jobs): enqueue a job, cancel one,
// register handlers. runner.ts implements it.
import type { TaskInput } from '@medplum/fhirtypes';
import type { StoredVersion } from '../store/port';
import type { JobHandler } from './handler';

export interface JobRequest {
  kind: string;
  /** Human-readable `Task.code.text`, e.g. `$reindex`. */
  label: string;
  input?: TaskInput[];
  /** Attempts before the job fails for good; the runner's default when absent. */
  maxAttempts?: number;
  /** Epoch ms before which no runner starts it (a job scheduled for later, e.g. a clean-up at expiry). */
  notBefore?: number;
}

export interface JobQueue {
  /** Writes the job's Task (durable when this resolves), then has it run as soon as a runner is free. */
  enqueue(request: JobRequest): Promise<StoredVersion>;
  /**
   * Makes sure the one job of a resident kind exists under the Task id `id` and has not ended: writes it when
   * it is absent, or queues it afresh when it ended (cancelled, failed). Nodes racing at start write one Task.
   */
  ensureResident(id: string, request: JobRequest): Promise<void>;
  /** Marks the job cancelled (a running handler stops at its next checkpoint); false when it had ended. */
  cancel(taskId: string): Promise<boolean>;
  register(handler: JobHandler): void;
  /** Re-queues or fails jobs whose runner died, then runs due jobs; polls on until stop. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

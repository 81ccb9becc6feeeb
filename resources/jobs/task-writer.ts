// Writes of one claimed job's Task, one at a time and each with If-Match on the version this node wrote last:
// a 412 means someone else wrote the Task (a client cancelled it, or another node took over an expired lease),
// which the writer turns into JobStopped instead of overwriting their change.
import type { Task } from '@medplum/fhirtypes';
import { FhirError } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { JobStopped } from './handler';
import { applyJobChange, readJob, type JobChange } from './job-task';

export class JobTaskWriter {
  private task: Task;
  private versionId: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: Repository,
    stored: StoredVersion,
    private readonly owner: string,
  ) {
    this.task = parseTask(stored);
    this.versionId = stored.versionId;
  }

  get id(): string {
    return this.task.id as string;
  }

  get current(): Task {
    return this.task;
  }

  /** Applies the change; throws JobStopped when the Task is no longer this node's running job. */
  write(change: JobChange): Promise<void> {
    const next = this.queue.then(() => this.writeNow(change));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeNow(change: JobChange): Promise<void> {
    for (;;) {
      try {
        const updated = applyJobChange(this.task, change, Date.now());
        const { stored } = await this.repo.update('Task', this.id, updated, { ifMatch: this.versionId });
        this.task = parseTask(stored);
        this.versionId = stored.versionId;
        return;
      } catch (error) {
        if (!(error instanceof FhirError && error.status === 412)) throw error;
        await this.reload();
      }
    }
  }

  /** After a conflict: still ours (someone only edited it) means write again; otherwise stop. */
  private async reload(): Promise<void> {
    const stored = await this.repo.read('Task', this.id).catch((error: unknown) => {
      // A deleted job Task is a cancelled job.
      if (error instanceof FhirError && (error.status === 404 || error.status === 410))
        throw new JobStopped('cancelled');
      throw error;
    });
    const task = parseTask(stored);
    const job = readJob(task);
    if (job.status === 'cancelled') throw new JobStopped('cancelled');
    if (job.status !== 'in-progress' || job.owner !== this.owner) throw new JobStopped('lost');
    this.task = task;
    this.versionId = stored.versionId;
  }
}

export function parseTask(stored: StoredVersion): Task {
  return JSON.parse(stored.json as string) as Task;
}

// The clean-up job of an export: scheduled for when its files expire (or run at once when the client deletes
// the export, or a kick-off over the client's limit is withdrawn), it deletes every file the export's Task
// records and marks the Task, so status and downloads answer 404 from then on. Idempotent: a retried clean-up
// deletes what is left.
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { FhirError } from '../errors';
import type { JobContext, JobHandler } from '../jobs/handler';
import type { JobQueue } from '../jobs/queue';
import { Repository, type RepositoryServices } from '../repository';
import { EXPORT_CLEANUP_KIND, FILES_REMOVED, exportFiles } from './export-job';
import { ExportFileStore } from './file-store';

export class ExportCleanupHandler implements JobHandler {
  readonly kind = EXPORT_CLEANUP_KIND;
  private readonly files: ExportFileStore;

  constructor(private readonly services: RepositoryServices) {
    this.files = new ExportFileStore(services.store);
  }

  async run(context: JobContext): Promise<TaskOutput[]> {
    const exportId = context.task.input?.find((i) => i.type.text === 'export')?.valueString as string;
    const repo = new Repository(this.services, SYSTEM_ACCESS);
    const stored = await repo.read('Task', exportId);
    const task = JSON.parse(stored.json as string) as Task;
    const parts = exportFiles(task).map((f) => f.part);
    // Parts are numbered in order; an attempt that stopped (cancelled) may have written one more than its last
    // checkpoint recorded.
    await this.files.remove(exportId, [...parts, parts.length]);
    await markFilesRemoved(repo, task, stored.versionId);
    return [{ type: { text: 'removed' }, valueInteger: parts.length }];
  }
}

/**
 * Stops an export and frees its files: a queued or running export is cancelled, a finished one marked as
 * removed (status and downloads are 404 from then on either way), and its clean-up job runs at once.
 */
export async function removeExport(services: RepositoryServices, task: Task): Promise<void> {
  const jobs = services.jobs as JobQueue;
  if (!(await jobs.cancel(task.id as string))) await markFilesRemoved(new Repository(services, SYSTEM_ACCESS), task);
  await jobs.enqueue({
    kind: EXPORT_CLEANUP_KIND,
    label: 'Remove the files of an export',
    input: [{ type: { text: 'export' }, valueString: task.id as string }],
  });
}

/**
 * Sets businessStatus `files removed` on an export's Task (status and downloads are 404 from then on); a
 * concurrent change of the Task (a 412) is read again and the mark retried on it.
 */
export async function markFilesRemoved(repo: Repository, task: Task, versionId?: number): Promise<void> {
  const marked: Task = { ...task, businessStatus: { text: FILES_REMOVED } };
  try {
    await repo.update('Task', task.id as string, marked, { ifMatch: versionId ?? Number(task.meta?.versionId) });
  } catch (error) {
    if (!(error instanceof FhirError && error.status === 412)) throw error;
    const again = await repo.read('Task', task.id as string);
    await markFilesRemoved(repo, JSON.parse(again.json as string) as Task, again.versionId);
  }
}

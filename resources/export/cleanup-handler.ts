// The clean-up job of an export: scheduled for when its files expire (or run at once when the client deletes
// the export), it empties every file the export's Task records and marks the Task, so status and downloads
// answer 404 from then on. Idempotent: a retried clean-up empties the same files again.
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { FhirError } from '../errors';
import type { JobContext, JobHandler } from '../jobs/handler';
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
    for (const file of exportFiles(task)) await this.files.erase(exportId, file.part);
    await markFilesRemoved(repo, task, stored.versionId);
    return [{ type: { text: 'removed' }, valueInteger: exportFiles(task).length }];
  }
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

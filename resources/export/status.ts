// What the status URL and the file URLs of an export answer, transport-free: the job's Task read for the
// client that started it (anyone else is told it does not exist), with a token that still covers its types;
// a running job's progress, a completed job's manifest, a failure, or 404 once deleted or expired.
import type { Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS, type AccessContext } from '../access';
import { records } from '../audit/trail';
import { FhirError, forbidden, notFound } from '../errors';
import { jobKindOf } from '../jobs/job-task';
import { Repository, type RepositoryServices } from '../repository';
import { EXPIRES_OUTPUT } from './export-handler';
import { removeExport } from './cleanup-handler';
import {
  EXPORT_KIND,
  FILES_REMOVED,
  exportFiles,
  exportedCount,
  ownerOf,
  readExportJob,
  type ExportJob,
} from './export-job';
import { ExportFileStore } from './file-store';
import { mayExport } from './scope';

export interface ManifestFile {
  type: string;
  url: string;
  count: number;
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: ManifestFile[];
  /** With `_since`: files of transaction Bundles, each line the DELETE of a resource deleted since. */
  deleted?: ManifestFile[];
  error: ManifestFile[];
}

export type ExportStatus =
  | { state: 'running'; progress: string }
  | { state: 'failed'; reason: string }
  | { state: 'done'; manifest: Manifest; expires?: string };

/** The export's Task, for its owner only and while its files exist. */
export async function ownExport(
  services: RepositoryServices,
  access: AccessContext,
  id: string,
): Promise<{ task: Task; job: ExportJob }> {
  const unknown = () => notFound(`No export ${id}`);
  const stored = await new Repository(services, SYSTEM_ACCESS).read('Task', id).catch((error: unknown) => {
    throw error instanceof FhirError && (error.status === 404 || error.status === 410) ? unknown() : error;
  });
  const task = JSON.parse(stored.json as string) as Task;
  if (jobKindOf(task) !== EXPORT_KIND) throw unknown();
  const job = readExportJob(task);
  if (job.owner !== ownerOf(access)) throw unknown();
  if (task.status === 'cancelled' || task.businessStatus?.text === FILES_REMOVED) throw unknown();
  return { task, job };
}

export async function exportStatus(
  services: RepositoryServices,
  access: AccessContext,
  id: string,
  fileUrl: (part: number) => string,
): Promise<ExportStatus> {
  const { task, job } = await ownExport(services, access, id);
  const ungranted = job.types.find((type) => !mayExport(access, type));
  if (ungranted) throw forbidden(`The access token does not grant read and search on ${ungranted}`);
  if (task.status === 'failed') return { state: 'failed', reason: task.statusReason?.text ?? 'The export failed' };
  if (task.status !== 'completed') return { state: 'running', progress: progressOf(task, job) };
  const files = exportFiles(task);
  const entry = (f: (typeof files)[number]): ManifestFile => ({ type: f.type, url: fileUrl(f.part), count: f.count });
  const manifest: Manifest = {
    transactionTime: job.transactionTime,
    request: job.requestUrl,
    requiresAccessToken: true,
    output: files.filter((f) => !f.error && !f.deleted).map(entry),
    ...(job.request.since ? { deleted: files.filter((f) => f.deleted).map(entry) } : {}),
    error: files.filter((f) => f.error).map(entry),
  };
  const expires = task.output?.find((o) => o.type.text === EXPIRES_OUTPUT)?.valueDateTime;
  return { state: 'done', manifest, ...(expires ? { expires } : {}) };
}

/**
 * DELETE on the status URL: a queued or running export is cancelled, a finished one marked as removed, so
 * that it is 404 from now on; its files are deleted by a clean-up job at once.
 */
export async function deleteExport(services: RepositoryServices, access: AccessContext, id: string): Promise<void> {
  const { task } = await ownExport(services, access, id);
  await removeExport(services, task);
}

/** A file of a completed export, if the token may read its type; undefined when there is no such file. */
export async function exportFile(
  services: RepositoryServices,
  access: AccessContext,
  id: string,
  part: number,
): Promise<Buffer> {
  const { task } = await ownExport(services, access, id);
  const file = task.status === 'completed' ? exportFiles(task).find((f) => f.part === part) : undefined;
  if (!file) throw notFound(`Export ${id} has no file ${part}`);
  // A file of deletions is covered by the type whose deletions it lists.
  const type = file.deleted ?? file.type;
  if (!file.error && !mayExport(access, type)) {
    throw forbidden(`The access token does not grant read and search on ${type}`);
  }
  const bytes = await new ExportFileStore(services.store).read(id, part);
  if (!bytes) throw notFound(`Export ${id} has no file ${part}`);
  // A download discloses many records at once: one AuditEvent names the export, the file and what it holds.
  const what = `$export ${id} file ${part}: ${file.count} ${file.deleted ? `deletions of ${type}` : type}`;
  await services.store.logAudit(
    records(access, {
      subtype: 'operation',
      outcome: '0',
      entities: [`Task/${id}`],
      resourceType: type,
      outcomeText: what,
    }),
  );
  return bytes;
}

/** Under 100 characters (X-Progress). */
function progressOf(task: Task, job: ExportJob): string {
  if (task.status === 'requested') return 'queued';
  const done = exportFiles(task).length;
  return `${exportedCount(task)} resources in ${done} files; ${job.types.length} types`.slice(0, 99);
}

// What a written version is matched as: the version itself with its index entries (from the commit, or extracted
// again when it came from the write log), or for a deletion the version it deleted (a resource leaves a worklist
// as what it was). The server's own job Tasks are never matched.
import { JOB_KIND_SYSTEM } from '../jobs/job-task';
import type { RepositoryServices } from '../repository';
import { extractIndexEntries } from '../search/extract';
import type { IndexEntry } from '../search/index-entry';
import type { StoredVersion, VersionWrite } from '../store/port';

/** A version as the engine matches it: from a commit (with its index entries) or from the write log. */
export type Written = StoredVersion & { index?: IndexEntry[]; position?: string };

export async function writeSubject(services: RepositoryServices, write: Written): Promise<VersionWrite | undefined> {
  const version = write.deleted
    ? await services.store.readVersion(write.resourceType, write.id, write.versionId - 1)
    : write;
  if (!version?.json || isJobTask(version)) return undefined;
  const index =
    !write.deleted && write.index
      ? write.index
      : extractIndexEntries(services.registry, JSON.parse(version.json) as never);
  return { ...version, index, deleted: false };
}

/**
 * The server's own job Tasks (the delivery job's among them) are not events: they would notify work-queue
 * subscribers of internals.
 */
export function isJobTask(version: StoredVersion): boolean {
  return version.resourceType === 'Task' && version.json !== undefined && version.json.includes(JOB_KIND_SYSTEM);
}

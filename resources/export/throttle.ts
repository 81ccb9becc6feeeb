// The limit on exports one client may have in progress (queued or running), counted from the stored job Tasks
// so that every app node sees the same count: a kick-off beyond it is a 429 with Retry-After.
import type { Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { FhirError, issue, outcome } from '../errors';
import { JOB_KIND_SYSTEM } from '../jobs/job-task';
import { Repository, type RepositoryServices } from '../repository';
import type { SearchParamPairs } from '../search/parse';
import { EXPORT_KIND, readExportJob } from './export-job';

/** Seconds a refused client should wait before kicking off again. */
export const THROTTLED_RETRY_AFTER_SECONDS = 30;

const PAGE = 100;

/** The ids of the client's exports that are queued or running. */
export async function exportsInProgress(services: RepositoryServices, owner: string): Promise<string[]> {
  const repo = new Repository(services, SYSTEM_ACCESS);
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const params: SearchParamPairs = [
      ['code', `${JOB_KIND_SYSTEM}|${EXPORT_KIND}`],
      ['status', 'requested,in-progress'],
      ['_count', String(PAGE)],
      ['_total', 'none'],
      ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
    ];
    const { page } = await repo.search(['Task'], params, { strict: true, internal: true });
    for (const stored of page.entries) {
      if (readExportJob(JSON.parse(stored.json as string) as Task).owner === owner) ids.push(stored.id);
    }
    cursor = page.next;
  } while (cursor);
  return ids;
}

export function tooManyExports(limit: number): FhirError {
  const diagnostics = `This client already has ${limit} exports in progress (the most it may have); retry once one has completed or was deleted`;
  return new FhirError(429, outcome([issue('throttled', diagnostics)]), {
    'Retry-After': String(THROTTLED_RETRY_AFTER_SECONDS),
  });
}

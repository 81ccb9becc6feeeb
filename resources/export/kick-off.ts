// Starting an export: the request is checked (parameters, types, grants, the Group and Patients it names,
// with the caller's own access), the client's exports in progress counted against its limit, and the job
// queued with everything it needs; the answer is its Task.
import type { Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../access';
import { badRequest } from '../errors';
import { Repository, type RepositoryServices } from '../repository';
import type { StoredVersion } from '../store/port';
import { removeExport } from './cleanup-handler';
import { EXPORT_KIND, exportJobInput, ownerOf, storeAccess, type ExportJob } from './export-job';
import { exportSettingsOf } from './register';
import { parseExportRequest, type ExportRequest, type KickOff } from './request';
import { exportTypes } from './scope';
import { exportsInProgress, tooManyExports } from './throttle';
import { groupMembers } from './units';

export async function startExport(
  services: RepositoryServices,
  access: AccessContext,
  kickOff: KickOff,
  requestUrl: string,
): Promise<StoredVersion> {
  if (!services.jobs) throw badRequest('$export is not available here (no job runner)');
  const request = parseExportRequest(kickOff);
  const types = exportTypes(request, access, services.registry);
  await checkPatients(new Repository(services, access), request);
  const owner = ownerOf(access);
  const limit = exportSettingsOf(services).maxConcurrent;
  if ((await exportsInProgress(services, owner)).length >= limit) throw tooManyExports(limit);
  const job: ExportJob = {
    request,
    types,
    requestUrl,
    transactionTime: new Date().toISOString(),
    owner,
    access: storeAccess(access),
  };
  const queued = await services.jobs.enqueue({ kind: EXPORT_KIND, label: '$export', input: exportJobInput(job) });
  // Kick-offs of one client on several nodes (or at the same moment) may each have counted below the limit:
  // counted again with this one stored, one that finds the limit passed withdraws itself.
  if ((await exportsInProgress(services, owner)).length > limit) {
    await removeExport(services, JSON.parse(queued.json as string) as Task);
    throw tooManyExports(limit);
  }
  return queued;
}

/** The Group and the Patients named must exist and be visible to the caller; named Patients must be members. */
async function checkPatients(repo: Repository, request: ExportRequest): Promise<void> {
  const members = request.groupId ? new Set(await groupMembers(repo, request.groupId)) : undefined;
  for (const id of request.patients ?? []) {
    if (members && !members.has(id)) {
      throw badRequest(`Patient/${id} is not a member of Group/${request.groupId}`, 'patient');
    }
    if (!members) await repo.read('Patient', id);
  }
}

// Starting an export: the request is checked (parameters, types, grants, the Group and Patients it names,
// with the caller's own access) and the job queued with everything it needs; the answer is its Task.
import type { AccessContext } from '../access';
import { badRequest } from '../errors';
import { Repository, type RepositoryServices } from '../repository';
import type { StoredVersion } from '../store/port';
import { EXPORT_KIND, exportJobInput, ownerOf, storeAccess, type ExportJob } from './export-job';
import { parseExportRequest, type ExportRequest, type KickOff } from './request';
import { exportTypes } from './scope';
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
  const job: ExportJob = {
    request,
    types,
    requestUrl,
    transactionTime: new Date().toISOString(),
    owner: ownerOf(access),
    access: storeAccess(access),
  };
  return services.jobs.enqueue({ kind: EXPORT_KIND, label: '$export', input: exportJobInput(job) });
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

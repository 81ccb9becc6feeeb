// Which resource types an export covers, checked against the caller's grants: every type of its level (all
// types, or the Patient compartment's) that the token may read and search, or the `_type` list, each of
// which it must be allowed. Bulk export is for system-level (and user-level) clients: patient-level tokens
// are refused, and `_typeFilter` queries are checked against the registry before the job is queued.
import { isUnrestricted, type AccessContext } from '../access';
import { allowingGrants } from '../access-policy';
import { badRequest, forbidden } from '../errors';
import { compartmentMembers } from '../search/compartments';
import { parseSearchParams } from '../search/parse';
import type { SearchParameterRegistry } from '../search/registry';
import { RESOURCE_TYPES } from '../search/resource-types';
import type { ExportRequest } from './request';

/**
 * Never exported: the audit trail (its own API), Binary (its bytes live outside its JSON) and the Tasks of
 * background jobs, which hold other clients' export requests.
 */
const NOT_EXPORTED = new Set(['AuditEvent', 'Binary', 'Task']);

/** True when the token may read and search every resource of this type it is allowed to see. */
export function mayExport(access: AccessContext, type: string): boolean {
  if (isUnrestricted(access)) return true;
  return allowingGrants(access, type, 'r').length > 0 && allowingGrants(access, type, 's').length > 0;
}

export function requireBulkClient(access: AccessContext): void {
  if (isUnrestricted(access)) return;
  const grants = access.grants ?? [];
  if (grants.length > 0 && grants.every((g) => g.level === 'patient')) {
    throw forbidden('Bulk export needs system-level scopes (system/*.read or system/*.rs); patient scopes cannot');
  }
}

/** The types the export writes, in a stable order; 400 for types outside its level, 403 for ungranted ones. */
export function exportTypes(
  request: ExportRequest,
  access: AccessContext,
  registry: SearchParameterRegistry,
): string[] {
  requireBulkClient(access);
  const inLevel = request.level === 'system' ? RESOURCE_TYPES : compartmentMembers(registry, 'Patient');
  const candidates = inLevel.filter((type) => !NOT_EXPORTED.has(type));
  const types = request.types ?? candidates.filter((type) => mayExport(access, type));
  for (const type of request.types ?? []) {
    if (!candidates.includes(type)) {
      throw badRequest(`_type ${type} cannot be exported at this level (not in the Patient compartment)`, '_type');
    }
    if (!mayExport(access, type)) throw forbidden(`The access token does not grant read and search on ${type}`);
  }
  if (types.length === 0) throw forbidden('The access token grants read and search on no exportable type');
  checkTypeFilters(request, types, registry);
  return [...types].sort();
}

function checkTypeFilters(request: ExportRequest, types: string[], registry: SearchParameterRegistry): void {
  for (const [type, queries] of Object.entries(request.typeFilters)) {
    if (!types.includes(type)) throw badRequest(`_typeFilter names ${type}, which this export does not include`);
    for (const query of queries) parseSearchParams(registry, [type], query, { strict: true });
  }
}

// The audit log seen through the FHIR API: its records as AuditEvent versions (the log has no versions and no
// deletions), and AuditEvent searches run on its columns. Access checks stay with the repository.
import type { SearchParamPairs } from '../search/parse';
import type { Page, ResourceStore, StoredVersion } from '../store/port';
import type { StoredAuditRecord } from './record';
import { parseAuditSearch } from './search';

export const AUDIT_EVENT = 'AuditEvent';

export function auditVersion(record: StoredAuditRecord): StoredVersion {
  return {
    resourceType: AUDIT_EVENT,
    id: record.id,
    versionId: 1,
    lastUpdated: record.recorded,
    deleted: false,
    method: 'POST',
    json: record.json,
  };
}

export async function readAuditLog(store: ResourceStore, id: string): Promise<StoredVersion | undefined> {
  const record = await store.readAudit(id);
  return record ? auditVersion(record) : undefined;
}

/**
 * An AuditEvent search; `onlyPatient` (a patient-level grant) limits it to the accesses to that patient, and
 * a search naming another patient then finds nothing.
 */
export async function searchAuditLog(
  store: ResourceStore,
  params: SearchParamPairs,
  onlyPatient?: string,
): Promise<{ page: Page<StoredVersion>; applied: SearchParamPairs; count: number }> {
  const { query, applied } = parseAuditSearch(params);
  const otherPatient = onlyPatient !== undefined && (query.patient ?? onlyPatient) !== onlyPatient;
  if (onlyPatient !== undefined) query.patient = onlyPatient;
  const found = otherPatient ? { entries: [] } : await store.searchAudit(query);
  return {
    page: { entries: found.entries.map(auditVersion), ...(found.next ? { next: found.next } : {}) },
    applied,
    count: query.count,
  };
}

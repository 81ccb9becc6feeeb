// The HTTP edge's part of the audit trail: what a request disclosed is appended durably (one group commit
// with other requests' appends) before its response is sent; a refused request (401, 403, or a read denied as
// 404) is appended as a failure. Writes are audited by the repository, inside their own transaction.
import type { AccessContext } from '../../resources/access';
import type { AuditSubtype } from '../../resources/audit/balp';
import { denialRecords, disclosureRecords, type AccessJournal } from '../../resources/audit/trail';
import type { StoredVersion } from '../../resources/store/port';
import type { RepositoryServices } from '../../resources/repository';

/** Route interactions as audit subtypes; anything else (operations, capabilities) is an operation. */
const SUBTYPES: Record<string, AuditSubtype> = {
  read: 'read',
  vread: 'vread',
  'history-instance': 'history-instance',
  'history-type': 'history-type',
  'history-system': 'history-system',
  'search-type': 'search-type',
  'search-system': 'search-system',
  'search-compartment': 'search-type',
  create: 'create',
  update: 'update',
  'conditional-update': 'update',
  patch: 'patch',
  'conditional-patch': 'patch',
  delete: 'delete',
  'conditional-delete': 'delete',
  transaction: 'transaction',
};

export function auditSubtype(interaction: string | undefined): AuditSubtype {
  return (interaction && SUBTYPES[interaction]) || 'operation';
}

/** What an answered request disclosed, and what it asked for but was refused (batch entries answered 404). */
export async function auditDisclosures(
  services: RepositoryServices,
  access: AccessContext,
  journal: AccessJournal,
  subtype: AuditSubtype,
): Promise<void> {
  const appended = [
    ...disclosureRecords(services.registry, access, journal),
    ...(journal.denials.length > 0
      ? denialRecords(services.registry, access, subtype, 'access denied', journal.denials)
      : []),
  ];
  if (appended.length > 0) await services.store.logAudit(appended);
}

export async function auditFailure(
  services: RepositoryServices,
  access: AccessContext,
  subtype: AuditSubtype,
  outcomeText: string,
  denied: StoredVersion[] = [],
): Promise<void> {
  const appended = denialRecords(services.registry, access, subtype, outcomeText, denied);
  await services.store.logAudit(appended);
}

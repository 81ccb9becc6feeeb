// What the audit trail records about a request: the versions it wrote (appended in the same store transaction
// by the repository) and the versions it disclosed (reads, searches, includes, history, batch entries), which
// the HTTP edge appends durably before the response leaves. Each names the patients whose data it was.
import type { Resource } from '@medplum/fhirtypes';
import type { AccessContext } from '../access';
import { SELF, compartmentParams } from '../search/compartments';
import { extractParameterEntries } from '../search/extract';
import type { IndexEntry } from '../search/index-entry';
import type { SearchParameterRegistry } from '../search/registry';
import type { StoredVersion, WriteMethod } from '../store/port';
import { auditEvents, type AuditAction, type AuditSubtype } from './balp';
import { auditRecordOf, type AuditRecord } from './record';

/** Only requests from outside are audited; the server's own work and the command line are not API access. */
export function isAudited(access: AccessContext): boolean {
  return access.requestId !== undefined;
}

export interface Disclosure {
  subtype: AuditSubtype;
  versions: StoredVersion[];
  query?: string;
  resourceType?: string;
}

/** The disclosures of one request, shared by the repositories it uses (a transaction makes its own). */
export class AccessJournal {
  readonly disclosures: Disclosure[] = [];
  /** Resources the caller asked for but may not see (answered as unknown). */
  readonly denials: StoredVersion[] = [];

  note(disclosure: Disclosure): void {
    if (disclosure.versions.length > 0 || disclosure.query !== undefined) this.disclosures.push(disclosure);
  }
}

const WRITE_SUBTYPES: Record<WriteMethod, AuditSubtype> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export const versionedReference = (v: StoredVersion) => `${v.resourceType}/${v.id}/_history/${v.versionId}`;

/** The audit records of one written version, whose patients come from its index entries. */
export function writeRecords(
  registry: SearchParameterRegistry,
  access: AccessContext,
  written: StoredVersion,
  index: IndexEntry[],
): AuditRecord[] {
  const patients =
    written.resourceType === 'Patient' ? [written.id] : patientsFromEntries(registry, written.resourceType, index);
  return records(access, {
    subtype: WRITE_SUBTYPES[written.method],
    outcome: '0',
    entities: [versionedReference(written)],
    patients,
  });
}

/** The audit records of everything a request disclosed: one event per disclosure and patient (BALP). */
export function disclosureRecords(
  registry: SearchParameterRegistry,
  access: AccessContext,
  journal: AccessJournal,
): AuditRecord[] {
  return journal.disclosures.flatMap((d) =>
    records(access, {
      subtype: d.subtype,
      outcome: '0',
      entities: d.versions.map(versionedReference),
      patients: [...new Set(d.versions.flatMap((v) => patientsOf(registry, v)))],
      ...(d.query !== undefined ? { query: d.query } : {}),
      ...(d.resourceType ? { resourceType: d.resourceType } : {}),
    }),
  );
}

/** A refused access to these versions (outcome 4), naming their patients: who tried to see patient X. */
export function denialRecords(
  registry: SearchParameterRegistry,
  access: AccessContext,
  subtype: AuditSubtype,
  outcomeText: string,
  denied: StoredVersion[],
): AuditRecord[] {
  return records(access, {
    subtype,
    outcome: '4',
    outcomeText,
    entities: denied.map(versionedReference),
    patients: [...new Set(denied.flatMap((v) => patientsOf(registry, v)))],
  });
}

export function records(access: AccessContext, action: AuditAction, recorded = new Date()): AuditRecord[] {
  return auditEvents(access, action, recorded).map(auditRecordOf);
}

/** The patients a stored version belongs to: itself for a Patient, else its compartment references. */
export function patientsOf(registry: SearchParameterRegistry, version: StoredVersion): string[] {
  if (version.resourceType === 'Patient') return [version.id];
  if (!version.json) return [];
  const members = memberParams(registry, version.resourceType);
  if (members.length === 0) return [];
  const resource = JSON.parse(version.json) as Resource;
  return patientsFromEntries(registry, version.resourceType, extractParameterEntries(registry, resource, members));
}

function patientsFromEntries(registry: SearchParameterRegistry, type: string, entries: IndexEntry[]): string[] {
  const members = new Set(memberParams(registry, type));
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.type === 'reference' && members.has(e.param) && e.targetType === 'Patient' && e.targetId) ids.add(e.targetId);
  }
  return [...ids];
}

function memberParams(registry: SearchParameterRegistry, type: string): string[] {
  return compartmentParams(registry, 'Patient', type).filter((p) => p !== SELF);
}

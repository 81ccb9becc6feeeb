// The deletions an export with `_since` lists in the manifest's `deleted` files (Bulk Data 2.0): resources of an
// exported type deleted after `_since` (up to the transaction time, so that the next export from that time
// lists the later ones) and still deleted, each as one line: a transaction Bundle whose entry is a DELETE of
// `Type/id`. At Patient and Group level only the deletions of resources that were in the compartment of a
// patient in scope, told from the version before the deletion (a deletion has no content of its own).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import { SELF, compartmentParams } from '../search/compartments';
import { extractParameterEntries } from '../search/extract';
import type { SearchParameterRegistry } from '../search/registry';
import type { StoredVersion } from '../store/port';
import type { ExportJob } from './export-job';
import { groupMembers } from './units';

/** The line of a deleted resource in a `deleted` file. */
export function deletionLine(deletion: StoredVersion): string {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    meta: { lastUpdated: new Date(deletion.lastUpdated).toISOString() },
    type: 'transaction',
    entry: [{ request: { method: 'DELETE', url: `${deletion.resourceType}/${deletion.id}` } }],
  };
  return JSON.stringify(bundle);
}

/** Which versions found in the history of an exported type are deletions the export lists. */
export interface DeletionFilter {
  lists(version: StoredVersion): Promise<boolean>;
}

/**
 * `system` reads the resources' own history (the current version, and the one before the deletion) and the
 * Group: like the patient ids of units.ts, what it reads only selects; the client's grants were checked on
 * the type's history, which shows every deletion of the type.
 */
export function deletionFilter(job: ExportJob, registry: SearchParameterRegistry, system: Repository): DeletionFilter {
  const since = Date.parse(job.request.since as string);
  const until = Date.parse(job.transactionTime);
  const inScope = patientScope(job, registry, system);
  return {
    lists: async (version) => {
      if (!version.deleted || version.lastUpdated <= since || version.lastUpdated > until) return false;
      const [latest, before] = (await system.history({ resourceType: version.resourceType, id: version.id, count: 2 }))
        .entries;
      // Written again since (and then in the output if it was before the transaction time), or deleted again.
      if (latest?.versionId !== version.versionId) return false;
      return inScope(before);
    },
  };
}

/** Whether the version before a deletion put the resource in the compartment of a patient of the export. */
function patientScope(
  job: ExportJob,
  registry: SearchParameterRegistry,
  system: Repository,
): (before: StoredVersion | undefined) => Promise<boolean> {
  const { level, patients, groupId } = job.request;
  if (level === 'system') return async () => true;
  // undefined: every patient (a Patient-level export without `patient`).
  let ids: Promise<Set<string> | undefined> | undefined;
  const patientIds = () =>
    (ids ??= patients
      ? Promise.resolve(new Set(patients))
      : level === 'group'
        ? groupMembers(system, groupId as string).then((members) => new Set(members))
        : Promise.resolve(undefined));
  return async (before) => {
    if (!before?.json) return false;
    const resource = JSON.parse(before.json) as Resource;
    const referenced = compartmentPatients(registry, resource);
    const scope = await patientIds();
    return referenced.some((id) => scope === undefined || scope.has(id));
  };
}

/** The patients whose compartment the resource is in (its own id for a Patient). */
function compartmentPatients(registry: SearchParameterRegistry, resource: Resource): string[] {
  const params = compartmentParams(registry, 'Patient', resource.resourceType);
  const ids = params.includes(SELF) ? [resource.id as string] : [];
  const references = params.filter((p) => p !== SELF);
  for (const entry of extractParameterEntries(registry, resource, references)) {
    if (entry.type === 'reference' && entry.targetType === 'Patient' && entry.targetId) ids.push(entry.targetId);
  }
  return ids;
}

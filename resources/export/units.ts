// How an export walks one resource type: in units, each a few searches whose union is the unit's output. A
// system-level export has one unit per type (its `_typeFilter` queries, OR-ed). A Patient or Group export has
// one unit per batch of patients: each Patient-compartment parameter of the type (x each `_typeFilter`) with
// the batch's references as OR values. A unit's position is a string, so a checkpoint can name it.
import type { Group } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import { SELF, compartmentParams } from '../search/compartments';
import type { SearchParamPairs } from '../search/parse';
import type { SearchParameterRegistry } from '../search/registry';
import type { ExportJob } from './export-job';

/** Patients per unit: their references are OR values of one search parameter (at most MAX_OR_VALUES). */
export const PATIENT_BATCH = 50;

export interface ExportUnit {
  queries: SearchParamPairs[];
  /** Position of the unit after this one; undefined for the type's last. */
  next?: string;
}

export interface ExportUnits {
  /** The unit at `position` (the type's first when undefined); undefined when the type has none. */
  at(type: string, position: string | undefined): Promise<ExportUnit | undefined>;
}

interface PatientBatch {
  ids: string[];
  next?: string;
}

/**
 * `system` reads the Group and lists Patients: the client named the Group at kick-off, where its access was
 * checked, and patient ids only select; what is exported is read with the client's own grants.
 */
export function exportUnits(job: ExportJob, registry: SearchParameterRegistry, system: Repository): ExportUnits {
  const filtersOf = (type: string) => job.request.typeFilters[type] ?? [[]];
  if (job.request.level === 'system') return { at: async (type) => ({ queries: filtersOf(type) }) };
  const batches = patientBatches(job, system);
  return {
    at: async (type, position) => {
      const batch = await batches(position);
      if (batch.ids.length === 0) return undefined;
      const queries = compartmentCriteria(registry, type, batch.ids).flatMap((criterion) =>
        filtersOf(type).map((filter) => [...filter, criterion]),
      );
      return { queries, next: batch.next };
    },
  };
}

/** One criterion per parameter that puts `type` in a patient's compartment, each naming every patient. */
function compartmentCriteria(registry: SearchParameterRegistry, type: string, ids: string[]): [string, string][] {
  return compartmentParams(registry, 'Patient', type).map((param) =>
    param === SELF ? ['_id', ids.join(',')] : [param, ids.map((id) => `Patient/${id}`).join(',')],
  );
}

function patientBatches(job: ExportJob, system: Repository): (position: string | undefined) => Promise<PatientBatch> {
  const { patients, level, groupId } = job.request;
  if (patients) return async (position) => slice(patients, position);
  if (level === 'group') {
    let members: Promise<string[]> | undefined;
    return async (position) => slice(await (members ??= groupMembers(system, groupId as string)), position);
  }
  return (position) => everyPatient(system, position);
}

function slice(ids: string[], position: string | undefined): PatientBatch {
  const start = Number(position ?? 0);
  const end = start + PATIENT_BATCH;
  return { ids: ids.slice(start, end), ...(end < ids.length ? { next: String(end) } : {}) };
}

async function everyPatient(system: Repository, cursor: string | undefined): Promise<PatientBatch> {
  const params: SearchParamPairs = [
    ['_count', String(PATIENT_BATCH)],
    ['_total', 'none'],
    ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
  ];
  const { page } = await system.search(['Patient'], params, { strict: true, internal: true });
  return { ids: page.entries.map((e) => e.id), ...(page.next ? { next: page.next } : {}) };
}

/** The ids of the Patients among the Group's active members. */
export async function groupMembers(repo: Repository, groupId: string): Promise<string[]> {
  const group = JSON.parse((await repo.read('Group', groupId)).json as string) as Group;
  const ids = (group.member ?? [])
    .filter((m) => !m.inactive)
    .map((m) => /^(?:.*\/)?Patient\/([^/]+)$/.exec(m.entity.reference ?? '')?.[1])
    .filter((id): id is string => id !== undefined);
  return [...new Set(ids)];
}

// What a merge will write, worked out before anything is written: the source deprecated (inactive, linked
// `replaced-by` the target), the target as it ends (linked `replaces`, the source's identifiers kept as `old`
// unless a result-patient is given), and every resource referencing the source repointed to the target.
import type { Identifier, Patient, PatientLink, Resource } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { requireMergeAccess } from './access';
import type { MergeInput } from './input';
import { patientReferenceParams, repointReferences, snapshotReferencing } from './references';
import { resolvePatient, type ResolvedPatient } from './resolve';

/** Resources one merge may change, in one store transaction. */
export const MERGE_LIMIT = 5000;

export interface PlannedChange {
  before: StoredVersion;
  after: Resource;
}

export interface MergePlan {
  source: ResolvedPatient;
  target: ResolvedPatient;
  /** The target as it will end. */
  result: Patient;
  /** Source, target, then every repointed resource. */
  changes: PlannedChange[];
}

export async function planMerge(
  repo: Repository,
  input: MergeInput,
  baseUrl: string,
  limit = MERGE_LIMIT,
): Promise<MergePlan> {
  const params = patientReferenceParams(repo.registry);
  requireMergeAccess(repo.access, repo.registry, ['Patient', ...new Set(params.map((p) => p.type))]);
  const source = await resolvePatient(repo, input.source, 'source');
  const target = await resolvePatient(repo, input.target, 'target');
  checkMergeable(source, target, input.resultPatient);
  const referencing = await snapshotReferencing(repo, source.stored.id, params, limit - 2);
  for (const own of [source, target]) referencing.delete(`Patient/${own.stored.id}`);
  const repointed = [...referencing.values()].flatMap((before) => {
    const current = JSON.parse(before.json as string) as Resource;
    const { resource, changed } = repointReferences(current, source.stored.id, target.stored.id, baseUrl);
    return changed > 0 ? [{ before, after: resource }] : [];
  });
  const result = resultPatient(source, target, input.resultPatient);
  return {
    source,
    target,
    result,
    changes: [
      { before: source.stored, after: deprecatedSource(source, target) },
      { before: target.stored, after: result },
      ...repointed,
    ],
  };
}

/** The business rules of a merge (422), and the result-patient's identity (400). */
function checkMergeable(source: ResolvedPatient, target: ResolvedPatient, result: Patient | undefined): void {
  const [sourceId, targetId] = [source.stored.id, target.stored.id];
  if (sourceId === targetId) throw unprocessable(`The source and the target are the same Patient/${sourceId}`);
  const rules: [boolean, string][] = [
    [
      replacedBy(source.patient) !== undefined,
      `Patient/${sourceId} was already merged into ${replacedBy(source.patient)}`,
    ],
    [source.patient.active === false, `The source Patient/${sourceId} is inactive`],
    [
      replacedBy(target.patient) !== undefined,
      `The target Patient/${targetId} was merged into ${replacedBy(target.patient)}`,
    ],
    [target.patient.active === false, `The target Patient/${targetId} is inactive`],
  ];
  const broken = rules.find(([applies]) => applies);
  if (broken) throw unprocessable(broken[1]);
  if (result && result.id !== targetId) {
    throw badRequest(`result-patient must have the target's id (${targetId})`, 'result-patient');
  }
}

function replacedBy(patient: Patient): string | undefined {
  return patient.link?.find((l) => l.type === 'replaced-by')?.other.reference;
}

function deprecatedSource(source: ResolvedPatient, target: ResolvedPatient): Patient {
  return {
    ...source.patient,
    active: false,
    link: [...linksNotTo(source.patient, target.stored.id), link('replaced-by', target.stored.id)],
  };
}

function resultPatient(source: ResolvedPatient, target: ResolvedPatient, given: Patient | undefined): Patient {
  const identifier = mergedIdentifiers(target.patient, source.patient);
  const base = given ?? { ...target.patient, ...(identifier ? { identifier } : {}) };
  const sourceId = source.stored.id;
  const linked = base.link?.some((l) => l.type === 'replaces' && l.other.reference === `Patient/${sourceId}`);
  return linked ? base : { ...base, link: [...linksNotTo(base, sourceId), link('replaces', sourceId)] };
}

/** The target's identifiers, then the source's it lacks, marked `old`. */
function mergedIdentifiers(target: Patient, source: Patient): Identifier[] | undefined {
  const own = target.identifier ?? [];
  const has = (i: Identifier) => own.some((o) => o.system === i.system && o.value === i.value);
  const copied = (source.identifier ?? []).filter((i) => !has(i)).map((i) => ({ ...i, use: 'old' as const }));
  const all = [...own, ...copied];
  return all.length > 0 ? all : undefined;
}

function linksNotTo(patient: Patient, id: string): PatientLink[] {
  return (patient.link ?? []).filter((l) => l.other.reference !== `Patient/${id}`);
}

function link(type: PatientLink['type'], id: string): PatientLink {
  return { other: { reference: `Patient/${id}` }, type };
}

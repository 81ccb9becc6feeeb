// Patient $match: candidates from the blocking searches, each scored against the query and graded. Records
// that are inactive or replaced by another (merged away) are never offered as matches: they are reported
// apart, with the record that replaced them, so the caller can warn.
import type { Patient } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { blockingSearches } from './blocking';
import { comparePatients } from './compare';
import { patientFeatures, type PatientFeatures } from './features';
import { evaluate, type MatchEvaluation, type MatchGrade } from './grade';

export interface PatientMatch extends MatchEvaluation {
  grade: MatchGrade;
  stored: StoredVersion;
  patient: Patient;
}

export interface DeprecatedMatch extends PatientMatch {
  /** `Patient/<id>` of the record that replaced it, when it was merged away. */
  replacedBy?: string;
}

export interface MatchOptions {
  onlyCertainMatches: boolean;
  /** At most this many matches. */
  count: number;
}

export interface MatchResult {
  matches: PatientMatch[];
  deprecated: DeprecatedMatch[];
  /** How many distinct records the blocking searches found. */
  candidates: number;
}

const GRADE_ORDER: Record<MatchGrade, number> = { certain: 0, probable: 1, possible: 2 };

/** Runs the blocking searches (with the repository's grants) and grades every candidate. */
export async function matchPatient(repo: Repository, patient: Patient, options: MatchOptions): Promise<MatchResult> {
  const features = patientFeatures(patient);
  const candidates = await findCandidates(repo, patient, features);
  const graded = candidates
    .map((stored) => gradeCandidate(features, stored))
    .filter((m): m is PatientMatch => m !== undefined)
    .filter((m) => !options.onlyCertainMatches || m.grade === 'certain')
    .sort(byGradeThenScore);
  const deprecated = graded.filter(isDeprecated).map((m) => ({ ...m, ...replacement(m.patient) }));
  const matches = graded.filter((m) => !isDeprecated(m)).slice(0, options.count);
  return { matches, deprecated, candidates: candidates.length };
}

/** The distinct records of every blocking search. */
export async function findCandidates(
  repo: Repository,
  patient: Patient,
  features: PatientFeatures = patientFeatures(patient),
): Promise<StoredVersion[]> {
  const found = new Map<string, StoredVersion>();
  for (const pairs of blockingSearches(patient, features)) {
    const { page } = await repo.search(['Patient'], pairs, { internal: true });
    for (const stored of page.entries) found.set(stored.id, stored);
  }
  return [...found.values()];
}

function gradeCandidate(features: PatientFeatures, stored: StoredVersion): PatientMatch | undefined {
  const patient = JSON.parse(stored.json as string) as Patient;
  const evaluation = evaluate(comparePatients(features, patientFeatures(patient)));
  if (!evaluation.grade) return undefined;
  return { ...evaluation, grade: evaluation.grade, stored, patient };
}

function byGradeThenScore(a: PatientMatch, b: PatientMatch): number {
  return GRADE_ORDER[a.grade] - GRADE_ORDER[b.grade] || b.total - a.total || a.stored.id.localeCompare(b.stored.id);
}

export function isDeprecated(match: { patient: Patient }): boolean {
  return match.patient.active === false || replacement(match.patient).replacedBy !== undefined;
}

function replacement(patient: Patient): { replacedBy?: string } {
  const link = patient.link?.find((l) => l.type === 'replaced-by');
  return link?.other.reference ? { replacedBy: link.other.reference } : {};
}

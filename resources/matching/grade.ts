// From field comparisons to a match grade and a score: the summed weight must pass a threshold, a `certain`
// match must also show one of the approved combinations of agreeing fields, and a disagreeing given name,
// birth date or generation (twins, parent and junior) never grades above `possible`.
import type { FieldComparison, MatchField } from './weights';

export type MatchGrade = 'certain' | 'probable' | 'possible';

export interface MatchEvaluation {
  comparisons: FieldComparison[];
  /** The summed weights. */
  total: number;
  grade?: MatchGrade;
  /** 0..1, ordered as (grade, total): certain in [0.9, 1], probable in [0.6, 0.9), possible in [0.2, 0.6). */
  score: number;
}

/** Least total weight per grade. */
export const GRADE_THRESHOLDS: Record<MatchGrade, number> = { certain: 22, probable: 14, possible: 8 };
const SCORE_BANDS: Record<MatchGrade, [number, number]> = {
  certain: [0.9, 1],
  probable: [0.6, 0.9],
  possible: [0.2, 0.6],
};
/** Disagreement on any of these caps the grade at `possible`: they tell two people of one family apart. */
const VETO_FIELDS: ReadonlySet<MatchField> = new Set(['given', 'birthDate', 'suffix']);

/** A field at one of the levels, or `agree` meaning any level with a positive weight. */
type Requirement = `${MatchField}:${string}`;

/** Combinations that make a match certain, each a list of requirements of which one alternative must hold. */
const CERTAIN_COMBINATIONS: readonly Requirement[][][] = [
  [['identifier:agree'], ['birthDate:exact'], ['family:agree', 'given:agree']],
  [
    ['family:agree'],
    ['given:exact', 'given:nickname', 'given:phonetic', 'given:fuzzy'],
    ['birthDate:exact'],
    ['phone:agree', 'email:agree', 'addressLine:agree'],
  ],
  // A slip in the birth date is outweighed by the whole name, the address and a phone or e-mail.
  [
    ['family:agree'],
    ['given:exact', 'given:nickname', 'given:phonetic', 'given:fuzzy'],
    ['birthDate:swapped', 'birthDate:near'],
    ['phone:agree', 'email:agree'],
    ['addressLine:agree'],
  ],
];

export function evaluate(comparisons: FieldComparison[]): MatchEvaluation {
  const total = comparisons.reduce((sum, c) => sum + c.weight, 0);
  const grade = gradeOf(comparisons, total);
  return { comparisons, total, ...(grade ? { grade } : {}), score: grade ? scoreOf(grade, total) : 0 };
}

function gradeOf(comparisons: FieldComparison[], total: number): MatchGrade | undefined {
  const vetoed = comparisons.some((c) => VETO_FIELDS.has(c.field) && c.level === 'disagree');
  const noNegative = comparisons.every((c) => c.weight >= 0);
  if (!vetoed && noNegative && total >= GRADE_THRESHOLDS.certain && isApprovedCombination(comparisons)) {
    return 'certain';
  }
  if (!vetoed && total >= GRADE_THRESHOLDS.probable) return 'probable';
  return total >= GRADE_THRESHOLDS.possible ? 'possible' : undefined;
}

function isApprovedCombination(comparisons: FieldComparison[]): boolean {
  const holds = (requirement: Requirement) => {
    const [field, level] = requirement.split(':');
    return comparisons.some((c) => c.field === field && (level === 'agree' ? c.weight > 0 : c.level === level));
  };
  return CERTAIN_COMBINATIONS.some((combination) => combination.every((options) => options.some(holds)));
}

/** The grade's band, filled as the total climbs above the grade's threshold, so scores sort as grades do. */
function scoreOf(grade: MatchGrade, total: number): number {
  const [low, high] = SCORE_BANDS[grade];
  const above = Math.max(0, total - GRADE_THRESHOLDS[grade]);
  const fraction = grade === 'certain' ? 1 - 0.5 ** (above / 10) : Math.min(1, above / 10) * 0.99;
  return Math.round((low + (high - low) * fraction) * 1000) / 1000;
}

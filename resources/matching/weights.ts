// The agreement levels of each compared field and their weights, in the spirit of Fellegi-Sunter: how much
// more often a level is seen between records of one person than between records of two (log-odds, rounded).
// A field either side lacks is not compared and weighs nothing.

export const FIELD_WEIGHTS = {
  identifier: { agree: 12, disagree: 0 },
  family: { exact: 6, phonetic: 4.5, fuzzy: 4, disagree: -3 },
  given: { exact: 5, nickname: 4, phonetic: 4, fuzzy: 3.5, initial: 1.5, disagree: -7 },
  suffix: { agree: 0.5, disagree: -6 },
  birthDate: { exact: 8, swapped: 5, near: 4, year: 2, disagree: -10 },
  gender: { agree: 0.5, disagree: -4 },
  postalCode: { agree: 2, disagree: 0 },
  addressLine: { exact: 3, fuzzy: 2, disagree: 0 },
  phone: { agree: 4, disagree: 0 },
  email: { agree: 5, disagree: 0 },
} as const satisfies Record<string, Record<string, number>>;

export type MatchField = keyof typeof FIELD_WEIGHTS;
export type FieldLevel<F extends MatchField> = keyof (typeof FIELD_WEIGHTS)[F] & string;

/** One field's comparison: the level found and its weight, so that a score can be explained. */
export interface FieldComparison {
  field: MatchField;
  level: string;
  weight: number;
}

export function comparison<F extends MatchField>(field: F, level: FieldLevel<F>): FieldComparison {
  return { field, level, weight: (FIELD_WEIGHTS[field] as Record<string, number>)[level] };
}

/** `family=exact(+6) given=nickname(+4) ...`: why two records scored as they did. */
export function describeComparisons(comparisons: FieldComparison[]): string {
  return comparisons.map((c) => `${c.field}=${c.level}(${c.weight >= 0 ? '+' : ''}${c.weight})`).join(' ');
}

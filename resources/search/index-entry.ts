// The typed search-index entries that one extraction module produces from a resource and every store keeps.
// A store adds only its own keys (row ids, parameter ids); the values here are the whole index model.

/** Epoch milliseconds; open ends of a range use these bounds. */
export const MIN_INSTANT = -8_640_000_000_000_000;
export const MAX_INSTANT = 8_640_000_000_000_000;

interface EntryBase {
  /** Search parameter code, e.g. `name`; for a composite component, `code$index` (e.g. `code-value-quantity$1`). */
  param: string;
  /** For composite components: which repetition of the composite's root element the value came from. */
  group?: number;
}

export interface StringEntry extends EntryBase {
  type: 'string';
  /** Lower case, accents and punctuation folded, whitespace collapsed: what default, `:contains` match on. */
  value: string;
  /** The value exactly as in the resource: what `:exact` matches. */
  exact: string;
}

export interface TokenEntry extends EntryBase {
  type: 'token';
  system: string | null;
  code: string | null;
  /** Normalized display / CodeableConcept.text / Identifier.type.text, for `:text`. */
  text: string | null;
  /** Identifier.type coding, for `:of-type`. */
  typeSystem?: string | null;
  typeCode?: string | null;
}

export interface DateEntry extends EntryBase {
  type: 'date';
  /** First instant of the value's range, epoch ms (inclusive). */
  low: number;
  /** Last instant of the value's range, epoch ms (inclusive). */
  high: number;
}

export interface NumberEntry extends EntryBase {
  type: 'number';
  /** Range implied by the value's precision (e.g. 100 -> [99.5, 100.5)). */
  low: number;
  high: number;
}

export interface QuantityEntry extends EntryBase {
  type: 'quantity';
  low: number;
  high: number;
  system: string | null;
  code: string | null;
  unit: string | null;
}

export interface ReferenceEntry extends EntryBase {
  type: 'reference';
  targetType: string | null;
  targetId: string | null;
  /** Absolute or canonical URL when the reference is not a local `Type/id`. */
  url: string | null;
  identifierSystem: string | null;
  identifierValue: string | null;
}

export interface UriEntry extends EntryBase {
  type: 'uri';
  value: string;
}

export type IndexEntry = StringEntry | TokenEntry | DateEntry | NumberEntry | QuantityEntry | ReferenceEntry | UriEntry;

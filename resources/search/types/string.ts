// String parameters: every searchable text part of a value (a HumanName's family, each given, ... an Address's
// lines, city ...), kept exactly and normalized for the default and `:contains` matches. The query side reuses
// `normalizeString`, so both sides fold text the same way.
import type { StringEntry } from '../index-entry';
import { isObject, list, text, type JsonObject, type TypedValue } from './value';

// Letters that compatibility decomposition leaves whole but a reader treats as plain Latin letters.
const LETTER_FOLDS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};
const FOLDED_LETTERS = new RegExp(`[${Object.keys(LETTER_FOLDS).join('')}]`, 'g');
const COMBINING_MARKS = /\p{M}/gu;
const SEPARATORS = /[\p{P}\p{S}\p{Z}\p{C}\s]+/gu;
const ALREADY_NORMAL = /^[a-z0-9]+( [a-z0-9]+)*$/;

function fold(value: string): string {
  return value
    .toLowerCase()
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(FOLDED_LETTERS, (letter) => LETTER_FOLDS[letter])
    .replace(SEPARATORS, ' ')
    .trim();
}

// Displays and names repeat across resources (every LOINC display of every Observation), and folding costs
// several Unicode regex passes: remember recent results, forgetting all at once when the cache is full.
const FOLD_CACHE_SIZE = 20_000;
const folded = new Map<string, string>();

/**
 * Lower case, accents removed, punctuation and symbols folded to one space, trimmed: `Zoë O'Brien-Smith` ->
 * `zoe o brien smith`. NFKD (not just NFD) so that ligatures and full-width letters fold too.
 */
export function normalizeString(value: string): string {
  if (ALREADY_NORMAL.test(value)) {
    return value;
  }
  let result = folded.get(value);
  if (result === undefined) {
    if (folded.size >= FOLD_CACHE_SIZE) {
      folded.clear();
    }
    result = fold(value);
    folded.set(value, result);
  }
  return result;
}

const HUMAN_NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

const partsOf =
  (names: string[]) =>
  (data: JsonObject): unknown[] =>
    names.flatMap((name) => list(data[name]));

/** The text parts of each complex data type a string parameter can point at; primitives are their own part. */
const PARTS_BY_TYPE: Record<string, ((data: JsonObject) => unknown[]) | undefined> = {
  HumanName: partsOf(HUMAN_NAME_PARTS),
  Address: partsOf(ADDRESS_PARTS),
  CodeableConcept: partsOf(['text']),
  Coding: partsOf(['display']),
  Annotation: partsOf(['text']),
};

function textParts(value: TypedValue): unknown[] {
  if (typeof value.data === 'string') {
    return [value.data];
  }
  const parts = PARTS_BY_TYPE[value.type];
  return parts && isObject(value.data) ? parts(value.data) : [];
}

/** One entry per non-blank text part of the value. */
export function stringEntries(value: TypedValue, param: string): StringEntry[] {
  const entries: StringEntry[] = [];
  for (const part of textParts(value)) {
    const exact = text(part);
    if (exact !== undefined) {
      entries.push({ type: 'string', param, value: normalizeString(exact), exact });
    }
  }
  return entries;
}

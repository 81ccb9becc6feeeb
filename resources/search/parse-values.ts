// Parses the values of one search parameter by its type and modifier (FHIR R4 search, section 3.1.1.4-5):
// prefixes, implicit ranges of dates and numbers, token and reference forms, and the `\` escapes.
import { badRequest } from '../errors';
import { MAX_INSTANT, MIN_INSTANT } from './index-entry';
import type {
  CompositeValue,
  Condition,
  NearValue,
  Prefix,
  QuantityValue,
  RangeValue,
  ReferenceValue,
  TokenValue,
} from './query';
import { normalizeString } from './types/string';
import { dateRange } from './types/date';
import { numberRange } from './types/number';

const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/**
 * Longest `:contains` value, in characters. MongoDB answers `:contains` from the suffixes of each value, cut
 * to this length (it has no substring match without a regex built from input), so both stores take the same.
 */
export const CONTAINS_MAX = 64;

/** Splits on commas that are not escaped; escapes stay in place for the type parser. */
export function splitOrValues(value: string): string[] {
  return splitUnescaped(value, ',');
}

type ValueParser = (code: string, modifier: string | undefined, values: string[], name: string) => Condition | string;

const PARSERS: Record<string, ValueParser> = {
  string: (code, modifier, values, name) => {
    if (modifier === 'exact') return { kind: 'string', param: code, match: 'exact', values: values.map(unescape) };
    if (modifier !== undefined && modifier !== 'contains') return unsupportedModifier(modifier, name);
    const contains = modifier === 'contains';
    const normalized = values.map((v) => (contains ? normalizeInner(unescape(v)) : normalizeString(unescape(v))));
    if (contains && normalized.some((v) => [...v].length > CONTAINS_MAX)) {
      throw badRequest(`${name}: a :contains value can be at most ${CONTAINS_MAX} characters long`, name);
    }
    return { kind: 'string', param: code, match: contains ? 'contains' : 'start', values: normalized };
  },
  token: (code, modifier, values, name) => {
    if (modifier === 'text')
      return { kind: 'token-text', param: code, values: values.map((v) => normalizeString(unescape(v))) };
    if (modifier === 'of-type')
      return { kind: 'token-of-type', param: code, values: values.map((v) => ofType(v, name)) };
    if (modifier !== undefined && modifier !== 'not') return unsupportedModifier(modifier, name);
    return { kind: 'token', param: code, values: values.map(token), not: modifier === 'not' };
  },
  date: (code, modifier, values, name) => {
    if (modifier !== undefined) return unsupportedModifier(modifier, name);
    return { kind: 'date', param: code, values: values.map((v) => prefixed(v, name, dateRangeOf)) };
  },
  number: (code, modifier, values, name) => {
    if (modifier !== undefined) return unsupportedModifier(modifier, name);
    return { kind: 'number', param: code, values: values.map((v) => numberValue(v, name)) };
  },
  quantity: (code, modifier, values, name) => {
    if (modifier !== undefined) return unsupportedModifier(modifier, name);
    return { kind: 'quantity', param: code, values: values.map((v) => quantity(v, name)) };
  },
  reference: (code, modifier, values, name) => {
    if (modifier === 'identifier') return { kind: 'reference-identifier', param: code, values: values.map(token) };
    if (modifier === 'below') {
      return { kind: 'reference', param: code, values: values.map((v) => canonicalBelow(unescape(v), name)) };
    }
    // A type modifier (`subject:Patient`) is checked against the parameter's targets by parse.ts.
    if (modifier !== undefined && !/^[A-Z][A-Za-z]+$/.test(modifier)) return unsupportedModifier(modifier, name);
    return { kind: 'reference', param: code, values: values.map((v) => reference(unescape(v), modifier)) };
  },
  uri: (code, modifier, values, name) => {
    if (modifier !== undefined && modifier !== 'above' && modifier !== 'below') {
      return unsupportedModifier(modifier, name);
    }
    return { kind: 'uri', param: code, match: modifier ?? 'exact', values: values.map(unescape) };
  },
};

export function parseConditionValues(
  paramType: string,
  code: string,
  modifier: string | undefined,
  values: string[],
  name: string,
): Condition | string {
  if (modifier === 'missing') {
    if (values.length !== 1 || (values[0] !== 'true' && values[0] !== 'false')) {
      throw badRequest(`${name} must be true or false`, name);
    }
    return { kind: 'missing', param: code, paramType, missing: values[0] === 'true' };
  }
  const parser = PARSERS[paramType];
  if (!parser) return `${paramType} parameters are not supported yet`;
  return parser(code, modifier, values, name);
}

/** Distance units `near` accepts (km when none is given), in km. */
const NEAR_UNITS: ReadonlyMap<string, number> = new Map([
  ['km', 1],
  ['m', 0.001],
  ['mi', 1.609344],
  ['[mi_i]', 1.609344],
]);

/** The distance `near` searches when the value names none (R4 leaves it to the server). */
export const DEFAULT_NEAR_KM = 10;

const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

/** `near=[latitude]|[longitude]|[distance]|[units]` (R4 Location search), each value a point and its radius. */
export function parseNearValues(code: string, values: string[], name: string): Condition {
  return { kind: 'near', param: code, values: values.map((v) => nearValue(v, name)) };
}

function nearValue(value: string, name: string): NearValue {
  const [latitude, longitude, distance, units, ...rest] = value.split('|');
  const invalid = (why: string) =>
    badRequest(`${name}: "${value}" is not latitude|longitude|distance|units (${why})`, name);
  if (rest.length > 0 || longitude === undefined) throw invalid('two to four parts');
  if (!DECIMAL.test(latitude) || Math.abs(Number(latitude)) > 90) throw invalid('latitude is -90 to 90');
  if (!DECIMAL.test(longitude) || Math.abs(Number(longitude)) > 180) throw invalid('longitude is -180 to 180');
  if (distance !== undefined && distance !== '' && (!DECIMAL.test(distance) || !(Number(distance) > 0))) {
    throw invalid('the distance is a positive number');
  }
  const factor = NEAR_UNITS.get(units === undefined || units === '' ? 'km' : units);
  if (factor === undefined) throw invalid('units are km, m or mi');
  const distanceKm = distance === undefined || distance === '' ? DEFAULT_NEAR_KM : Number(distance) * factor;
  return { latitude: Number(latitude), longitude: Number(longitude), distanceKm };
}

/**
 * Composite values: `a$b` per value, each part parsed by its component's own type into a condition on the
 * component parameter `code$i`. Modifiers do not apply to composites.
 */
export function parseCompositeValues(
  code: string,
  componentTypes: readonly string[],
  modifier: string | undefined,
  values: string[],
  name: string,
): Condition | string {
  if (modifier !== undefined) return unsupportedModifier(modifier, name);
  return { kind: 'composite', param: code, values: values.map((v) => compositeValue(code, componentTypes, v, name)) };
}

function compositeValue(code: string, componentTypes: readonly string[], value: string, name: string): CompositeValue {
  const parts = splitUnescaped(value, '$');
  if (parts.length !== componentTypes.length || parts.some((p) => p === '')) {
    throw badRequest(`${name}: "${value}" must have ${componentTypes.length} components separated by $`, name);
  }
  return { components: parts.map((part, i) => componentCondition(componentTypes[i], `${code}$${i}`, part, name)) };
}

function componentCondition(paramType: string, param: string, value: string, name: string): Condition {
  const condition = PARSERS[paramType]?.(param, undefined, [value], name);
  if (condition === undefined || typeof condition === 'string') {
    throw badRequest(`${name}: a component of type ${paramType} cannot be searched`, name);
  }
  return condition;
}

/**
 * Normalizes a `:contains` value without trimming it: `en ` (word end) must not become `en`. The sentinels
 * keep the edge whitespace through normalizeString, which folds character by character.
 */
function normalizeInner(value: string): string {
  return normalizeString(`a${value}a`).slice(1, -1);
}

/**
 * R4 search.html#modifiers: a server SHALL reject a modifier it does not support for the parameter, so this is a
 * 400 even under `Prefer: handling=lenient` (unlike an unknown parameter, which lenient mode ignores).
 */
export function unsupportedModifier(modifier: string, name: string): never {
  throw badRequest(`${name}: modifier :${modifier} is not supported for this parameter`, name);
}

function token(value: string): TokenValue {
  const parts = splitUnescaped(value, '|').map(unescape);
  if (parts.length === 1) return { code: parts[0] };
  const [system, code] = parts;
  return { system: system === '' ? null : system, code: code === '' ? undefined : code };
}

function ofType(value: string, name: string): { typeSystem?: string; typeCode: string; value: string } {
  const parts = splitUnescaped(value, '|').map(unescape);
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw badRequest(`${name} values must be system|code|value`, name);
  return { typeSystem: parts[0] || undefined, typeCode: parts[1], value: parts[2] };
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * An absolute URL keeps its `|version`: canonical references are indexed with and without theirs, so
 * `questionnaire=http://x|2` finds version 2 only and `questionnaire=http://x` every version.
 */
function reference(value: string, typeModifier: string | undefined): ReferenceValue {
  const local = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(value);
  if (local) return { targetType: local[1], targetId: local[2] };
  if (ABSOLUTE.test(value)) return { url: value };
  return { targetType: typeModifier, targetId: value };
}

/** `:below` on a canonical reference (R4 search.html#versions): the URL at that version and below it. */
function canonicalBelow(value: string, name: string): ReferenceValue {
  if (!ABSOLUTE.test(value)) throw badRequest(`${name}: :below takes a canonical URL, optionally with |version`, name);
  return { url: value, below: true };
}

function quantity(value: string, name: string): QuantityValue {
  const [number, system, code] = splitUnescaped(value, '|').map(unescape);
  const range = numberValue(number, name);
  const result: QuantityValue = { ...range };
  if (code !== undefined && code !== '') result.code = code;
  if (system !== undefined && system !== '') result.system = system;
  return result;
}

function prefixed(
  value: string,
  name: string,
  toRange: (text: string) => { low: number; high: number } | undefined,
): RangeValue {
  const prefix = value.slice(0, 2) as Prefix;
  const hasPrefix = PREFIXES.has(prefix) && !/^\d/.test(value);
  const text = hasPrefix ? value.slice(2) : value;
  const range = toRange(text);
  if (!range) throw badRequest(`${name}: "${value}" is not a valid value`, name);
  return { prefix: hasPrefix ? prefix : 'eq', ...range };
}

/**
 * A number or a quantity's number. lt, le, gt and ge compare with the exact value (search.html#number: "lt100:
 * less than exactly 100"); eq, ne and ap search the implicit range of the written precision.
 */
function numberValue(value: string, name: string): RangeValue {
  const range = prefixed(value, name, numberRangeOf);
  if (!EXACT_NUMBER_PREFIXES.has(range.prefix)) return range;
  const exact = Number(value.slice(2));
  return { prefix: range.prefix, low: exact, high: exact };
}

const EXACT_NUMBER_PREFIXES = new Set<Prefix>(['lt', 'le', 'gt', 'ge']);

function dateRangeOf(text: string): { low: number; high: number } | undefined {
  const range = dateRange(text);
  if (!range || range.low <= MIN_INSTANT || range.high >= MAX_INSTANT) return undefined;
  return range;
}

function numberRangeOf(text: string): { low: number; high: number } | undefined {
  if (!/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return undefined;
  return numberRange(text);
}

function splitUnescaped(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(value: string): string {
  return value.replace(/\\([\\,$|])/g, '$1');
}

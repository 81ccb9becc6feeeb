// Turns search parameters (name/value pairs as they arrived) into the SearchQuery the stores compile.
// Every parameter is either understood or reported: lenient mode lists the rest, strict mode rejects them.
import { badRequest, tooCostly } from '../errors';
import type { Condition, SearchQuery, SortRule, TotalMode } from './query';
import type { SearchParameterRegistry } from './registry';
import { parseConditionValues, splitOrValues } from './parse-values';
import { SHAPING_PARAMETERS, applyShapingParameter, emptyShaping, type ResultShaping } from './result-params';

export type SearchParamPairs = [string, string][];

export interface UnknownParameter {
  name: string;
  reason: string;
}

export interface ParsedSearch {
  query: SearchQuery;
  /** Parameters that were not applied (lenient mode only). */
  unknown: UnknownParameter[];
  /** The parameters that were applied, for the `self` link. */
  applied: SearchParamPairs;
  /** Notes for the client, e.g. a `_count` above the maximum was lowered. */
  notes: string[];
  /** _include, _revinclude, _summary, _elements. */
  shaping: ResultShaping;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
export const MAX_PARAMETERS = 64;
export const MAX_OR_VALUES = 100;

/** Parameters that shape the result rather than select it; the HTTP layer or paging reads them. */
const RESULT_PARAMETERS = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty']);

export function parseSearchParams(
  registry: SearchParameterRegistry,
  resourceTypes: string[],
  pairs: SearchParamPairs,
  options: { strict: boolean },
): ParsedSearch {
  if (pairs.length > MAX_PARAMETERS) throw tooCostly(`A search may have at most ${MAX_PARAMETERS} parameters`);
  const parsed: ParsedSearch = {
    query: { resourceTypes, conditions: [], sort: [], count: DEFAULT_COUNT, total: 'accurate' },
    unknown: [],
    applied: [],
    notes: [],
    shaping: emptyShaping(),
  };
  for (const [name, value] of pairs) {
    const problem = applyParameter(registry, parsed, name, value);
    if (problem === undefined) {
      if (name !== '_cursor') parsed.applied.push([name, value]);
      continue;
    }
    if (options.strict) throw badRequest(`Search parameter ${name}: ${problem}`, name);
    parsed.unknown.push({ name, reason: problem });
  }
  return parsed;
}

/** Applies one parameter; returns why it cannot be applied, or undefined. Malformed values throw a 400. */
function applyParameter(
  registry: SearchParameterRegistry,
  parsed: ParsedSearch,
  name: string,
  value: string,
): string | undefined {
  const query = parsed.query;
  if (RESULT_PARAMETERS.has(name)) {
    applyResultParameter(registry, parsed, name, value);
    return undefined;
  }
  const [code, modifier] = splitModifier(name);
  if (SHAPING_PARAMETERS.has(code)) return applyShapingParameter(registry, parsed.shaping, name, value);
  if (code === '_id') {
    if (modifier && modifier !== 'not') return `modifier :${modifier} is not supported on _id`;
    query.conditions.push({ kind: 'id', ids: orValues(value, name), not: modifier === 'not' });
    return undefined;
  }
  if (code === '_lastUpdated') {
    if (modifier) return `modifier :${modifier} is not supported on _lastUpdated`;
    const condition = parseConditionValues('date', '_lastUpdated', undefined, orValues(value, name), name);
    if (typeof condition === 'string' || condition.kind !== 'date') return 'unsupported value';
    query.conditions.push({ kind: 'lastUpdated', values: condition.values });
    return undefined;
  }
  const paramType = commonParamType(registry, query.resourceTypes, code);
  if (!paramType) return `unknown search parameter for ${query.resourceTypes.join(', ') || 'this search'}`;
  if (paramType === 'composite' || paramType === 'special') return `${paramType} parameters are not supported yet`;
  const condition: Condition | string = parseConditionValues(paramType, code, modifier, orValues(value, name), name);
  if (typeof condition === 'string') return condition;
  query.conditions.push(condition);
  return undefined;
}

function applyResultParameter(
  registry: SearchParameterRegistry,
  parsed: ParsedSearch,
  name: string,
  value: string,
): void {
  const query = parsed.query;
  switch (name) {
    case '_count': {
      if (!/^\d{1,9}$/.test(value)) throw badRequest('_count must be a non-negative integer', '_count');
      const count = Number(value);
      if (count > MAX_COUNT) parsed.notes.push(`_count was lowered to the maximum, ${MAX_COUNT}`);
      query.count = Math.min(count, MAX_COUNT);
      return;
    }
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') {
        throw badRequest('_total must be none, estimate or accurate', '_total');
      }
      query.total = value as TotalMode;
      return;
    case '_sort':
      query.sort = value.split(',').map((key) => parseSortKey(registry, query.resourceTypes, key));
      return;
    case '_cursor':
      query.cursor = value;
      return;
    default:
      return; // _format and _pretty shape the rendering, done at the HTTP edge
  }
}

function parseSortKey(registry: SearchParameterRegistry, resourceTypes: string[], key: string): SortRule {
  const descending = key.startsWith('-');
  const param = descending ? key.slice(1) : key;
  if (param === '_id') return { param, paramType: 'token', descending };
  if (param === '_lastUpdated') return { param, paramType: 'date', descending };
  const paramType = commonParamType(registry, resourceTypes, param);
  if (!paramType || paramType === 'composite' || paramType === 'special') {
    throw badRequest(
      `Cannot sort by "${param}": not a sortable search parameter of ${resourceTypes.join(', ')}`,
      '_sort',
    );
  }
  return { param, paramType, descending };
}

/** The parameter's type when every searched type defines it with the same type. */
function commonParamType(registry: SearchParameterRegistry, resourceTypes: string[], code: string): string | undefined {
  if (resourceTypes.length === 0) return undefined;
  const types = new Set(resourceTypes.map((t) => registry.get(t, code)?.type));
  if (types.size !== 1) return undefined;
  return [...types][0];
}

function splitModifier(name: string): [string, string | undefined] {
  const colon = name.indexOf(':');
  return colon < 0 ? [name, undefined] : [name.slice(0, colon), name.slice(colon + 1)];
}

function orValues(value: string, name: string): string[] {
  const values = splitOrValues(value);
  if (values.length > MAX_OR_VALUES) throw tooCostly(`${name} may have at most ${MAX_OR_VALUES} values`, name);
  if (values.some((v) => v === '')) throw badRequest(`Search parameter ${name} has an empty value`, name);
  return values;
}

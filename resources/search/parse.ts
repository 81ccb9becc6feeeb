// Turns search parameters (name/value pairs as they arrived) into the SearchQuery the stores compile.
// Every parameter is either understood or reported: lenient mode lists the rest, strict mode rejects them.
import { badRequest, tooCostly } from '../errors';
import type { Condition, SearchQuery, SortRule, TotalMode } from './query';
import { parameterUnions } from './unions';
import type { SearchParameterRegistry } from './registry';
import { localizeReferences } from './local-references';
import {
  parseCompositeValues,
  parseConditionValues,
  parseNearValues,
  splitOrValues,
  unsupportedModifier,
} from './parse-values';
import { RESOURCE_TYPES, isResourceType } from './resource-types';
import { MIN_INSTANT } from './index-entry';
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
/** Reference hops (chain links and `_has`) one parameter may take. */
export const MAX_CHAIN_DEPTH = 3;

/** Parameters that shape the result rather than select it; the HTTP layer or paging reads them. */
const RESULT_PARAMETERS = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty']);

/** `_list=[id]` is `_has:List:item:_id=[id]`: the resources that List's entries refer to (R4 search.html#list). */
const LIST_SOURCE = { sourceType: 'List', param: 'item' } as const;

export function parseSearchParams(
  registry: SearchParameterRegistry,
  resourceTypes: string[],
  pairs: SearchParamPairs,
  /** baseUrl: this server's base, whose absolute URLs in reference values stand for local references. */
  options: { strict: boolean; baseUrl?: string },
): ParsedSearch {
  if (pairs.length > MAX_PARAMETERS) throw tooCostly(`A search may have at most ${MAX_PARAMETERS} parameters`);
  const parsed: ParsedSearch = {
    query: { resourceTypes, conditions: [], sort: [], count: DEFAULT_COUNT, total: 'when-known' },
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
  // `_count=0` asks for no matches, so the total is all the answer can say.
  if (parsed.query.count === 0 && parsed.query.total === 'when-known') parsed.query.total = 'accurate';
  if (options.baseUrl) parsed.query.conditions = localizeReferences(parsed.query.conditions, options.baseUrl);
  const unions = parameterUnions(registry, parsed.query);
  if (unions) parsed.query.unions = unions;
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
  const [code, modifier] = splitModifier(name);
  if (RESULT_PARAMETERS.has(code)) {
    if (modifier !== undefined) unsupportedModifier(modifier, name);
    if (value === '' && code !== '_format' && code !== '_pretty') throw emptyValue(name);
    applyResultParameter(registry, parsed, name, value);
    return undefined;
  }
  if (SHAPING_PARAMETERS.has(code)) {
    if (value === '') throw emptyValue(name);
    return applyShapingParameter(registry, parsed.shaping, name, value);
  }
  if (hops(name) > MAX_CHAIN_DEPTH) {
    throw tooCostly(`${name}: chains and _has may be at most ${MAX_CHAIN_DEPTH} levels deep`, name);
  }
  const condition = parseCondition({ registry, value, name }, query.resourceTypes, name);
  if (typeof condition === 'string') return condition;
  query.conditions.push(condition);
  return undefined;
}

/** What every level of a chained parameter shares: the registry, the value and the full name (for messages). */
interface ParameterContext {
  registry: SearchParameterRegistry;
  value: string;
  name: string;
}

/** Parses `name` (the part of the parameter name left at this chain level) as a condition on resourceTypes. */
function parseCondition(ctx: ParameterContext, resourceTypes: string[], name: string): Condition | string {
  if (name.startsWith('_has:')) return parseHas(ctx, resourceTypes, name);
  if (name.includes('.')) return parseChain(ctx, resourceTypes, name);
  const [code, modifier] = splitModifier(name);
  const values = () => orValues(ctx.value, ctx.name);
  if ((code === '_id' || code === '_lastUpdated') && modifier === 'missing') return rowValueMissing(ctx);
  if (code === '_id') {
    if (modifier && modifier !== 'not') unsupportedModifier(modifier, ctx.name);
    return { kind: 'id', ids: values().map(idOfToken), not: modifier === 'not' };
  }
  if (code === '_list') {
    if (modifier !== undefined) unsupportedModifier(modifier, ctx.name);
    return { kind: 'has', ...LIST_SOURCE, condition: { kind: 'id', ids: values().map(listId(ctx.name)) } };
  }
  if (code === '_lastUpdated') {
    if (modifier) unsupportedModifier(modifier, ctx.name);
    const condition = parseConditionValues('date', '_lastUpdated', undefined, values(), ctx.name);
    if (typeof condition === 'string' || condition.kind !== 'date') return 'unsupported value';
    return { kind: 'lastUpdated', values: condition.values };
  }
  const paramType = commonParamType(ctx.registry, resourceTypes, code);
  if (!paramType) return `unknown search parameter ${code} for ${resourceTypes.join(', ') || 'this search'}`;
  if (paramType === 'special') {
    if (code !== 'near') return `${paramType} parameters are not supported yet`;
    if (modifier !== undefined) unsupportedModifier(modifier, ctx.name);
    return parseNearValues(code, values(), ctx.name);
  }
  if (paramType === 'reference' && modifier !== undefined && /^[A-Z]/.test(modifier)) {
    checkedTypeModifier(referenceTargets(ctx.registry, resourceTypes, code), code, modifier, ctx.name);
  }
  if (paramType === 'composite') {
    const components = ctx.registry.get(resourceTypes[0], code)?.components;
    if (!components) return `composite parameter ${code} has components this server does not know`;
    return parseCompositeValues(
      code,
      components.map((c) => c.type),
      modifier,
      values(),
      ctx.name,
    );
  }
  return parseConditionValues(paramType, code, modifier, values(), ctx.name);
}

/** `ref[:Type].rest`: the reference `ref` points at a resource of the target type on which `rest` holds. */
function parseChain(ctx: ParameterContext, resourceTypes: string[], name: string): Condition | string {
  const dot = name.indexOf('.');
  const [code, typeModifier] = splitModifier(name.slice(0, dot));
  const rest = name.slice(dot + 1);
  if (commonParamType(ctx.registry, resourceTypes, code) !== 'reference') {
    return `${code} is not a reference parameter of ${resourceTypes.join(', ')}, so it cannot be chained`;
  }
  const targets = referenceTargets(ctx.registry, resourceTypes, code);
  const targetTypes = typeModifier
    ? checkedTypeModifier(targets, code, typeModifier, ctx.name)
    : chainTargets(ctx, targets, code, rest);
  if (typeof targetTypes === 'string') return targetTypes;
  const condition = parseCondition(ctx, targetTypes, rest);
  if (typeof condition === 'string') return condition;
  return { kind: 'chain', param: code, targetTypes, condition };
}

/** `_has:Type:ref:rest`: some Type resource refers here through `ref` and `rest` holds on it. */
function parseHas(ctx: ParameterContext, resourceTypes: string[], name: string): Condition | string {
  const [, sourceType, param, ...rest] = name.split(':');
  if (!sourceType || !param || rest.length === 0 || rest[0] === '') {
    throw badRequest(`${ctx.name}: _has must be written _has:Type:reference:parameter`, ctx.name);
  }
  if (!isResourceType(sourceType)) return `_has names ${sourceType}, which is not a resource type`;
  if (ctx.registry.get(sourceType, param)?.type !== 'reference') {
    return `${param} is not a reference parameter of ${sourceType}`;
  }
  const targets = ctx.registry.targetTypes(sourceType, param);
  if (targets.length > 0 && !resourceTypes.some((t) => targets.includes(t))) {
    return `${sourceType}.${param} never refers to ${resourceTypes.join(', ')}`;
  }
  const condition = parseCondition(ctx, [sourceType], rest.join(':'));
  if (typeof condition === 'string') return condition;
  return { kind: 'has', sourceType, param, condition };
}

/** Every type the reference parameter may point at on any of the searched types (all types when unrestricted). */
function referenceTargets(registry: SearchParameterRegistry, resourceTypes: string[], code: string): string[] {
  const targets = new Set(resourceTypes.flatMap((t) => registry.targetTypes(t, code)));
  return targets.size > 0 ? [...targets] : [...RESOURCE_TYPES];
}

/** A `:Type` modifier names a type the reference may point at; any other is an unsupported modifier (a 400). */
function checkedTypeModifier(targets: string[], code: string, typeModifier: string, name: string): string[] {
  if (!targets.includes(typeModifier)) {
    throw badRequest(`${name}: modifier :${typeModifier} is not a type that ${code} may refer to`, name);
  }
  return [typeModifier];
}

/**
 * Without `:Type`, the target is the only one the reference allows, or the only one that defines the chained
 * parameter. Searching several at once could silently mix unrelated types, so that is a 400 asking for `:Type`.
 */
function chainTargets(ctx: ParameterContext, targets: string[], code: string, rest: string): string[] | string {
  if (targets.length === 1) return targets;
  const [innerCode] = splitModifier(rest.split('.')[0]);
  const defining = targets.filter((t) => ctx.registry.get(t, innerCode) !== undefined);
  if (defining.length === 1) return defining;
  if (defining.length === 0) return `no type that ${code} may refer to has a search parameter ${innerCode}`;
  throw badRequest(
    `${ctx.name}: ${code} may refer to ${defining.join(', ')}, which all have ${innerCode}; ` +
      `name one with a type modifier, e.g. ${code}:${defining[0]}.${rest}`,
    ctx.name,
  );
}

/** Reference hops in a parameter name: each `.` of a chain and each `_has:`. */
function hops(name: string): number {
  return (name.match(/\./g)?.length ?? 0) + (name.match(/(^|:|\.)_has:/g)?.length ?? 0);
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
  if (values.some((v) => v === '')) throw emptyValue(name);
  return values;
}

/**
 * A known parameter without a value is refused rather than dropped: a search that silently loses a criterion
 * returns more than the client asked for. (R4 lets servers ignore empty parameters; this server chooses not to.)
 */
function emptyValue(name: string) {
  return badRequest(`Search parameter ${name} has an empty value`, name);
}

/**
 * `_id:missing` and `_lastUpdated:missing` (`:missing` applies to every parameter): every resource has both, so
 * `false` matches all and `true` none, said as a `_lastUpdated` bound every row meets or none does.
 */
function rowValueMissing(ctx: ParameterContext): Condition {
  if (ctx.value !== 'true' && ctx.value !== 'false') throw badRequest(`${ctx.name} must be true or false`, ctx.name);
  const missing = ctx.value === 'true';
  return { kind: 'lastUpdated', values: [{ prefix: missing ? 'lt' : 'gt', low: MIN_INSTANT, high: MIN_INSTANT }] };
}

/** A List id; `$current-allergies` and the other functional lists are not kept by this server. */
function listId(name: string) {
  return (value: string): string => {
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
      throw badRequest(
        `${name}: "${value}" is not a List id (functional lists such as $current-problems are not supported)`,
        name,
      );
    }
    return value;
  };
}

/**
 * `_id` is a token (R4 search.html#all): `|abc` is the id abc with no system; ids have no system, so
 * `system|abc` matches nothing (the empty string is never an id).
 */
function idOfToken(value: string): string {
  const bar = value.indexOf('|');
  if (bar < 0) return value;
  return bar === 0 ? value.slice(1) : '';
}

// Compiles the conditions of a parsed search into a MongoDB filter over ResourceDocument, with the semantics of
// the SQLite compiler (sqlite/search-sql.ts). Pure: chain and _has sets arrive resolved (search-joins.ts). Field
// names are our own; query values only ever appear as values (no $where, $function or regex; the one $expr,
// Location `near`'s distance, computes over our fields with query numbers as its only values).
import { badRequest } from '../../errors';
import type { IndexEntry } from '../../search/index-entry';
import type {
  CompositeValue,
  Condition,
  QuantityValue,
  RangeValue,
  ReferenceValue,
  SearchQuery,
  TokenValue,
} from '../../search/query';
import { compositeMembers, storedCodes, type ParameterUnions } from '../../search/unions';
import type { Filter } from './collections';
import { CONTAINS_MAX } from '../../search/parse-values';
import { and, NEVER, or } from './filters';
import { nearFilter } from './search-near';
import { isVersioned, versionBelow } from '../../search/types/uri';
import { SEARCHABLE_TYPES } from '../searchable-types';

export type JoinCondition = Extract<Condition, { kind: 'chain' | 'has' }>;

/** The `Type/id` keys each chain or _has condition stands for, resolved innermost first. */
export type JoinKeys = ReadonlyMap<JoinCondition, readonly string[]>;

type EntryType = IndexEntry['type'];

/** The resources a condition is compiled against: their possible types, the query's unions, resolved joins. */
interface Scope {
  types: readonly string[];
  unions: ParameterUnions | undefined;
  joins: JoinKeys;
}

/** The page and count filter: live resources of the query's types matching every condition. */
export function searchFilter(query: SearchQuery, joins: JoinKeys): Filter {
  return liveFilter(query.resourceTypes, query.conditions, query.unions, joins);
}

/** The resources a join reads: a chain's live targets, or a _has's live sources, matching its inner condition. */
export function joinSourceFilter(join: JoinCondition, unions: ParameterUnions | undefined, joins: JoinKeys): Filter {
  const types = join.kind === 'chain' ? join.targetTypes : [join.sourceType];
  return liveFilter(types, [join.condition], unions, joins);
}

function liveFilter(
  types: readonly string[],
  conditions: Condition[],
  unions: ParameterUnions | undefined,
  joins: JoinKeys,
): Filter {
  const scope: Scope = { types, unions, joins };
  return and([{ type: { $in: [...types] }, deleted: false }, ...conditions.map((c) => conditionFilter(c, scope))]);
}

/** Resource types that store a parameter (or several) under the same codes (unions differ per type). */
export interface CodeGroup {
  types: string[];
  /** Per parameter asked for, its stored codes. */
  codes: string[][];
}

export function codeGroups(
  types: readonly string[],
  params: readonly string[],
  unions: ParameterUnions | undefined,
): CodeGroup[] {
  const groups = new Map<string, CodeGroup>();
  for (const type of types) {
    const codes = params.map((param) => [...storedCodes(unions, type, param)]);
    const key = JSON.stringify(codes);
    const group = groups.get(key);
    if (group) group.types.push(type);
    else groups.set(key, { types: [type], codes });
  }
  return [...groups.values()];
}

/**
 * `build(codes)` for the scope's types: one filter when every type stores the parameters under the same codes
 * (the scope's own type condition applies), else one alternative per group of types.
 */
function perType(scope: Scope, params: string[], build: (codes: string[][]) => Filter): Filter {
  const groups = codeGroups(scope.types, params, scope.unions);
  if (groups.length === 1) return build(groups[0].codes);
  return or(groups.map((g) => and([{ type: { $in: g.types } }, build(g.codes)])));
}

function conditionFilter(condition: Condition, scope: Scope): Filter {
  switch (condition.kind) {
    case 'id':
      return { id: { [condition.not ? '$nin' : '$in']: condition.ids } };
    case 'lastUpdated':
      return or(condition.values.map((v) => range('lastUpdated', 'lastUpdated', v)));
    case 'chain':
      return perType(scope, [condition.param], ([codes]) => ({
        index: {
          $elemMatch: { param: { $in: codes }, type: 'reference', target: { $in: joinKeys(scope, condition) } },
        },
      }));
    case 'has':
      return { _id: { $in: joinKeys(scope, condition) } };
    case 'near':
      return nearFilter(condition.param, condition.values);
    case 'composite':
      return or(
        compositeMembers(scope.unions, scope.types, condition).flatMap(({ param, values }) =>
          values.map((value) => compositeValue(param, value, scope)),
        ),
      );
    default:
      return lookupFilter(indexLookup(condition), scope);
  }
}

function joinKeys(scope: Scope, join: JoinCondition): string[] {
  const keys = scope.joins.get(join);
  if (!keys) throw new Error(`unresolved ${join.kind} condition on ${join.param}`);
  return [...keys];
}

/** A lookup among the index entries of one parameter: those matching `match` (any when absent), or none. */
interface IndexLookup {
  param: string;
  entryType: EntryType;
  match?: Filter;
  negate?: boolean;
}

/** The `$elemMatch` of a lookup's entries; SQL reads one index table, so the entry type is part of it. */
function entryMatch(lookup: IndexLookup, codes: string[]): Filter {
  return and([{ param: { $in: codes }, type: lookup.entryType }, lookup.match ?? {}]);
}

/** Some entry matches, or (negated, as SQL's NOT IN) none does: `$nor` rather than `$not` with `$elemMatch`. */
function lookupFilter(lookup: IndexLookup, scope: Scope): Filter {
  const some = perType(scope, [lookup.param], ([codes]) => ({ index: { $elemMatch: entryMatch(lookup, codes) } }));
  return lookup.negate ? { $nor: [some] } : some;
}

type IndexKind = Exclude<Condition['kind'], 'id' | 'lastUpdated' | 'chain' | 'has' | 'composite' | 'near'>;
type IndexCondition = Extract<Condition, { kind: IndexKind }>;

/** Per condition kind: the entries it looks up (as search-sql.ts INDEX_MATCHERS, field for column). */
const INDEX_LOOKUPS: { [K in IndexKind]: (c: Extract<Condition, { kind: K }>) => IndexLookup } = {
  missing: (c) => ({ param: c.param, entryType: entryTypeOf(c.paramType), negate: c.missing }),
  token: (c) => ({ param: c.param, entryType: 'token', match: or(c.values.map((v) => tokenMatch(v))), negate: c.not }),
  'token-text': (c) => ({
    param: c.param,
    entryType: 'token',
    match: or(c.values.map((v) => ({ text: startsWith(v) }))),
  }),
  'token-of-type': (c) => ({
    param: c.param,
    entryType: 'token',
    match: or(
      c.values.map((v) => ({
        typeCode: v.typeCode,
        ...(v.typeSystem ? { typeSystem: v.typeSystem } : {}),
        code: v.value,
      })),
    ),
  }),
  string: (c) => ({ param: c.param, entryType: 'string', match: or(c.values.map(stringMatch(c.match))) }),
  date: (c) => ({ param: c.param, entryType: 'date', match: or(c.values.map((v) => range('low', 'high', v))) }),
  number: (c) => ({ param: c.param, entryType: 'number', match: or(c.values.map((v) => range('low', 'high', v))) }),
  quantity: (c) => ({ param: c.param, entryType: 'quantity', match: or(c.values.map(quantityMatch)) }),
  reference: (c) => ({ param: c.param, entryType: 'reference', match: or(c.values.map(referenceMatch)) }),
  'reference-identifier': (c) => ({
    param: c.param,
    entryType: 'reference',
    match: or(c.values.map((v) => tokenMatch(v, 'identifierSystem', 'identifierValue'))),
  }),
  uri: (c) => ({ param: c.param, entryType: 'uri', match: or(c.values.map(uriMatch(c.match))) }),
};

function indexLookup(condition: IndexCondition): IndexLookup {
  return (INDEX_LOOKUPS[condition.kind] as (c: IndexCondition) => IndexLookup)(condition);
}

/** Composites are searched through their components' entries; every other searchable type has its own. */
const ENTRY_TYPES: ReadonlySet<string> = new Set([...SEARCHABLE_TYPES].filter((t) => t !== 'composite'));

export function entryTypeOf(paramType: string): EntryType {
  if (ENTRY_TYPES.has(paramType)) return paramType as EntryType;
  throw badRequest(`Search parameters of type ${paramType} cannot be used here`);
}

/**
 * One composite value: one repetition (composites element) holding an entry for every component, so values
 * never mix across repetitions.
 */
function compositeValue(param: string, value: CompositeValue, scope: Scope): Filter {
  const lookups = value.components.map(componentLookup(param));
  if (lookups.length === 0) return NEVER;
  return perType(
    scope,
    lookups.map((l) => l.param),
    (codes) => ({
      composites: {
        $elemMatch: and([{ param }, ...lookups.map((l, i) => ({ parts: { $elemMatch: entryMatch(l, codes[i]) } }))]),
      },
    }),
  );
}

/** A composite component must be a plain positive lookup of one component parameter `code$i`. */
function componentLookup(param: string) {
  return (component: Condition): IndexLookup => {
    const lookup = component.kind in INDEX_LOOKUPS ? indexLookup(component as IndexCondition) : undefined;
    if (!lookup || lookup.negate || !lookup.param.startsWith(`${param}$`)) {
      throw badRequest(`Composite parameter ${param}: unsupported component condition`);
    }
    return lookup;
  };
}

function tokenMatch(v: TokenValue, systemField = 'system', codeField = 'code'): Filter {
  // A null system (`|code`) is `system: null`, which also matches a missing field: entries keep their nulls.
  return {
    ...(v.code !== undefined ? { [codeField]: v.code } : {}),
    ...(v.system !== undefined ? { [systemField]: v.system } : {}),
  };
}

function quantityMatch(v: QuantityValue): Filter {
  const unit: Filter[] = [];
  if (v.system !== undefined) unit.push({ system: v.system });
  if (v.code !== undefined) {
    unit.push(v.system !== undefined ? { code: v.code } : or([{ code: v.code }, { unit: v.code }]));
  }
  return and([range('low', 'high', v), ...unit]);
}

function referenceMatch(v: ReferenceValue): Filter {
  if (v.url !== undefined && v.below) {
    const { equal, prefix } = versionBelow(v.url);
    return or([{ url: equal }, { url: startsWith(prefix) }]);
  }
  if (v.url !== undefined) return { url: v.url };
  if (v.targetType) return { targetId: v.targetId, targetType: v.targetType };
  return { targetId: v.targetId };
}

function stringMatch(match: 'start' | 'exact' | 'contains') {
  return (value: string): Filter => {
    if (match === 'exact') return { exact: value };
    if (match === 'start') return { value: startsWith(value) };
    if ([...value].length > CONTAINS_MAX) {
      throw badRequest(`A :contains search value can be at most ${CONTAINS_MAX} characters long`);
    }
    // Each suffix of the value (cut to CONTAINS_MAX) is stored: containing is starting one of them. Every value
    // contains '', even one too short to have suffixes.
    return value === '' ? {} : { suffixes: { $elemMatch: startsWith(value) } };
  };
}

function uriMatch(match: 'exact' | 'above' | 'below') {
  return (value: string): Filter => {
    if (match === 'below' && isVersioned(value)) {
      const { equal, prefix } = versionBelow(value);
      return or([{ value: equal }, { value: startsWith(prefix) }]);
    }
    if (match === 'below') return { value: startsWith(value) };
    if (match === 'above') return { value: { $in: prefixesOf(value) } };
    return { value };
  };
}

/**
 * Strings that start with `prefix`: at least it, and below its successor (last code point + 1). SQL's bound
 * (`prefix || U+10FFFF`) would do in MongoDB, which compares UTF-8 bytes as SQLite does, but not in mingo, which
 * compares UTF-16 units: there U+E000..U+FFFF sort above U+10FFFF. The successor bound holds in both orders.
 */
function startsWith(prefix: string): Filter {
  const end = successor(prefix);
  return end === undefined ? { $gte: prefix } : { $gte: prefix, $lt: end };
}

function successor(prefix: string): string | undefined {
  const chars = [...prefix];
  while (chars.length > 0) {
    const last = chars.pop()!.codePointAt(0)!;
    // Surrogate code points are no characters: U+D7FF is followed by U+E000.
    if (last < 0x10ffff) return chars.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return undefined;
}

/** Every prefix of a value by code point, '' and the value included: `:above` matches a stored prefix. */
function prefixesOf(value: string): string[] {
  const chars = [...value];
  return chars.map((_, i) => chars.slice(0, i).join('')).concat(value);
}

/** search-sql.ts range(), prefix by prefix, over two fields (the same one for lastUpdated). */
function range(low: string, high: string, v: RangeValue): Filter {
  switch (v.prefix) {
    case 'eq':
      return and([{ [low]: { $gte: v.low, $lte: v.high } }, { [high]: { $lte: v.high } }]);
    case 'ne':
      // NOT (low >= v.low AND high <= v.high), fields being never null.
      return or([{ [low]: { $lt: v.low } }, { [high]: { $gt: v.high } }]);
    case 'gt':
      return { [high]: { $gt: v.high } };
    case 'lt':
      return { [low]: { $lt: v.low } };
    // ge / le (R4 search.html#prefix): the range above (below) the search value intersects the target's, or
    // the search range contains the target's; merely overlapping the search value is not enough.
    case 'ge':
      return and([{ [high]: { $gte: v.low } }, or([{ [high]: { $gt: v.high } }, contained(low, high, v)])]);
    case 'le':
      return and([{ [low]: { $lte: v.high } }, or([{ [low]: { $lt: v.low } }, contained(low, high, v)])]);
    case 'sa':
      return { [low]: { $gt: v.high } };
    case 'eb':
      return { [high]: { $lt: v.low } };
    case 'ap': {
      // The same margin as SQL: 10% of the value's distance from now, or of its width.
      const margin = Math.max(Math.abs(Date.now() - v.low) * 0.1, (v.high - v.low) * 0.1);
      return and([{ [low]: { $lte: v.high + margin } }, { [high]: { $gte: v.low - margin } }]);
    }
  }
}

function contained(low: string, high: string, v: RangeValue): Filter {
  return and([{ [low]: { $gte: v.low } }, { [high]: { $lte: v.high } }]);
}

// The order of search pages as the SQLite compiler defines it (sort keys, missing values last either way, then
// creation order), compiled to a MongoDB pipeline with keyset paging, and the opaque cursor of a page's edge.
import { badRequest } from '../../errors';
import type { SearchQuery, SortRule } from '../../search/query';
import type { ParameterUnions } from '../../search/unions';
import type { Filter, PipelineStage, SortSpec } from './collections';
import type { Page, StoredVersion } from '../port';
import { sortKeyField, storedVersion, type ResourceDocument, type VersionDocument } from './documents';
import { and, or } from './filters';
import { codeGroups, entryTypeOf } from './search-filter';

export type CursorKey = string | number;

/** The row a page starts after (`next`) or before (`previous`): its sort keys and its `order`. */
export interface PageCursor {
  direction: 'next' | 'previous';
  keys: CursorKey[];
  order: string;
}

/** One sort key: the field it is read from, and, unless it is stored as such, the expression computing it. */
export interface OrderKey {
  field: string;
  descending: boolean;
  text: boolean;
  compute?: unknown;
}

/** Missing values sort last: SQL coalesces them to these, above (ascending) or below (descending) every value. */
const MISSING = {
  text: { ascending: '\u{10FFFF}', descending: '' },
  number: { ascending: Number.MAX_VALUE, descending: -Number.MAX_VALUE },
};

const TEXT_ENTRIES: ReadonlySet<string> = new Set(['string', 'token', 'reference', 'uri']);

const STORED_KEYS: Record<string, Omit<OrderKey, 'descending'>> = {
  _id: { field: 'id', text: true },
  _lastUpdated: { field: 'lastUpdated', text: false },
};

export function orderKeys(query: SearchQuery): OrderKey[] {
  return query.sort.map((rule, i) => {
    const stored = STORED_KEYS[rule.param];
    if (stored) return { ...stored, descending: rule.descending };
    const text = TEXT_ENTRIES.has(entryTypeOf(rule.paramType));
    const compute = keyExpression(rule, text, query.resourceTypes, query.unions);
    return { field: `_key${i}`, descending: rule.descending, text, compute };
  });
}

/**
 * COALESCE(MIN(low) or MAX(high) of the parameter's entries, sentinel), as SQL's sort key, from the document's
 * per-parameter `sort` keys. The key is computed in an $addFields stage, so it is exactly SQL's, sentinel ties
 * included, and compares the same in mingo and MongoDB. The trade-off: MongoDB cannot walk an index for such an
 * order; it reads every match and keeps the top `count + 1` ($sort then $limit), where an index on a stored key
 * would put missing values first (ascending) and need a second query for them. _id and _lastUpdated are stored.
 */
function keyExpression(
  rule: SortRule,
  text: boolean,
  types: readonly string[],
  unions: ParameterUnions | undefined,
): unknown {
  const missing = MISSING[text ? 'text' : 'number'][rule.descending ? 'descending' : 'ascending'];
  const valueOf = (codes: string[]): unknown => {
    const values = codes.map((code) => `$sort.${sortKeyField(code)}.${rule.descending ? 'high' : 'low'}`);
    if (values.length === 0) return { $literal: missing };
    if (values.length === 1) return { $ifNull: [values[0], missing] };
    // A union's members: the MIN or MAX over all of them. mingo's $max can answer null when one is missing
    // (MongoDB ignores it), so descending keys coalesce each first: the sentinel lies below every value.
    if (rule.descending) return { $max: values.map((v) => ({ $ifNull: [v, missing] })) };
    return { $ifNull: [{ $min: values }, missing] };
  };
  const groups = codeGroups(types, [rule.param], unions);
  if (groups.length <= 1) return valueOf(groups[0]?.codes[0] ?? []);
  const branches = groups.map((g) => ({ case: { $in: ['$type', { $literal: g.types }] }, then: valueOf(g.codes[0]) }));
  return { $switch: { branches, default: { $literal: missing } } };
}

/**
 * The page query: matches, computed keys, the keyset condition past the cursor, the order (reversed to fetch a
 * `previous` page), `count + 1` rows to know whether there are more, without the index fields.
 */
export function pagePipeline(
  filter: Filter,
  keys: OrderKey[],
  cursor: PageCursor | undefined,
  count: number,
): PipelineStage[] {
  const keyset = cursor ? keysetFilter(keys, cursor) : undefined;
  const computed = keys.filter((k) => k.compute !== undefined);
  const select: PipelineStage[] =
    computed.length === 0
      ? [{ $match: keyset ? and([filter, keyset]) : filter }]
      : [
          { $match: filter },
          { $addFields: Object.fromEntries(computed.map((k) => [k.field, k.compute])) },
          ...(keyset ? [{ $match: keyset }] : []),
        ];
  return [
    ...select,
    { $sort: sortSpec(keys, cursor?.direction === 'previous') },
    { $limit: count + 1 },
    { $project: { index: 0, composites: 0, sort: 0 } },
  ];
}

/** Keys in order, then creation order; a field sorted twice (`_id,-_id`) keeps its first direction. */
function sortSpec(keys: OrderKey[], reverse: boolean): SortSpec {
  const spec: SortSpec = {};
  for (const key of keys) spec[key.field] ??= key.descending !== reverse ? -1 : 1;
  spec.order = reverse ? -1 : 1;
  return spec;
}

/** Rows after (or before) the cursor in the sort order: (keys..., order) compared lexicographically. */
function keysetFilter(keys: OrderKey[], cursor: PageCursor): Filter {
  const reverse = cursor.direction === 'previous';
  const beyond = (before: boolean, value: CursorKey) => ({ [before ? '$lt' : '$gt']: value });
  const alternatives = [...keys, undefined].map((key, i) => {
    const equal = keys.slice(0, i).map((k, j) => ({ [k.field]: cursor.keys[j] }));
    const last = key
      ? { [key.field]: beyond(key.descending !== reverse, cursor.keys[i]) }
      : { order: beyond(reverse, cursor.order) };
    return and([...equal, last]);
  });
  return or(alternatives);
}

/** The position of a fetched row (which carries its computed keys). */
export function positionOf(row: object, keys: OrderKey[]): PageCursor {
  const fields = row as Record<string, CursorKey>;
  return { direction: 'next', keys: keys.map((k) => fields[k.field]), order: fields.order as string };
}

export function encodeCursor(cursor: PageCursor): string {
  const tuple = [cursor.direction === 'next' ? 'n' : 'p', cursor.keys, cursor.order];
  return Buffer.from(JSON.stringify(tuple)).toString('base64url');
}

/** A tampered cursor is a 400, never a driver error: every key must have its sort key's type. */
export function decodeCursor(text: string, keys: OrderKey[]): PageCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
  if (!isCursorTuple(parsed, keys)) throw badRequest('Invalid paging cursor', '_cursor');
  const [direction, values, order] = parsed;
  return { direction: direction === 'n' ? 'next' : 'previous', keys: values, order };
}

const ORDER_PATTERN = /^[0-9a-f]{1,64}$/;

function isCursorTuple(value: unknown, keys: OrderKey[]): value is ['n' | 'p', CursorKey[], string] {
  if (!Array.isArray(value) || value.length !== 3) return false;
  const [direction, values, order] = value;
  return (
    (direction === 'n' || direction === 'p') &&
    Array.isArray(values) &&
    values.length === keys.length &&
    values.every((v, i) => typeof v === (keys[i].text ? 'string' : 'number')) &&
    typeof order === 'string' &&
    ORDER_PATTERN.test(order)
  );
}

/**
 * Turns `count + 1` fetched rows (search results or history versions) into a page with its neighbour cursors,
 * as the SQLite reader does. Rows fetched backwards (for a `previous` cursor) are put back in order.
 */
export function pageOf<T extends ResourceDocument | VersionDocument>(
  fetched: T[],
  count: number,
  cursor: PageCursor | undefined,
  total: number | undefined,
  position: (row: T) => PageCursor,
): Page<StoredVersion> {
  const reverse = cursor?.direction === 'previous';
  const more = fetched.length > count;
  const rows = fetched.slice(0, count);
  if (reverse) rows.reverse();
  const page: Page<StoredVersion> = { entries: rows.map(storedVersion), total };
  if (rows.length === 0) return page;
  if (reverse ? cursor !== undefined : more) page.next = encodeCursor(position(rows[rows.length - 1]));
  if (reverse ? more : cursor !== undefined)
    page.previous = encodeCursor({ ...position(rows[0]), direction: 'previous' });
  return page;
}

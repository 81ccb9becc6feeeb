// The page of a search whose selective conditions each name a single exact token or reference: walked along
// one condition's value index, which holds its rows in rid order, so the first page of a common code reads
// `count + 1` matches instead of listing all of them (60,000 for a common lab code at 1M resources) first.
import type { Condition } from '../../search/query';
import type { Cursor } from './cursor';
import { INDEX_TABLES, type IndexType } from './schema';
import { limit, type Sql } from './sql';

/** Equalities on every column of a value index (after pid): the index then lists its rows by rid. */
export interface IndexSeek {
  condition: Extract<Condition, { kind: 'token' | 'reference' }>;
  indexType: IndexType;
  columns: [column: string, value: string | null][];
}

/** The seek a condition allows: one token with system and code, or one reference with type and id. */
export function indexSeekOf(condition: Condition): IndexSeek | undefined {
  if (condition.kind === 'token' && !condition.not && condition.values.length === 1) {
    const [{ system, code }] = condition.values;
    if (code === undefined || system === undefined) return undefined;
    return {
      condition,
      indexType: 'token',
      columns: [
        ['code', code],
        ['system', system],
      ],
    };
  }
  if (condition.kind === 'reference' && condition.values.length === 1) {
    const [{ targetType, targetId }] = condition.values;
    if (!targetType || targetId === undefined) return undefined;
    return {
      condition,
      indexType: 'reference',
      columns: [
        ['target_id', targetId],
        ['target_type', targetType],
      ],
    };
  }
  return undefined;
}

function equalities(seek: IndexSeek, pid: number, alias: string): Sql {
  return {
    text: [`${alias}.pid = ?`, ...seek.columns.map(([c, v]) => `${alias}.${c} ${v === null ? 'IS NULL' : '= ?'}`)].join(
      ' AND ',
    ),
    params: [pid, ...seek.columns.map(([, v]) => v).filter((v) => v !== null)],
  };
}

/**
 * Rows of the seek in rid order (the keyset moves along the index too), each joined to its resource and
 * checked against `rest`, the query's other conditions on `r`. A resource with two equal entries (a code
 * given twice) comes once: only from its first.
 */
export function drivenPage(seek: IndexSeek, pid: number, rest: Sql, cursor: Cursor | undefined, count: number): Sql {
  const table = INDEX_TABLES[seek.indexType].table;
  const [own, earlier] = [equalities(seek, pid, 'd'), equalities(seek, pid, 'e')];
  const reverse = cursor?.direction === 'previous';
  const keyset: Sql = cursor
    ? { text: ` AND d.rid ${reverse ? '<' : '>'} ?`, params: [cursor.rid] }
    : { text: '', params: [] };
  return {
    text:
      `SELECT r.rid, r.type, r.id, r.version, r.last_updated, v.method, v.content` +
      ` FROM ${table} d INDEXED BY ${table}_value JOIN resources r ON r.rid = d.rid` +
      ` JOIN versions v ON v.rid = r.rid AND v.version = r.version` +
      ` WHERE ${own.text}${keyset.text}` +
      ` AND NOT EXISTS (SELECT 1 FROM ${table} e WHERE ${earlier.text} AND e.rid = d.rid AND e.n < d.n)` +
      ` AND (${rest.text}) ORDER BY d.rid ${reverse ? 'DESC' : 'ASC'} ${limit(count + 1)}`,
    params: [...own.params, ...keyset.params, ...earlier.params, ...rest.params],
  };
}

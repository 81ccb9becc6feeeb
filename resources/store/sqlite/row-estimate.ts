// How many index rows a selective token or reference condition matches, counted up to a cap on its value index.
// Of several selective conditions, the one with the fewest rows drives an unsorted page (driven-page.ts), or is
// the one listed in a sorted search, the others being checked per row: listing a broad one (`status=free` over
// a year of slots) would cost a pass over all its rows.
import type { Condition } from '../../search/query';
import { limit, type Sql } from './sql';

/** The counting query, or undefined for a condition it cannot count (other kinds, URL references). */
export function rowEstimateSql(condition: Condition, pid: number, cap: number): Sql | undefined {
  const parts: Sql[] = [];
  if (condition.kind === 'token' && !condition.not) {
    for (const value of condition.values) {
      if (value.code === undefined) return undefined;
      const system =
        value.system === undefined
          ? { text: '', params: [] }
          : value.system === null
            ? { text: ' AND system IS NULL', params: [] }
            : { text: ' AND system = ?', params: [value.system] };
      parts.push(capped('ix_token', `pid = ? AND code = ?${system.text}`, [pid, value.code, ...system.params], cap));
    }
  } else if (condition.kind === 'reference') {
    for (const value of condition.values) {
      if (value.targetId === undefined) return undefined;
      const type = value.targetType === undefined ? '' : ' AND target_type = ?';
      const params = [pid, value.targetId, ...(value.targetType === undefined ? [] : [value.targetType])];
      parts.push(capped('ix_reference', `pid = ? AND target_id = ?${type}`, params, cap));
    }
  } else return undefined;
  if (parts.length === 0) return undefined;
  return {
    text: `SELECT ${parts.map((p) => `(${p.text})`).join(' + ')} AS n`,
    params: parts.flatMap((p) => p.params),
  };
}

function capped(table: string, where: string, params: unknown[], cap: number): Sql {
  return {
    text: `SELECT count(*) FROM (SELECT 1 FROM ${table} INDEXED BY ${table}_value WHERE ${where} ${limit(cap)})`,
    params,
  };
}

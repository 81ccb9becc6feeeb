// Compiles a parsed SearchQuery into parameterized SQL over the resources table and the index tables.
// Every value from the client is a bound parameter; only table and column names from our own tables are
// spliced into the text.
import type { Condition, RangeValue, SearchQuery, SortRule, TokenValue } from '../../search/query';
import { badRequest } from '../../errors';
import { INDEX_TABLES, type IndexType } from './schema';
import type { ParamIds } from './param-ids';
import type { Cursor, CursorKey } from './cursor';

export interface Sql {
  text: string;
  params: unknown[];
}

/** Parameter types this compiler can query (the CapabilityStatement reads this). */
export const SEARCHABLE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'token',
  'date',
  'number',
  'quantity',
  'reference',
  'uri',
]);

const TEXT_MAX = '\u{10FFFF}';
const NUMBER_MAX = Number.MAX_VALUE;

export class SearchCompiler {
  constructor(private readonly paramIds: ParamIds) {}

  /** WHERE clause (without keyset) shared by the page query and the count query. */
  where(query: SearchQuery): Sql {
    const parts: Sql[] = [
      { text: `r.type IN (${placeholders(query.resourceTypes)})`, params: [...query.resourceTypes] },
      { text: 'r.deleted = 0', params: [] },
    ];
    for (const condition of query.conditions) parts.push(this.condition(condition, query.resourceTypes));
    return join(parts, ' AND ');
  }

  /** Sort-key expressions, each never NULL (missing values sort last in either direction). */
  sortKeys(query: SearchQuery): Sql[] {
    return query.sort.map((rule) => this.sortKey(rule, query.resourceTypes));
  }

  page(query: SearchQuery, cursor: Cursor | undefined): Sql {
    const where = this.where(query);
    const keys = this.sortKeys(query);
    const reverse = cursor?.direction === 'previous';
    const parts = [where];
    if (cursor) parts.push(keysetCondition(query.sort, keys, cursor));
    const filter = join(parts, ' AND ');
    const order = [
      ...query.sort.map((rule, i) => `k${i} ${rule.descending !== reverse ? 'DESC' : 'ASC'}`),
      `r.rid ${reverse ? 'DESC' : 'ASC'}`,
    ];
    const keyColumns = keys.map((k, i) => `${k.text} AS k${i}`);
    return {
      text:
        `SELECT r.rid, r.type, r.id, r.version, r.last_updated, v.method, v.content` +
        keyColumns.map((c) => `, ${c}`).join('') +
        ` FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version` +
        ` WHERE ${filter.text} ORDER BY ${order.join(', ')} LIMIT ?`,
      params: [...keys.flatMap((k) => k.params), ...filter.params, query.count + 1],
    };
  }

  count(query: SearchQuery): Sql {
    const where = this.where(query);
    return { text: `SELECT count(*) AS n FROM resources r WHERE ${where.text}`, params: where.params };
  }

  private pids(resourceTypes: string[], param: string): number[] {
    return resourceTypes.map((t) => this.paramIds.find(t, param)).filter((p): p is number => p !== undefined);
  }

  private condition(condition: Condition, resourceTypes: string[]): Sql {
    switch (condition.kind) {
      case 'id':
        return {
          text: `r.id ${condition.not ? 'NOT IN' : 'IN'} (${placeholders(condition.ids)})`,
          params: condition.ids,
        };
      case 'lastUpdated':
        return or(condition.values.map((v) => range('r.last_updated', 'r.last_updated', v)));
      case 'missing':
        return this.inIndex(resourceTypes, condition.param, indexTypeOf(condition.paramType), undefined, {
          negate: condition.missing,
        });
      case 'token':
        return this.inIndex(resourceTypes, condition.param, 'token', or(condition.values.map((v) => tokenMatch(v))), {
          negate: condition.not,
        });
      case 'token-text':
        return this.inIndex(resourceTypes, condition.param, 'token', or(condition.values.map(wordStart('text'))));
      case 'token-of-type':
        return this.inIndex(
          resourceTypes,
          condition.param,
          'token',
          or(
            condition.values.map((v) => ({
              text: `(type_code = ?${v.typeSystem ? ' AND type_system = ?' : ''} AND code = ?)`,
              params: v.typeSystem ? [v.typeCode, v.typeSystem, v.value] : [v.typeCode, v.value],
            })),
          ),
        );
      case 'string':
        return this.inIndex(resourceTypes, condition.param, 'string', or(condition.values.map(stringMatch(condition))));
      case 'date':
      case 'number':
        return this.inIndex(
          resourceTypes,
          condition.param,
          condition.kind,
          or(condition.values.map((v) => range('low', 'high', v))),
        );
      case 'quantity':
        return this.inIndex(
          resourceTypes,
          condition.param,
          'quantity',
          or(
            condition.values.map((v) => {
              const unit: Sql[] = [];
              if (v.system !== undefined) unit.push({ text: 'system = ?', params: [v.system] });
              if (v.code !== undefined) {
                unit.push(
                  v.system !== undefined
                    ? { text: 'code = ?', params: [v.code] }
                    : { text: '(code = ? OR unit = ?)', params: [v.code, v.code] },
                );
              }
              return join([range('low', 'high', v), ...unit], ' AND ');
            }),
          ),
        );
      case 'reference':
        return this.inIndex(
          resourceTypes,
          condition.param,
          'reference',
          or(
            condition.values.map((v) => {
              if (v.url !== undefined) return { text: 'url = ?', params: [v.url] };
              if (v.targetType)
                return { text: '(target_id = ? AND target_type = ?)', params: [v.targetId, v.targetType] };
              return { text: 'target_id = ?', params: [v.targetId] };
            }),
          ),
        );
      case 'reference-identifier':
        return this.inIndex(
          resourceTypes,
          condition.param,
          'reference',
          or(condition.values.map((v) => tokenMatch(v, 'ident_system', 'ident_value'))),
        );
      case 'uri':
        return this.inIndex(resourceTypes, condition.param, 'uri', or(condition.values.map(uriMatch(condition.match))));
    }
  }

  /** `r.rid IN (rows of the parameter's index table matching match)`, or NOT IN. */
  private inIndex(
    resourceTypes: string[],
    param: string,
    indexType: IndexType,
    match: Sql | undefined,
    options: { negate?: boolean } = {},
  ): Sql {
    const pids = this.pids(resourceTypes, param);
    if (pids.length === 0) return { text: options.negate ? '1' : '0', params: [] };
    const filter = match ? ` AND (${match.text})` : '';
    return {
      text: `r.rid ${options.negate ? 'NOT IN' : 'IN'} (SELECT rid FROM ${INDEX_TABLES[indexType].table} WHERE pid IN (${placeholders(pids)})${filter})`,
      params: [...pids, ...(match?.params ?? [])],
    };
  }

  private sortKey(rule: SortRule, resourceTypes: string[]): Sql {
    if (rule.param === '_id') return { text: 'r.id', params: [] };
    if (rule.param === '_lastUpdated') return { text: 'r.last_updated', params: [] };
    const indexType = indexTypeOf(rule.paramType);
    const column = SORT_COLUMN[indexType];
    const pids = this.pids(resourceTypes, rule.param);
    const missing = isTextColumn(indexType)
      ? rule.descending
        ? "''"
        : `'${TEXT_MAX}'`
      : String(rule.descending ? -NUMBER_MAX : NUMBER_MAX);
    if (pids.length === 0) return { text: missing, params: [] };
    const aggregate = rule.descending ? 'MAX' : 'MIN';
    const col = rule.descending ? column.high : column.low;
    return {
      text: `COALESCE((SELECT ${aggregate}(${col}) FROM ${INDEX_TABLES[indexType].table} s WHERE s.rid = r.rid AND s.pid IN (${placeholders(pids)})), ${missing})`,
      params: pids,
    };
  }
}

const SORT_COLUMN: Record<IndexType, { low: string; high: string }> = {
  string: { low: 'value', high: 'value' },
  token: { low: 'code', high: 'code' },
  date: { low: 'low', high: 'high' },
  number: { low: 'low', high: 'high' },
  quantity: { low: 'low', high: 'high' },
  reference: { low: 'target_id', high: 'target_id' },
  uri: { low: 'value', high: 'value' },
};

const isTextColumn = (t: IndexType) => t === 'string' || t === 'token' || t === 'reference' || t === 'uri';

function indexTypeOf(paramType: string): IndexType {
  if (paramType in INDEX_TABLES) return paramType as IndexType;
  throw badRequest(`Search parameters of type ${paramType} cannot be used here`);
}

/** Rows after (or before) the cursor in the sort order: a lexicographic comparison over keys, then rid. */
function keysetCondition(sort: SortRule[], keys: Sql[], cursor: Cursor): Sql {
  const reverse = cursor.direction === 'previous';
  const alternatives: Sql[] = [];
  const values: CursorKey[] = [...cursor.keys];
  for (let i = 0; i <= keys.length; i++) {
    const equal = keys.slice(0, i).map((k, j) => ({ text: `${k.text} = ?`, params: [...k.params, values[j]] }));
    const after = i < keys.length ? sort[i].descending !== reverse : reverse;
    const op = after ? '<' : '>';
    const last: Sql =
      i < keys.length
        ? { text: `${keys[i].text} ${op} ?`, params: [...keys[i].params, values[i]] }
        : { text: `r.rid ${op} ?`, params: [cursor.rid] };
    alternatives.push(join([...equal, last], ' AND '));
  }
  return or(alternatives);
}

function range(lowCol: string, highCol: string, v: RangeValue): Sql {
  const { low, high } = v;
  switch (v.prefix) {
    case 'eq':
      return { text: `(${lowCol} >= ? AND ${highCol} <= ?)`, params: [low, high] };
    case 'ne':
      return { text: `NOT (${lowCol} >= ? AND ${highCol} <= ?)`, params: [low, high] };
    case 'gt':
      return { text: `${highCol} > ?`, params: [high] };
    case 'lt':
      return { text: `${lowCol} < ?`, params: [low] };
    case 'ge':
      return { text: `${highCol} >= ?`, params: [low] };
    case 'le':
      return { text: `${lowCol} <= ?`, params: [high] };
    case 'sa':
      return { text: `${lowCol} > ?`, params: [high] };
    case 'eb':
      return { text: `${highCol} < ?`, params: [low] };
    case 'ap': {
      // Approximately: overlap with the value widened by 10% of its distance from now (FHIR leaves it to us).
      const margin = Math.max(Math.abs(Date.now() - low) * 0.1, (high - low) * 0.1);
      return { text: `(${lowCol} <= ? AND ${highCol} >= ?)`, params: [high + margin, low - margin] };
    }
  }
}

function tokenMatch(v: TokenValue, systemCol = 'system', codeCol = 'code'): Sql {
  const parts: Sql[] = [];
  if (v.code !== undefined) parts.push({ text: `${codeCol} = ?`, params: [v.code] });
  if (v.system === null) parts.push({ text: `${systemCol} IS NULL`, params: [] });
  else if (v.system !== undefined) parts.push({ text: `${systemCol} = ?`, params: [v.system] });
  return join(parts, ' AND ');
}

function stringMatch(condition: { match: 'start' | 'exact' | 'contains' }) {
  return (value: string): Sql => {
    if (condition.match === 'exact') return { text: 'exact = ?', params: [value] };
    if (condition.match === 'contains') return { text: "value LIKE ? ESCAPE '\\'", params: [`%${escapeLike(value)}%`] };
    return { text: '(value >= ? AND value < ?)', params: [value, value + TEXT_MAX] };
  };
}

function wordStart(column: string) {
  return (value: string): Sql => ({
    text: `(${column} >= ? AND ${column} < ? OR ${column} LIKE ? ESCAPE '\\')`,
    params: [value, value + TEXT_MAX, `% ${escapeLike(value)}%`],
  });
}

function uriMatch(match: 'exact' | 'above' | 'below') {
  return (value: string): Sql => {
    if (match === 'below') return { text: '(value >= ? AND value < ?)', params: [value, value + TEXT_MAX] };
    if (match === 'above') return { text: 'substr(?, 1, length(value)) = value', params: [value] };
    return { text: 'value = ?', params: [value] };
  };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

function join(parts: Sql[], separator: string): Sql {
  const kept = parts.filter((p) => p.text !== '');
  if (kept.length === 0) return { text: '1', params: [] };
  return { text: kept.map((p) => `(${p.text})`).join(separator), params: kept.flatMap((p) => p.params) };
}

function or(parts: Sql[]): Sql {
  if (parts.length === 0) return { text: '0', params: [] };
  return join(parts, ' OR ');
}

// Compiles a parsed SearchQuery into parameterized SQL over the resources table and the index tables.
// Every value from the client is a bound parameter; only table and column names from our own tables are
// spliced into the text.
import type {
  CompositeValue,
  Condition,
  QuantityValue,
  RangeValue,
  ReferenceValue,
  SearchQuery,
  SortRule,
  TokenValue,
} from '../../search/query';
import { badRequest } from '../../errors';
import { MAX_INSTANT, MIN_INSTANT } from '../../search/index-entry';
import { isVersioned, versionBelow } from '../../search/types/uri';
import { INDEX_TABLES, type IndexType } from './schema';
import type { ParamIds } from './param-ids';
import { compositeMembers, storedCodes, type ParameterUnions } from '../../search/unions';
import type { Cursor, CursorKey } from './cursor';
import { drivenPage, indexSeekOf, type IndexSeek } from './driven-page';
import { nearSql } from './search-near';
import { rowEstimateSql } from './row-estimate';
import { limit, type Sql } from './sql';
import { latitudeCode, longitudeCode } from '../../search/types/position';
export { SEARCHABLE_TYPES } from '../searchable-types';

const TEXT_MAX = '\u{10FFFF}';
const NUMBER_MAX = Number.MAX_VALUE;

/** Runs a count query (a seek's capped row count) on the connection the compiled query will run on. */
export type CountRows = (sql: Sql) => number;

/** Seek rows counted per candidate when a query has several: enough to tell a patient's codes from a code's. */
const SEEK_ESTIMATE_CAP = 2000;

export class SearchCompiler {
  constructor(
    private readonly paramIds: ParamIds,
    private readonly countRows?: CountRows,
  ) {}

  /**
   * WHERE clause (without keyset) shared by the page query and the count query. `except` leaves out the
   * condition a driven page seeks by; `probe` checks every index condition per row.
   */
  where(query: SearchQuery, options: { except?: Condition; probe?: boolean } = {}): Sql {
    const conditions = query.conditions.filter((c) => c !== options.except);
    // With a selective index condition, `+` keeps SQLite from scanning every resource of the type through the
    // type index and probing the condition per row: the index condition's rids drive the query instead.
    const typeColumn =
      query.conditions.some(drivesQuery) && !query.conditions.some((c) => c.kind === 'id') ? '+r.type' : 'r.type';
    const parts: Sql[] = [
      { text: `${typeColumn} IN (${placeholders(query.resourceTypes)})`, params: [...query.resourceTypes] },
      { text: 'r.deleted = 0', params: [] },
    ];
    const scope: Scope = { alias: 'r', types: query.resourceTypes, depth: 0, unions: query.unions };
    // Beside a condition that names one value, a broad one (a date range, :missing ...) is checked per row
    // among that value's few matches rather than listed in full first.
    const probe = options.probe ?? conditions.some(isSelective);
    const { windows, others } = probe
      ? { windows: [], others: conditions }
      : dateWindows(conditions, (param) => isUnion(query, param));
    for (const window of windows) parts.push(this.dateWindow(scope, window));
    const listed = options.probe ? new Set<Condition>() : this.listed(query, conditions.filter(isSelective));
    for (const condition of others) {
      // A driven page (options.probe) probes every condition per row, selective ones included.
      parts.push(this.condition(condition, scope, options.probe ?? (probe && !listed.has(condition))));
    }
    return join(parts, ' AND ');
  }

  /**
   * Which selective conditions are listed (`rid IN (...)`) rather than probed per row: with several, only the
   * one matching the fewest index rows (counted up to a cap; at the cap, a reference before a token: one
   * patient's or schedule's rows before a status's), when each can be counted; else all of them.
   */
  private listed(query: SearchQuery, selective: Condition[]): Set<Condition> {
    if (selective.length < 2 || !this.countRows) return new Set(selective);
    let best: { condition: Condition; rows: number } | undefined;
    for (const condition of selective) {
      const param = 'param' in condition ? condition.param : undefined;
      const pids = param === undefined ? [] : this.pids(query.resourceTypes, param, query.unions);
      const sql = pids.length === 1 ? rowEstimateSql(condition, pids[0], SEEK_ESTIMATE_CAP) : undefined;
      if (!sql) return new Set(selective);
      const rows = this.countRows(sql) + (condition.kind === 'reference' ? 0 : 0.5);
      if (!best || rows < best.rows) best = { condition, rows };
    }
    return new Set(best ? [best.condition] : selective);
  }

  /** Sort-key expressions, each never NULL (missing values sort last in either direction). */
  sortKeys(query: SearchQuery): Sql[] {
    return query.sort.map((rule) => this.sortKey(rule, query.resourceTypes, query.unions));
  }

  page(query: SearchQuery, cursor: Cursor | undefined): Sql {
    const driven = this.drivenPage(query, cursor);
    if (driven) return driven;
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
        ` WHERE ${filter.text} ORDER BY ${order.join(', ')} ${limit(query.count + 1)}`,
      params: [...keys.flatMap((k) => k.params), ...filter.params],
    };
  }

  /**
   * In the default order, a query whose selective conditions are all exact tokens or references is walked
   * along one of their value indexes (driven-page.ts), the one with the fewest rows when there are several;
   * every other condition is probed per row.
   */
  private drivenPage(query: SearchQuery, cursor: Cursor | undefined): Sql | undefined {
    const selective = query.conditions.filter(isSelective);
    if (query.sort.length > 0 || selective.length === 0) return undefined;
    const seeks = selective.map((condition) => {
      const seek = indexSeekOf(condition);
      const pids = seek ? this.pids(query.resourceTypes, seek.condition.param, query.unions) : [];
      return seek && pids.length === 1 ? { seek, pid: pids[0] } : undefined;
    });
    if (seeks.some((s) => s === undefined) || (seeks.length > 1 && !this.countRows)) return undefined;
    const candidates = seeks as { seek: IndexSeek; pid: number }[];
    const best =
      candidates.length === 1
        ? candidates[0]
        : candidates
            .map((c) => ({ ...c, rows: this.countRows!(rowEstimateSql(c.seek.condition, c.pid, SEEK_ESTIMATE_CAP)!) }))
            .reduce((a, b) => (b.rows < a.rows ? b : a));
    const rest = this.where(query, { except: best.seek.condition, probe: true });
    return drivenPage(best.seek, best.pid, rest, cursor, query.count);
  }

  count(query: SearchQuery): Sql {
    const only = query.conditions.length === 1 ? indexOnlyLookup(query.conditions[0]) : undefined;
    if (only) {
      // Index rows exist for live resources only and their pid names the type, so one positive lookup is
      // counted in its index alone, without reading a resources row per match. count(DISTINCT) skips the
      // intermediate DISTINCT subquery (a fifth faster for a 40,000-row code).
      const rows = indexRows(this.pids(query.resourceTypes, only.param, query.unions), only);
      return { text: `SELECT count(DISTINCT rid) AS n FROM (${rows.text})`, params: rows.params };
    }
    const where = this.where(query);
    return { text: `SELECT count(*) AS n FROM resources r WHERE ${where.text}`, params: where.params };
  }

  private pids(resourceTypes: string[], param: string, unions: ParameterUnions | undefined): number[] {
    return resourceTypes
      .flatMap((t) => storedCodes(unions, t, param).map((code) => this.paramIds.find(t, code)))
      .filter((p): p is number => p !== undefined);
  }

  /**
   * Compiles a condition against the resources row `scope.alias`, so chains can nest it over other rows.
   * With `probe`, an index condition is an EXISTS over the row's own index rows instead of an IN list.
   */
  private condition(condition: Condition, scope: Scope, probe = false): Sql {
    switch (condition.kind) {
      case 'id':
        return {
          text: `${scope.alias}.id ${condition.not ? 'NOT IN' : 'IN'} (${placeholders(condition.ids)})`,
          params: condition.ids,
        };
      case 'lastUpdated': {
        const column = `${scope.alias}.last_updated`;
        return or(condition.values.map((v) => range(column, column, v)));
      }
      case 'chain':
        return this.chain(condition, scope);
      case 'has':
        return this.has(condition, scope);
      case 'near': {
        const pids = (code: string) => this.pids(scope.types, code, scope.unions);
        const { param, values } = condition;
        return nearSql(scope.alias, pids(latitudeCode(param)), pids(longitudeCode(param)), values);
      }
      case 'composite':
        return or(
          compositeMembers(scope.unions, scope.types, condition).flatMap(({ param, values }) =>
            values.map((value) => this.compositeValue(param, value, scope)),
          ),
        );
      default:
        return probe ? this.probeIndex(scope, indexMatch(condition)) : this.inIndex(scope, indexMatch(condition));
    }
  }

  /**
   * `date=ge X&date=lt Y`: each bound alone matches most rows (everything after X, everything before Y). A
   * resource matches when one entry lies in the window, or when two different entries meet one bound each, which
   * only a resource with several entries (`multi`) can do. Bounded entries in the window start within the
   * parameter's longest span before X, so that part is one short range of `low` (date_spans); entries with an
   * open end are few and searched apart.
   */
  private dateWindow(scope: Scope, window: DateWindow): Sql {
    const pids = this.pids(scope.types, window.param, scope.unions);
    if (pids.length === 0) return { text: '0', params: [] };
    const lower = range('low', 'high', window.lower);
    const upper = range('low', 'high', window.upper);
    const both = join([lower, upper], ' AND ');
    // Without statistics SQLite would take the covering value index for every part; each names its own.
    const rows = (index: string, filter: Sql): Sql => ({
      text: `SELECT rid FROM ix_date INDEXED BY ${index} WHERE pid IN (${placeholders(pids)}) AND ${filter.text}`,
      params: [...pids, ...filter.params],
    });
    // gt and sa bound the end above X's end, ge above its start; lt and eb start below Y's start, le its end.
    const floor = window.lower.prefix === 'ge' ? window.lower.low : window.lower.high;
    const ceiling = window.upper.prefix === 'le' ? window.upper.high : window.upper.low;
    const longest = `(SELECT coalesce(max(span), 0) FROM date_spans WHERE pid IN (${placeholders(pids)}))`;
    const bounded = rows('ix_date_value', {
      text: `low >= ? - ${longest} AND low <= ? AND low > ${MIN_INSTANT} AND high < ${MAX_INSTANT} AND ${both.text}`,
      params: [floor, ...pids, ceiling, ...both.params],
    });
    const openEnd = rows('ix_date_high', { text: `high = ${MAX_INSTANT} AND ${both.text}`, params: both.params });
    const openStart = rows('ix_date_value', { text: `low = ${MIN_INSTANT} AND ${both.text}`, params: both.params });
    const lowerOnly = rows('ix_date_multi', { text: `multi = 1 AND ${lower.text}`, params: lower.params });
    const upperOnly = rows('ix_date_multi', { text: `multi = 1 AND ${upper.text}`, params: upper.params });
    const apart: Sql = {
      text: `${lowerOnly.text} AND rid IN (${upperOnly.text})`,
      params: [...lowerOnly.params, ...upperOnly.params],
    };
    const union = [bounded, openEnd, openStart, apart];
    return {
      text: `${scope.alias}.rid IN (${union.map((u) => u.text).join(' UNION ALL ')})`,
      params: union.flatMap((u) => u.params),
    };
  }

  /** `alias.rid IN (rows of the parameter's index table matching)`, or NOT IN. */
  private inIndex(scope: Scope, lookup: IndexMatch): Sql {
    const pids = this.pids(scope.types, lookup.param, scope.unions);
    if (pids.length === 0) return { text: lookup.negate ? '1' : '0', params: [] };
    const rows = indexRows(pids, lookup);
    return { text: `${scope.alias}.rid ${lookup.negate ? 'NOT IN' : 'IN'} (${rows.text})`, params: rows.params };
  }

  /**
   * `EXISTS (matching index rows of this resource row)`, or NOT EXISTS: a seek on the table's (rid, n) key. The
   * `+` on pid keeps SQLite off the value indexes (all lead with pid), which would scan a range per row.
   */
  private probeIndex(scope: Scope, lookup: IndexMatch): Sql {
    const pids = this.pids(scope.types, lookup.param, scope.unions);
    if (pids.length === 0) return { text: lookup.negate ? '1' : '0', params: [] };
    const p = `p${scope.depth}`;
    // The match's columns need no alias: the innermost table, the index table, is the one that has them.
    const filter = lookup.match ? ` AND (${lookup.match.text})` : '';
    return {
      text:
        `${lookup.negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${INDEX_TABLES[lookup.indexType].table} ${p}` +
        ` WHERE ${p}.rid = ${scope.alias}.rid AND +${p}.pid IN (${placeholders(pids)})${filter})`,
      params: [...pids, ...(lookup.match?.params ?? [])],
    };
  }

  /**
   * References through `param` whose (type, id) is a live target resource matching the inner condition. The
   * inner set is independent of the outer row, so SQLite evaluates it once.
   */
  private chain(condition: Extract<Condition, { kind: 'chain' }>, scope: Scope): Sql {
    const pids = this.pids(scope.types, condition.param, scope.unions);
    if (pids.length === 0 || condition.targetTypes.length === 0) return { text: '0', params: [] };
    const target = nested(scope, 't', condition.targetTypes);
    const inner = this.condition(condition.condition, target);
    const t = target.alias;
    return {
      text:
        `${scope.alias}.rid IN (SELECT rid FROM ix_reference WHERE pid IN (${placeholders(pids)})` +
        ` AND (target_type, target_id) IN (SELECT ${t}.type, ${t}.id FROM resources ${t}` +
        ` WHERE ${t}.type IN (${placeholders(condition.targetTypes)}) AND ${t}.deleted = 0 AND (${inner.text})))`,
      params: [...pids, ...condition.targetTypes, ...inner.params],
    };
  }

  /** The (type, id) pairs that live sourceType resources matching the inner condition reference via `param`. */
  private has(condition: Extract<Condition, { kind: 'has' }>, scope: Scope): Sql {
    const pids = this.pids([condition.sourceType], condition.param, scope.unions);
    if (pids.length === 0) return { text: '0', params: [] };
    const source = nested(scope, 'h', [condition.sourceType]);
    const inner = this.condition(condition.condition, source);
    const h = source.alias;
    return {
      text:
        `(${scope.alias}.type, ${scope.alias}.id) IN (SELECT ${h}r.target_type, ${h}r.target_id FROM resources ${h}` +
        ` JOIN ix_reference ${h}r ON ${h}r.rid = ${h}.rid AND ${h}r.pid IN (${placeholders(pids)})` +
        ` WHERE ${h}.type = ? AND ${h}.deleted = 0 AND (${inner.text}))`,
      params: [...pids, condition.sourceType, ...inner.params],
    };
  }

  /**
   * One composite value: the first component's rows, each with a row of every other component in the same
   * resource and the same group (repetition of the composite's root), so values never mix across repetitions.
   */
  private compositeValue(param: string, value: CompositeValue, scope: Scope): Sql {
    const lookups = value.components.map(componentMatch(param));
    const pids = lookups.map((lookup) => this.pids(scope.types, lookup.param, scope.unions));
    if (lookups.length === 0 || pids.some((p) => p.length === 0)) return { text: '0', params: [] };
    const alias = (i: number) => `c${scope.depth}_${i}`;
    const first = alias(0);
    const rows = lookups.map((lookup, i): Sql => {
      const a = alias(i);
      const correlate = i === 0 ? '' : `${a}.rid = ${first}.rid AND ${a}.grp = ${first}.grp AND `;
      const filter = lookup.match ? ` AND (${lookup.match.text})` : '';
      return {
        text: `${correlate}${a}.pid IN (${placeholders(pids[i])})${filter}`,
        params: [...pids[i], ...(lookup.match?.params ?? [])],
      };
    });
    const others = rows.slice(1).map((row, j) => ({
      text: `EXISTS (SELECT 1 FROM ${INDEX_TABLES[lookups[j + 1].indexType].table} ${alias(j + 1)} WHERE ${row.text})`,
      params: row.params,
    }));
    const where = join([rows[0], ...others], ' AND ');
    return {
      text: `${scope.alias}.rid IN (SELECT ${first}.rid FROM ${INDEX_TABLES[lookups[0].indexType].table} ${first} WHERE ${where.text})`,
      params: where.params,
    };
  }

  private sortKey(rule: SortRule, resourceTypes: string[], unions: ParameterUnions | undefined): Sql {
    if (rule.param === '_id') return { text: 'r.id', params: [] };
    if (rule.param === '_lastUpdated') return { text: 'r.last_updated', params: [] };
    const indexType = indexTypeOf(rule.paramType);
    const column = SORT_COLUMN[indexType];
    const pids = this.pids(resourceTypes, rule.param, unions);
    const missing = isTextColumn(indexType)
      ? rule.descending
        ? "''"
        : `'${TEXT_MAX}'`
      : String(rule.descending ? -NUMBER_MAX : NUMBER_MAX);
    if (pids.length === 0) return { text: missing, params: [] };
    const aggregate = rule.descending ? 'MAX' : 'MIN';
    const col = rule.descending ? column.high : column.low;
    return {
      text: `COALESCE((SELECT ${aggregate}(${col}) FROM ${INDEX_TABLES[indexType].table} s WHERE s.rid = r.rid AND +s.pid IN (${placeholders(pids)})), ${missing})`,
      params: pids,
    };
  }
}

/** The resources row a condition is compiled against: its alias, possible types, and chain depth. */
interface Scope {
  alias: string;
  types: string[];
  depth: number;
  unions: ParameterUnions | undefined;
}

function nested(scope: Scope, prefix: string, types: string[]): Scope {
  const depth = scope.depth + 1;
  return { alias: `${prefix}${depth}`, types, depth, unions: scope.unions };
}

/** A lookup in one parameter's index table: rows matching `match` (any row when absent), or none with negate. */
interface IndexMatch {
  param: string;
  indexType: IndexType;
  match?: Sql;
  negate?: boolean;
}

type IndexKind = Exclude<Condition['kind'], 'id' | 'lastUpdated' | 'chain' | 'has' | 'composite' | 'near'>;
type IndexCondition = Extract<Condition, { kind: IndexKind }>;

/** Per condition kind: its index table and the row filter (unqualified columns of that table). */
const INDEX_MATCHERS: { [K in IndexKind]: (c: Extract<Condition, { kind: K }>) => IndexMatch } = {
  missing: (c) => ({ param: c.param, indexType: indexTypeOf(c.paramType), negate: c.missing }),
  token: (c) => ({ param: c.param, indexType: 'token', match: or(c.values.map((v) => tokenMatch(v))), negate: c.not }),
  'token-text': (c) => ({ param: c.param, indexType: 'token', match: or(c.values.map(startsWith('text'))) }),
  'token-of-type': (c) => ({
    param: c.param,
    indexType: 'token',
    match: or(
      c.values.map((v) => ({
        text: `(type_code = ?${v.typeSystem ? ' AND type_system = ?' : ''} AND code = ?)`,
        params: v.typeSystem ? [v.typeCode, v.typeSystem, v.value] : [v.typeCode, v.value],
      })),
    ),
  }),
  string: (c) => ({ param: c.param, indexType: 'string', match: or(c.values.map(stringMatch(c))) }),
  date: (c) => ({ param: c.param, indexType: 'date', match: or(c.values.map((v) => range('low', 'high', v))) }),
  number: (c) => ({ param: c.param, indexType: 'number', match: or(c.values.map((v) => range('low', 'high', v))) }),
  quantity: (c) => ({ param: c.param, indexType: 'quantity', match: or(c.values.map(quantityMatch)) }),
  reference: (c) => ({ param: c.param, indexType: 'reference', match: or(c.values.map(referenceMatch)) }),
  'reference-identifier': (c) => ({
    param: c.param,
    indexType: 'reference',
    match: or(c.values.map((v) => tokenMatch(v, 'ident_system', 'ident_value'))),
  }),
  uri: (c) => ({ param: c.param, indexType: 'uri', match: or(c.values.map(uriMatch(c.match))) }),
};

function indexMatch(condition: IndexCondition): IndexMatch {
  return (INDEX_MATCHERS[condition.kind] as (c: IndexCondition) => IndexMatch)(condition);
}

/** A composite component must be a plain positive lookup of one component parameter `code$i`. */
function componentMatch(param: string) {
  return (component: Condition): IndexMatch => {
    const lookup = component.kind in INDEX_MATCHERS ? indexMatch(component as IndexCondition) : undefined;
    if (!lookup || lookup.negate || !lookup.param.startsWith(`${param}$`)) {
      throw badRequest(`Composite parameter ${param}: unsupported component condition`);
    }
    return lookup;
  };
}

function quantityMatch(v: QuantityValue): Sql {
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
}

function referenceMatch(v: ReferenceValue): Sql {
  if (v.url !== undefined && v.below) {
    const { equal, prefix } = versionBelow(v.url);
    return { text: '(url = ? OR (url >= ? AND url < ?))', params: [equal, prefix, prefix + TEXT_MAX] };
  }
  if (v.url !== undefined) return { text: 'url = ?', params: [v.url] };
  if (v.targetType) return { text: '(target_id = ? AND target_type = ?)', params: [v.targetId, v.targetType] };
  return { text: 'target_id = ?', params: [v.targetId] };
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

interface DateWindow {
  param: string;
  lower: RangeValue;
  upper: RangeValue;
}

const LOWER_BOUNDS = new Set(['gt', 'ge', 'sa']);
const UPPER_BOUNDS = new Set(['lt', 'le', 'eb']);

/**
 * Pairs one lower and one upper bound on the same date parameter (single values, no OR) into a window. Not for
 * a union parameter: `multi` marks several entries under one stored code, and a union's two entries that meet
 * one bound each may sit under two member codes.
 */
function dateWindows(
  conditions: Condition[],
  isUnion: (param: string) => boolean,
): { windows: DateWindow[]; others: Condition[] } {
  const windows: DateWindow[] = [];
  const others = [...conditions];
  const bound = (param: string, prefixes: Set<string>) =>
    others.find(
      (c): c is Extract<Condition, { kind: 'date' }> =>
        c.kind === 'date' && c.param === param && c.values.length === 1 && prefixes.has(c.values[0].prefix),
    );
  for (const condition of conditions) {
    if (condition.kind !== 'date' || !others.includes(condition) || isUnion(condition.param)) continue;
    const lower = bound(condition.param, LOWER_BOUNDS);
    const upper = bound(condition.param, UPPER_BOUNDS);
    if (!lower || !upper) continue;
    others.splice(others.indexOf(lower), 1);
    others.splice(others.indexOf(upper), 1);
    windows.push({ param: condition.param, lower: lower.values[0], upper: upper.values[0] });
  }
  return { windows, others };
}

function isUnion(query: SearchQuery, param: string): boolean {
  return query.resourceTypes.some((type) => storedCodes(query.unions, type, param).length > 1);
}

/** The rids of the index rows under `pids` that match the lookup. */
function indexRows(pids: number[], lookup: IndexMatch): Sql {
  const filter = lookup.match ? ` AND (${lookup.match.text})` : '';
  return {
    text: `SELECT rid FROM ${INDEX_TABLES[lookup.indexType].table} WHERE pid IN (${placeholders(pids)})${filter}`,
    params: [...pids, ...(lookup.match?.params ?? [])],
  };
}

/** A condition that names one value per alternative (a code, a target, an exact string): it matches few rows. */
function isSelective(condition: Condition): boolean {
  switch (condition.kind) {
    case 'id':
      return !condition.not;
    case 'token':
      return !condition.not && condition.values.every((v) => v.code !== undefined);
    case 'reference':
      return condition.values.every((v) => v.targetId !== undefined || v.url !== undefined);
    case 'reference-identifier':
      return condition.values.every((v) => v.code !== undefined);
    case 'string':
    case 'uri':
      return condition.match === 'exact';
    default:
      return false;
  }
}

/** The lookup of a positive condition answered by its index rows alone, if it is one. */
function indexOnlyLookup(condition: Condition): IndexMatch | undefined {
  if (!(condition.kind in INDEX_MATCHERS) || condition.kind === 'missing') return undefined;
  const lookup = indexMatch(condition as IndexCondition);
  return lookup.negate ? undefined : lookup;
}

/** Conditions that select through an index (`rid IN (...)`) and so can drive the query. */
function drivesQuery(condition: Condition): boolean {
  if (condition.kind === 'token') return !condition.not;
  return !['id', 'lastUpdated', 'missing'].includes(condition.kind);
}

function range(lowCol: string, highCol: string, v: RangeValue): Sql {
  const { low, high } = v;
  switch (v.prefix) {
    // Each form leads with a range on one column (low, or high: both are indexed) so the index narrows it.
    case 'eq':
      return { text: `(${lowCol} >= ? AND ${lowCol} <= ? AND ${highCol} <= ?)`, params: [low, high, high] };
    case 'ne':
      return { text: `NOT (${lowCol} >= ? AND ${highCol} <= ?)`, params: [low, high] };
    case 'gt':
      return { text: `${highCol} > ?`, params: [high] };
    case 'lt':
      return { text: `${lowCol} < ?`, params: [low] };
    // ge / le (R4 search.html#prefix): the range above (below) the search value intersects the target's, or
    // the search range contains the target's; merely overlapping the search value is not enough.
    case 'ge':
      return {
        text: `(${highCol} >= ? AND (${highCol} > ? OR (${lowCol} >= ? AND ${highCol} <= ?)))`,
        params: [low, high, low, high],
      };
    case 'le':
      return {
        text: `(${lowCol} <= ? AND (${lowCol} < ? OR (${lowCol} >= ? AND ${highCol} <= ?)))`,
        params: [high, low, low, high],
      };
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

/** `:text` is a string search on the display or text: it starts with the value (R4 search.html#modifiers). */
function startsWith(column: string) {
  return (value: string): Sql => ({ text: `(${column} >= ? AND ${column} < ?)`, params: [value, value + TEXT_MAX] });
}

function uriMatch(match: 'exact' | 'above' | 'below') {
  return (value: string): Sql => {
    if (match === 'below' && isVersioned(value)) {
      const { equal, prefix } = versionBelow(value);
      return { text: '(value = ? OR (value >= ? AND value < ?))', params: [equal, prefix, prefix + TEXT_MAX] };
    }
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

// Read operations of the SQLite store over one connection: current and historical versions, history pages
// and search pages. The store uses it on its read connection (committed data only) and, inside a write
// transaction, on the writer connection (so a transaction sees its own writes).
import type Database from 'better-sqlite3-multiple-ciphers';
import type { SearchQuery } from '../../search/query';
import type { HistoryQuery, LoggedVersion, Page, ScanPosition, StoreReader, StoredVersion, WriteMethod } from '../port';
import { logPosition } from './log-position';
import { decodeCursor, encodeCursor, type CursorKey } from './cursor';
import type { ParamIds } from './param-ids';
import { SearchCompiler } from './search-sql';
import { limit } from './sql';

interface VersionRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  method: WriteMethod;
  content: string | null;
  seq?: number;
  [key: `k${number}`]: CursorKey;
}

const VERSION_COLUMNS = 'r.rid, r.type, r.id, v.version, v.last_updated, v.method, v.content';

/** One page of a walk over the current resources of a type, in rid order (index resources_type_rid). */
export const SCAN_TYPE_SQL = `SELECT ${VERSION_COLUMNS} FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
       WHERE r.type = ? AND r.deleted = 0 AND r.rid > ? ORDER BY r.rid LIMIT ?`;

export class SqliteReader implements StoreReader {
  private readonly compiler: SearchCompiler;
  private readonly current: Database.Statement;
  private readonly version: Database.Statement;
  private readonly scanType: Database.Statement;
  private readonly versionsAfter: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    paramIds: ParamIds,
  ) {
    this.compiler = new SearchCompiler(
      paramIds,
      (sql) => (this.statement(sql.text).get(...sql.params) as { n: number }).n,
    );
    this.current = db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
       WHERE r.type = ? AND r.id = ?`,
    );
    this.version = db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM resources r JOIN versions v ON v.rid = r.rid
       WHERE r.type = ? AND r.id = ? AND v.version = ?`,
    );
    this.scanType = db.prepare(SCAN_TYPE_SQL);
    this.versionsAfter = db.prepare(
      `SELECT ${VERSION_COLUMNS}, v.seq FROM versions v JOIN resources r ON r.rid = v.rid
       WHERE v.seq > ? ORDER BY v.seq LIMIT ?`,
    );
  }

  /** Keyset walk in row-id order; the position is the last row id seen. */
  async scan(resourceType: string, position: ScanPosition): Promise<Page<StoredVersion> & { rids: number[] }> {
    const after = position.after === undefined ? 0 : Number(position.after);
    if (!Number.isSafeInteger(after)) throw new Error(`invalid scan position ${position.after}`);
    const rows = this.scanType.all(resourceType, after, position.count) as VersionRow[];
    const page: Page<StoredVersion> & { rids: number[] } = {
      entries: rows.map(toVersion),
      rids: rows.map((r) => r.rid),
    };
    if (rows.length === position.count) page.next = String(rows[rows.length - 1].rid);
    return page;
  }

  /** Keyset walk over every version in write order (`seq`); the position is the last seq seen. */
  async versions(position: ScanPosition): Promise<Page<StoredVersion>> {
    const after = position.after === undefined ? 0 : Number(position.after);
    if (!Number.isSafeInteger(after)) throw new Error(`invalid versions position ${position.after}`);
    const rows = this.versionsAfter.all(after, position.count) as VersionRow[];
    const page: Page<StoredVersion> = { entries: rows.map(toVersion) };
    if (rows.length === position.count) page.next = String(rows[rows.length - 1].seq);
    return page;
  }

  async log(after: string | undefined, count: number): Promise<LoggedVersion[]> {
    const seq = after === undefined ? 0 : Number(after);
    if (!Number.isSafeInteger(seq)) throw new Error(`invalid log position ${after}`);
    const rows = this.versionsAfter.all(seq, count) as VersionRow[];
    return rows.map((row) => ({ ...toVersion(row), position: logPosition(row.seq as number) }));
  }

  async readCurrent(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    return this.readCurrentNow(resourceType, id);
  }

  /** readCurrent without a promise, for callers that must act in the same synchronous step as the read. */
  readCurrentNow(resourceType: string, id: string): StoredVersion | undefined {
    const row = this.current.get(resourceType, id) as VersionRow | undefined;
    return row && toVersion(row);
  }

  async readVersion(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const row = this.version.get(resourceType, id, versionId) as VersionRow | undefined;
    return row && toVersion(row);
  }

  async history(query: HistoryQuery): Promise<Page<StoredVersion>> {
    const cursor = query.cursor ? decodeCursor(query.cursor, 0) : undefined;
    const filters: string[] = [];
    const params: unknown[] = [];
    if (query.resourceType) {
      filters.push('v.type = ?');
      params.push(query.resourceType);
    }
    if (query.id !== undefined) {
      filters.push('r.id = ?');
      params.push(query.id);
    }
    if (query.since !== undefined) {
      filters.push('v.last_updated >= ?');
      params.push(query.since);
    }
    if (query.at !== undefined) {
      // Current at some moment of [low, high]: written by `high`, and not replaced by a version written by `low`.
      filters.push(
        'v.last_updated <= ? AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.rid = v.rid AND w.version > v.version AND w.last_updated <= ?)',
      );
      params.push(query.at.high, query.at.low);
    }
    const reverse = cursor?.direction === 'previous';
    const keyset = cursor ? [`v.seq ${reverse ? '>' : '<'} ?`] : [];
    const where = [...filters, ...keyset].join(' AND ') || '1';
    const rows = this.statement(
      `SELECT ${VERSION_COLUMNS}, v.seq FROM versions v JOIN resources r ON r.rid = v.rid WHERE ${where}
       ORDER BY v.seq ${reverse ? 'ASC' : 'DESC'} ${limit(query.count + 1)}`,
    ).all(...params, ...(cursor ? [cursor.rid] : [])) as VersionRow[];
    const total =
      query.id !== undefined
        ? (
            this.statement(
              `SELECT count(*) AS n FROM versions v JOIN resources r ON r.rid = v.rid WHERE ${filters.join(' AND ')}`,
            ).get(...params) as { n: number }
          ).n
        : undefined;
    return pageOf(
      rows,
      query.count,
      reverse,
      cursor !== undefined,
      (row) => ({
        direction: 'next',
        keys: [],
        rid: row.seq as number,
      }),
      total,
    );
  }

  async search(query: SearchQuery): Promise<Page<StoredVersion>> {
    const cursor = query.cursor ? decodeCursor(query.cursor, query.sort.length) : undefined;
    const sql = this.compiler.page(query, cursor);
    const rows = this.statement(sql.text).all(...sql.params) as VersionRow[];
    let total: number | undefined;
    if (query.total === 'accurate' || query.total === 'estimate') {
      const count = this.compiler.count(query);
      total = (this.statement(count.text).get(...count.params) as { n: number }).n;
    } else if (query.total === 'when-known' && !cursor && rows.length <= query.count) {
      total = rows.length;
    }
    const reverse = cursor?.direction === 'previous';
    return pageOf(
      rows,
      query.count,
      reverse,
      cursor !== undefined,
      (row) => ({
        direction: 'next',
        keys: query.sort.map((_, i) => row[`k${i}`]),
        rid: row.rid,
      }),
      total,
    );
  }

  /** Prepared statements are cached by SQL text; search shapes repeat, so this stays small. */
  private statement(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      if (this.statements.size > 500) this.statements.clear();
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}

/**
 * Turns `count + 1` fetched rows into a page with its neighbour cursors. Rows fetched backwards (for a
 * `previous` cursor) are put back in order.
 */
function pageOf(
  fetched: VersionRow[],
  count: number,
  reverse: boolean,
  hasCursor: boolean,
  position: (row: VersionRow) => { direction: 'next'; keys: CursorKey[]; rid: number },
  total: number | undefined,
): Page<StoredVersion> {
  const more = fetched.length > count;
  const rows = fetched.slice(0, count);
  if (reverse) rows.reverse();
  const page: Page<StoredVersion> = { entries: rows.map(toVersion), total };
  if (rows.length === 0) return page;
  const hasNext = reverse ? hasCursor : more;
  const hasPrevious = reverse ? more : hasCursor;
  if (hasNext) page.next = encodeCursor(position(rows[rows.length - 1]));
  if (hasPrevious) page.previous = encodeCursor({ ...position(rows[0]), direction: 'previous' });
  return page;
}

function toVersion(row: VersionRow): StoredVersion {
  return {
    resourceType: row.type,
    id: row.id,
    versionId: row.version,
    lastUpdated: row.last_updated,
    deleted: row.content === null,
    method: row.method,
    json: row.content ?? undefined,
  };
}

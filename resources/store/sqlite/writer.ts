// Writes one version of a resource on the writer connection: the resource row, its version row and its
// search-index rows (replacing the previous version's). Runs inside the store's transaction.
//
// An update keeps the index rows that did not change and touches only the others. Most updates change one
// or two of a resource's dozen entries, and every deleted or inserted row dirties a random page of its value
// index, which the COMMIT writes to the WAL and the checkpoint copies again.
import type Database from 'better-sqlite3-multiple-ciphers';
import type { IndexEntry } from '../../search/index-entry';
import type { VersionWrite } from '../port';
import type { DateSpans } from './date-spans';
import { logPosition } from './log-position';
import type { ParamIds } from './param-ids';
import { INDEX_TABLES, type IndexType } from './schema';

type Row = unknown[];

/** One index row to write: its table, and every column but `rid` and `n` in table order. */
interface IndexRow {
  type: IndexType;
  /** pid, grp, then the value columns */
  columns: Row;
  date?: { pid: number; low: number; high: number };
}

/** IndexEntry -> column values, in INDEX_TABLES column order; `several`: the resource has more of its param. */
const COLUMN_VALUES: { [T in IndexType]: (e: Extract<IndexEntry, { type: T }>, several: boolean) => Row } = {
  string: (e) => [e.value, e.exact],
  token: (e) => [e.system, e.code, e.text, e.typeSystem ?? null, e.typeCode ?? null],
  date: (e, several) => [e.low, e.high, several ? 1 : null],
  number: (e) => [e.low, e.high],
  quantity: (e) => [e.low, e.high, e.system, e.code, e.unit],
  reference: (e) => [e.targetType, e.targetId, e.url, e.identifierSystem, e.identifierValue],
  uri: (e) => [e.value],
};

export class SqliteWriter {
  private readonly findRid: Database.Statement;
  private readonly insertResource: Database.Statement;
  private readonly updateResource: Database.Statement;
  private readonly insertVersion: Database.Statement;
  private readonly deleteIndex: Database.Statement[];
  private readonly selectIndex: Record<IndexType, Database.Statement>;
  private readonly deleteIndexRow: Record<IndexType, Database.Statement>;
  private readonly insertIndex: Record<IndexType, Database.Statement>;
  private readonly currentVersion: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly paramIds: ParamIds,
    private readonly dateSpans: DateSpans,
  ) {
    this.findRid = db.prepare('SELECT rid FROM resources WHERE type = ? AND id = ?').pluck();
    // The row id comes from lastInsertRowid, not RETURNING: inside a 500-entry transaction Bundle a RETURNING
    // insert took 25 times as long as this one (profiled), most of the main thread's time in a bulk ingest.
    this.insertResource = db.prepare(
      'INSERT INTO resources (type, id, version, last_updated, deleted) VALUES (?, ?, ?, ?, ?)',
    );
    this.updateResource = db.prepare('UPDATE resources SET version = ?, last_updated = ?, deleted = ? WHERE rid = ?');
    this.insertVersion = db.prepare(
      'INSERT INTO versions (rid, type, version, last_updated, method, content) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const tables = Object.values(INDEX_TABLES);
    this.deleteIndex = tables.map((t) => db.prepare(`DELETE FROM ${t.table} WHERE rid = ?`));
    const perTable = (sql: (t: (typeof INDEX_TABLES)[IndexType]) => string) =>
      Object.fromEntries(Object.entries(INDEX_TABLES).map(([type, t]) => [type, db.prepare(sql(t))])) as Record<
        IndexType,
        Database.Statement
      >;
    this.selectIndex = perTable((t) => `SELECT n, pid, grp, ${t.columns.join(', ')} FROM ${t.table} WHERE rid = ?`);
    for (const statement of Object.values(this.selectIndex)) statement.raw();
    this.deleteIndexRow = perTable((t) => `DELETE FROM ${t.table} WHERE rid = ? AND n = ?`);
    this.insertIndex = perTable(
      (t) =>
        `INSERT INTO ${t.table} (rid, n, pid, grp, ${t.columns.join(', ')}) VALUES (?, ?, ?, ?${', ?'.repeat(t.columns.length)})`,
    );
    this.currentVersion = db.prepare('SELECT version FROM resources WHERE rid = ? AND deleted = 0').pluck();
  }

  /**
   * Replaces the index rows of the resource at `rid` when `version` is still its current version; false when a
   * later write (which indexed itself) or a delete came first.
   */
  replaceIndex(rid: number, resourceType: string, version: number, index: IndexEntry[]): boolean {
    if (this.currentVersion.get(rid) !== version) return false;
    this.replaceRows(rid, this.indexRows(resourceType, index));
    return true;
  }

  /** Writes the version and its index rows; returns its position in the write log. */
  write(write: VersionWrite): string {
    const deleted = write.deleted ? 1 : 0;
    // Version 1 means the caller found no resource under this id (the port's contract), so there is no row to
    // look up; were there one, the unique (type, id) index would fail the write rather than corrupt it.
    let rid =
      write.versionId === 1 ? undefined : (this.findRid.get(write.resourceType, write.id) as number | undefined);
    const inserted = rid === undefined;
    if (rid === undefined) {
      const result = this.insertResource.run(write.resourceType, write.id, write.versionId, write.lastUpdated, deleted);
      rid = Number(result.lastInsertRowid);
    } else {
      this.updateResource.run(write.versionId, write.lastUpdated, deleted, rid);
    }
    const version = this.insertVersion.run(
      rid,
      write.resourceType,
      write.versionId,
      write.lastUpdated,
      write.method,
      write.deleted ? null : write.json,
    );
    const rows = this.indexRows(write.resourceType, write.index);
    if (inserted) rows.forEach((row, n) => this.insertRow(rid, n, row));
    else this.replaceRows(rid, rows);
    return logPosition(Number(version.lastInsertRowid));
  }

  /** Makes the rows of `rid` the given ones: equal rows stay, the others are deleted, the missing inserted. */
  private replaceRows(rid: number, rows: IndexRow[]): void {
    if (rows.length === 0) {
      for (const statement of this.deleteIndex) statement.run(rid);
      return;
    }
    // The current rows by content, each with the positions (`n`) it holds; and the first free position.
    const current = new Map<string, { type: IndexType; ns: number[] }>();
    const nextN = new Map<IndexType, number>();
    for (const type of Object.keys(INDEX_TABLES) as IndexType[]) {
      let free = 0;
      for (const [n, ...columns] of this.selectIndex[type].all(rid) as [number, ...Row][]) {
        const key = rowKey(type, columns);
        const same = current.get(key);
        if (same) same.ns.push(n);
        else current.set(key, { type, ns: [n] });
        free = Math.max(free, n + 1);
      }
      nextN.set(type, free);
    }
    const missing: IndexRow[] = [];
    for (const row of rows) {
      const same = current.get(rowKey(row.type, row.columns));
      if (same && same.ns.length > 0) same.ns.pop();
      else missing.push(row);
    }
    for (const { type, ns } of current.values()) for (const n of ns) this.deleteIndexRow[type].run(rid, n);
    for (const row of missing) {
      const n = nextN.get(row.type) as number;
      nextN.set(row.type, n + 1);
      this.insertRow(rid, n, row);
    }
  }

  private insertRow(rid: number, n: number, row: IndexRow): void {
    this.insertIndex[row.type].run(rid, n, ...row.columns);
    if (row.date) this.dateSpans.note(row.date.pid, row.date.low, row.date.high);
  }

  private indexRows(resourceType: string, index: IndexEntry[]): IndexRow[] {
    const several = dateParamsWithSeveralEntries(index);
    return index.map((entry) => {
      const pid = this.paramIds.ensure(resourceType, entry.param);
      const values = (COLUMN_VALUES[entry.type] as (e: IndexEntry, several: boolean) => Row)(
        entry,
        several.has(entry.param),
      );
      const row: IndexRow = { type: entry.type, columns: [pid, entry.group ?? null, ...values] };
      if (entry.type === 'date') row.date = { pid, low: entry.low, high: entry.high };
      return row;
    });
  }
}

/**
 * Equal keys mean equal rows. Each column is tagged with its JavaScript type, so a value that comes back from
 * SQLite in another type than it was written in only costs a needless rewrite, never a wrong keep; and with its
 * length, so no text, whatever characters it holds, reads as the boundary between two columns.
 */
function rowKey(type: IndexType, columns: Row): string {
  let key = type;
  for (const value of columns) {
    const text = value === null ? '' : String(value);
    key += `|${value === null ? 'null' : typeof value}${text.length}:${text}`;
  }
  return key;
}

function dateParamsWithSeveralEntries(index: IndexEntry[]): Set<string> {
  const seen = new Set<string>();
  const several = new Set<string>();
  for (const entry of index) {
    if (entry.type !== 'date') continue;
    if (seen.has(entry.param)) several.add(entry.param);
    seen.add(entry.param);
  }
  return several;
}

// Writes one version of a resource on the writer connection: the resource row, its version row and its
// search-index rows (replacing the previous version's). Runs inside the store's transaction.
import type Database from 'better-sqlite3';
import type { IndexEntry } from '../../search/index-entry';
import type { VersionWrite } from '../port';
import type { DateSpans } from './date-spans';
import type { ParamIds } from './param-ids';
import { INDEX_TABLES, type IndexType } from './schema';

type Row = unknown[];

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
    this.insertIndex = Object.fromEntries(
      Object.entries(INDEX_TABLES).map(([type, t]) => [
        type,
        db.prepare(
          `INSERT INTO ${t.table} (rid, n, pid, grp, ${t.columns.join(', ')}) VALUES (?, ?, ?, ?${', ?'.repeat(t.columns.length)})`,
        ),
      ]),
    ) as Record<IndexType, Database.Statement>;
    this.currentVersion = db.prepare('SELECT version FROM resources WHERE rid = ? AND deleted = 0').pluck();
  }

  /**
   * Replaces the index rows of the resource at `rid` when `version` is still its current version; false when a
   * later write (which indexed itself) or a delete came first.
   */
  replaceIndex(rid: number, resourceType: string, version: number, index: IndexEntry[]): boolean {
    if (this.currentVersion.get(rid) !== version) return false;
    for (const statement of this.deleteIndex) statement.run(rid);
    this.insertEntries(rid, resourceType, index);
    return true;
  }

  write(write: VersionWrite): void {
    const deleted = write.deleted ? 1 : 0;
    // Version 1 means the caller found no resource under this id (the port's contract), so there is no row to
    // look up; were there one, the unique (type, id) index would fail the write rather than corrupt it.
    let rid =
      write.versionId === 1 ? undefined : (this.findRid.get(write.resourceType, write.id) as number | undefined);
    if (rid === undefined) {
      const inserted = this.insertResource.run(
        write.resourceType,
        write.id,
        write.versionId,
        write.lastUpdated,
        deleted,
      );
      rid = Number(inserted.lastInsertRowid);
    } else {
      this.updateResource.run(write.versionId, write.lastUpdated, deleted, rid);
      for (const statement of this.deleteIndex) statement.run(rid);
    }
    this.insertVersion.run(
      rid,
      write.resourceType,
      write.versionId,
      write.lastUpdated,
      write.method,
      write.deleted ? null : write.json,
    );
    this.insertEntries(rid, write.resourceType, write.index);
  }

  private insertEntries(rid: number, resourceType: string, index: IndexEntry[]): void {
    const several = dateParamsWithSeveralEntries(index);
    index.forEach((entry, n) => {
      const pid = this.paramIds.ensure(resourceType, entry.param);
      const values = (COLUMN_VALUES[entry.type] as (e: IndexEntry, several: boolean) => Row)(
        entry,
        several.has(entry.param),
      );
      this.insertIndex[entry.type].run(rid, n, pid, entry.group ?? null, ...values);
      if (entry.type === 'date') this.dateSpans.note(pid, entry.low, entry.high);
    });
  }
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

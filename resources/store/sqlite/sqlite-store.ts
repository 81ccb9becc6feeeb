// The embedded ResourceStore: one SQLite file in WAL mode. Writes are serialized through a queue and
// committed in groups (group commit): every transaction waiting in the same turn of the event loop shares
// one COMMIT and so one fsync, each isolated in its own SAVEPOINT so a failing one rolls back alone.
// Reads use a second connection, which sees committed data only.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SearchQuery } from '../../search/query';
import type { HistoryQuery, Page, ResourceStore, StoreTransaction, StoredVersion, VersionWrite } from '../port';
import { ParamIds } from './param-ids';
import { SqliteReader } from './reader';
import { migrate } from './schema';
import { SEARCHABLE_TYPES } from './search-sql';
import { SqliteWriter } from './writer';

export interface SqliteStoreOptions {
  /** FULL (default) survives power loss; NORMAL survives a crash of the process only. */
  synchronous?: 'FULL' | 'NORMAL';
}

interface QueuedWork {
  work: (tx: StoreTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** Upper bound on transactions sharing one commit, so a burst cannot hold the write lock for long. */
const MAX_GROUP = 256;

export class SqliteStore implements ResourceStore {
  readonly searchableTypes = SEARCHABLE_TYPES;
  private readonly writer: Database.Database;
  private readonly readerDb: Database.Database;
  private readonly reader: SqliteReader;
  private readonly tx: StoreTransaction;
  private readonly paramIds: ParamIds;
  private queue: QueuedWork[] = [];
  private flushing = false;
  private closed = false;

  private constructor(file: string, options: SqliteStoreOptions) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.writer = new Database(file);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.writer.pragma('busy_timeout = 5000');
    this.writer.pragma('cache_size = -65536');
    migrate(this.writer);
    this.paramIds = new ParamIds(this.writer);
    this.readerDb = new Database(file, { readonly: true });
    this.readerDb.pragma('busy_timeout = 5000');
    this.readerDb.pragma('cache_size = -65536');
    this.reader = new SqliteReader(this.readerDb, this.paramIds);
    const writerReads = new SqliteReader(this.writer, this.paramIds);
    const rowWriter = new SqliteWriter(this.writer, this.paramIds);
    this.tx = {
      readCurrent: (t, id) => writerReads.readCurrent(t, id),
      readVersion: (t, id, v) => writerReads.readVersion(t, id, v),
      history: (q) => writerReads.history(q),
      search: (q) => writerReads.search(q),
      writeVersion: async (w: VersionWrite) => rowWriter.write(w),
    };
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(file, options);
  }

  readCurrent(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    return this.reader.readCurrent(resourceType, id);
  }

  readVersion(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    return this.reader.readVersion(resourceType, id, versionId);
  }

  history(query: HistoryQuery): Promise<Page<StoredVersion>> {
    return this.reader.history(query);
  }

  search(query: SearchQuery): Promise<Page<StoredVersion>> {
    return this.reader.search(query);
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setImmediate(r));
    this.readerDb.close();
    this.writer.close();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    const settled: { item: QueuedWork; ok: boolean; value: unknown }[] = [];
    try {
      this.writer.exec('BEGIN IMMEDIATE');
    } catch (error) {
      // Another process holds the write lock past busy_timeout: fail this group, keep serving.
      for (const item of group) item.reject(error);
      this.afterFlush();
      return;
    }
    for (const item of group) {
      this.writer.exec('SAVEPOINT work');
      try {
        const value = await item.work(this.tx);
        this.writer.exec('RELEASE work');
        settled.push({ item, ok: true, value });
      } catch (error) {
        this.writer.exec('ROLLBACK TO work');
        this.writer.exec('RELEASE work');
        this.paramIds.reset();
        settled.push({ item, ok: false, value: error });
      }
    }
    try {
      this.writer.exec('COMMIT');
    } catch (error) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      this.paramIds.reset();
      for (const s of settled) s.item.reject(error);
      this.afterFlush();
      return;
    }
    // Resolve only after COMMIT: a caller never acknowledges data that is not yet durable.
    for (const s of settled) (s.ok ? s.item.resolve : s.item.reject)(s.value);
    this.afterFlush();
  }

  private afterFlush(): void {
    this.flushing = false;
    if (this.queue.length > 0) this.scheduleFlush();
  }
}

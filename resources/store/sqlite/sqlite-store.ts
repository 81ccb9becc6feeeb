// The embedded ResourceStore: one SQLite file in WAL mode. Writes are serialized through a queue and
// committed in groups (group commit): every transaction waiting in the same turn of the event loop shares
// one COMMIT, each isolated in its own SAVEPOINT so a failing one rolls back alone. Durability: SQLite runs
// with synchronous=NORMAL and the store itself fdatasyncs the WAL after each COMMIT on libuv's thread pool,
// acknowledging the group only then; so the disk flush never blocks the event loop, and the next group is
// written and committed while the previous one syncs. Reads use a second connection, which sees committed data only;
// searches, which may be slow, run on worker threads with connections of their own when the store has a pool.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../../audit/record';
import type { SearchQuery } from '../../search/query';
import type { IndexEntry } from '../../search/index-entry';
import type {
  HistoryQuery,
  LoggedVersion,
  Page,
  ReindexBatch,
  ResourceStore,
  ScanPosition,
  StoreTransaction,
  StoredVersion,
  VersionWrite,
} from '../port';
import { SqliteAuditAppender, SqliteAuditReader } from './audit-log';
import { BINARY, keepsPreviousContent, splitBinaryData } from '../binary-data';
import { SqliteBlobReader, SqliteBlobWriter } from './blobs';
import type { CheckpointerData } from './checkpointer';
import { CheckpointerThread } from './checkpointer-thread';
import { CurrentVersionCache, DEFAULT_READ_CACHE_BYTES } from './current-cache';
import { DateSpans } from './date-spans';
import { dataKey } from './data-key';
import { openDatabase } from './open-database';
import { ParamIds } from './param-ids';
import { openReadConnection } from './read-connection';
import { SqliteReader } from './reader';
import { migrate } from './schema';
import { SearchPool } from './search-pool';
import { SEARCHABLE_TYPES } from './search-sql';
import { SqliteWriter } from './writer';
import type { MonitoredStore, StoreTimings } from '../store-monitor';

export interface SqliteStoreOptions {
  /** FULL (default) survives power loss; NORMAL survives a crash of the process only. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Checkpoint the WAL from a worker thread every this many ms; 0 leaves checkpoints to the writer. */
  checkpointIntervalMs?: number;
  /** With openWithCheckpointer: past this size the WAL is rewound and its file truncated (default 1 GiB). */
  walLimitBytes?: number;
  /** With openWithCheckpointer: worker threads that run searches; 0 runs them on the event loop. */
  searchWorkers?: number;
  /** A search through the workers that takes longer is refused with 400 too-costly. */
  searchTimeoutMs?: number;
  /** Memory for current versions kept for reads by id (CurrentVersionCache); 0 keeps none. */
  readCacheBytes?: number;
  /** Encrypts the file (and its WAL) with this passphrase; absent: the process's HMS_DATA_KEY (data-key.ts). */
  key?: string;
}

interface ControlStatements {
  begin: Database.Statement;
  savepoint: Database.Statement;
  release: Database.Statement;
  rollbackTo: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
}

interface QueuedWork {
  work: (tx: StoreTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Acknowledged at COMMIT instead of after the WAL sync (logAudit). */
  atCommit?: boolean;
  /** logAudit: the records this item appends, which later calls join while it waits, and its promise. */
  audit?: { records: AuditRecord[]; done: Promise<unknown> };
}

interface Settled {
  item: QueuedWork;
  ok: boolean;
  value: unknown;
}

/**
 * Each rewind holds writes for one short checkpoint and its fsync (5–40 ms here). Under the crud bench's
 * creates (about 16 WAL pages each, 2,000/s) a 256 MiB limit meant a hold every 1.8 s, in the p99 of every
 * write; at 1 GiB it comes every 7 s. Only sustained writes grow the WAL that far: otherwise a checkpoint
 * catches up between writes and SQLite rewinds the WAL by itself.
 */
const DEFAULT_WAL_LIMIT_BYTES = 1024 * 1024 * 1024;

/** SQLite's default: without the checkpointer thread, the writer checkpoints after commits past this WAL size. */
const WRITER_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Groups whose WAL sync may be pending at once: the next group writes while the last one syncs, and the
 * syncs, which run on libuv's thread pool, leave its other threads to gzip and file reads.
 */
const MAX_SYNCS_IN_FLIGHT = 2;

/** Upper bound on transactions sharing one commit, so a burst cannot hold the write lock for long. */
const MAX_GROUP = 256;

export class SqliteStore implements ResourceStore, MonitoredStore {
  readonly searchableTypes = SEARCHABLE_TYPES;
  private readonly writer: Database.Database;
  private readonly readerDb: Database.Database;
  private readonly reader: SqliteReader;
  private readonly auditReader: SqliteAuditReader;
  private readonly blobReader: SqliteBlobReader;
  private readonly tx: StoreTransaction;
  private readonly paramIds: ParamIds;
  private readonly dateSpans: DateSpans;
  private readonly rowWriter: SqliteWriter;
  private readonly control: ControlStatements;
  /** Descriptor of the WAL file when acknowledged writes must be on disk (synchronous FULL), else undefined. */
  private readonly walFd: number | undefined;
  /** Past this size the checkpointer rewinds the WAL, and SQLite cuts its file back to it. */
  private readonly walLimitBytes: number;
  /** Every connection on the file, in this thread and in the workers, opens it with this key. */
  private readonly key: string | undefined;
  private queue: QueuedWork[] = [];
  private flushing = false;
  private syncing = 0;
  /** A sync for groups of audit appends only: it never holds up the next group (see syncSoon). */
  private auditSync?: Promise<void>;
  private auditSyncAgain = false;
  private closed = false;
  private checkpointer: CheckpointerThread | undefined;
  /** Set while the checkpointer rewinds the WAL: queued writes wait, none starts. */
  private held = false;
  private idleWaiters: (() => void)[] = [];
  private searchPool: SearchPool | undefined;
  private readonly cache: CurrentVersionCache | undefined;
  /** Resources written by the group being committed, forgotten by the cache once it commits. */
  private touched: StoredVersion[] = [];
  /** Set by whoever watches the store (MonitoredStore): the metrics endpoint. */
  timings?: StoreTimings;
  /** When the current checkpoint hold began (performance.now()). */
  private heldSince = 0;

  private constructor(file: string, options: SqliteStoreOptions) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.key = 'key' in options ? options.key : dataKey();
    this.writer = openDatabase(file, { key: this.key });
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma('synchronous = NORMAL');
    this.writer.pragma('cache_size = -65536');
    // Group commit wraps every write in a SAVEPOINT; SQLite keeps the pages a savepoint may have to restore in
    // a statement journal, which otherwise spills to a temp file and costs two pwrite calls per page.
    this.writer.pragma('temp_store = MEMORY');
    // When the WAL is rewound, its file is cut back to this size instead of keeping its largest size on disk.
    this.walLimitBytes = options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
    this.writer.pragma(`journal_size_limit = ${this.walLimitBytes}`);
    migrate(this.writer);
    // fsync applies to the file, so our own descriptor flushes the frames SQLite wrote to the WAL.
    this.walFd = options.synchronous === 'NORMAL' ? undefined : fs.openSync(`${file}-wal`, 'r');
    this.control = {
      begin: this.writer.prepare('BEGIN IMMEDIATE'),
      savepoint: this.writer.prepare('SAVEPOINT work'),
      release: this.writer.prepare('RELEASE work'),
      rollbackTo: this.writer.prepare('ROLLBACK TO work'),
      commit: this.writer.prepare('COMMIT'),
      rollback: this.writer.prepare('ROLLBACK'),
    };
    this.paramIds = new ParamIds(this.writer);
    this.dateSpans = new DateSpans(this.writer);
    this.readerDb = openReadConnection(file, this.key);
    this.reader = new SqliteReader(this.readerDb, this.paramIds);
    const writerReads = new SqliteReader(this.writer, this.paramIds);
    const rowWriter = new SqliteWriter(this.writer, this.paramIds, this.dateSpans);
    this.rowWriter = rowWriter;
    const auditAppender = new SqliteAuditAppender(this.writer);
    this.auditReader = new SqliteAuditReader(this.readerDb);
    this.blobReader = new SqliteBlobReader(this.readerDb);
    const blobWriter = new SqliteBlobWriter(this.writer);
    this.tx = {
      readCurrent: (t, id) => writerReads.readCurrent(t, id),
      readVersion: (t, id, v) => writerReads.readVersion(t, id, v),
      history: (q) => writerReads.history(q),
      search: (q) => writerReads.search(q),
      writeVersion: async (original: VersionWrite) => {
        const { write: w, bytes } = splitBinaryData(original);
        const previous =
          !bytes && w.resourceType === BINARY
            ? await writerReads.readVersion(BINARY, w.id, w.versionId - 1)
            : undefined;
        original.position = rowWriter.write(w);
        if (bytes) blobWriter.write(w.id, w.versionId, bytes);
        else if (keepsPreviousContent(w, previous)) blobWriter.carryOver(w.id, w.versionId - 1, w.versionId);
        if (this.cache) this.touched.push(w);
      },
      appendAudit: async (records: AuditRecord[]) => auditAppender.append(records),
      writeBinaryData: async (id, versionId, bytes) => blobWriter.write(id, versionId, bytes),
      deleteBinaryData: async (id, versionId) => blobWriter.delete(id, versionId),
    };
    const cacheBytes = options.readCacheBytes ?? DEFAULT_READ_CACHE_BYTES;
    this.cache = cacheBytes > 0 ? new CurrentVersionCache(this.writer, cacheBytes) : undefined;
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(file, options);
  }

  /** Opens the store with its background checkpointer and search workers running (the server's configuration). */
  static async openWithCheckpointer(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const store = new SqliteStore(file, options);
    const workers = options.searchWorkers ?? 0;
    const [pool] = await Promise.all([
      workers > 0
        ? SearchPool.start(file, { size: workers, key: store.key, timeoutMs: options.searchTimeoutMs ?? 10_000 })
        : undefined,
      store.startCheckpointer({
        file,
        key: store.key,
        intervalMs: options.checkpointIntervalMs ?? 100,
        walLimitBytes: store.walLimitBytes,
      }),
    ]);
    store.searchPool = pool;
    return store;
  }

  private async startCheckpointer(data: CheckpointerData): Promise<void> {
    const checkpointer = await CheckpointerThread.start(data, {
      hold: () => this.holdWrites(),
      release: () => this.releaseWrites(),
      checkpointerStopped: () => {
        this.checkpointer = undefined;
        if (!this.closed) this.writer.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
      },
    });
    if (!checkpointer) return;
    this.writer.pragma('wal_autocheckpoint = 0');
    this.checkpointer = checkpointer;
  }

  async readCurrent(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    const { cache } = this;
    if (!cache) return this.reader.readCurrentNow(resourceType, id);
    const cached = cache.get(resourceType, id);
    if (cached) return cached;
    // Read and remember in one synchronous step, so no commit can slip in between and leave it stale.
    const stored = this.reader.readCurrentNow(resourceType, id);
    if (stored) cache.remember(stored);
    return stored;
  }

  readVersion(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    return this.reader.readVersion(resourceType, id, versionId);
  }

  history(query: HistoryQuery): Promise<Page<StoredVersion>> {
    return this.reader.history(query);
  }

  search(query: SearchQuery): Promise<Page<StoredVersion>> {
    return (this.searchPool ?? this.reader).search(query);
  }

  async scan(resourceType: string, position: ScanPosition): Promise<Page<StoredVersion>> {
    const { rids: _rids, ...page } = await this.reader.scan(resourceType, position);
    return page;
  }

  versions(position: ScanPosition): Promise<Page<StoredVersion>> {
    return this.reader.versions(position);
  }

  log(after: string | undefined, count: number): Promise<LoggedVersion[]> {
    return this.reader.log(after, count);
  }

  async readAudit(id: string): Promise<StoredAuditRecord | undefined> {
    return this.auditReader.read(id);
  }

  async searchAudit(query: AuditQuery): Promise<Page<StoredAuditRecord>> {
    return this.auditReader.search(query);
  }

  auditRecords(after?: number): AsyncIterable<StoredAuditRecord> {
    return this.auditReader.records(after);
  }

  async readBinaryData(id: string, versionId: number): Promise<Buffer | undefined> {
    return this.blobReader.read(id, versionId);
  }

  /**
   * Reads and extracts on the read connection, outside the write lock; the write transaction only swaps index
   * rows, and joins the ordinary write queue, so interactive writes interleave with a long reindex.
   */
  async reindex(
    resourceType: string,
    position: ScanPosition,
    entriesFor: (stored: StoredVersion) => IndexEntry[],
  ): Promise<ReindexBatch> {
    const page = await this.reader.scan(resourceType, position);
    const batch = page.entries.map((stored, i) => ({ rid: page.rids[i], stored, index: entriesFor(stored) }));
    const count = await this.transaction(async () => {
      let replaced = 0;
      for (const { rid, stored, index } of batch) {
        if (this.rowWriter.replaceIndex(rid, resourceType, stored.versionId, index)) replaced++;
      }
      return replaced;
    });
    return { count, next: page.next };
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.enqueue(work, false);
  }

  /**
   * Audit appends waiting together become one queued item: one savepoint and one read of the chain head for
   * all of them, which halves what each audited read costs the writer.
   */
  logAudit(records: AuditRecord[]): Promise<void> {
    const waiting = this.queue[this.queue.length - 1]?.audit;
    if (waiting) {
      waiting.records.push(...records);
      return waiting.done as Promise<void>;
    }
    const batch = [...records];
    const audit = { records: batch, done: Promise.resolve() as Promise<unknown> };
    audit.done = this.enqueue((tx) => tx.appendAudit(batch), true, audit);
    return audit.done as Promise<void>;
  }

  private enqueue<T>(
    work: (tx: StoreTransaction) => Promise<T>,
    atCommit: boolean,
    audit?: QueuedWork['audit'],
  ): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject, atCommit, audit });
      this.scheduleFlush();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.syncing > 0 || this.auditSync || this.queue.length > 0) {
      await new Promise((r) => setImmediate(r));
    }
    if (this.walFd !== undefined) fs.closeSync(this.walFd);
    await Promise.all([this.checkpointer?.stop(), this.searchPool?.close()]);
    this.readerDb.close();
    this.writer.close();
  }

  /** The search workers' load (MonitoredStore); undefined when searches run on the event loop. */
  searchWorkerLoad() {
    return this.searchPool?.load();
  }

  private holdWrites(): Promise<void> {
    this.held = true;
    this.heldSince = performance.now();
    return this.flushing || this.syncing > 0
      ? new Promise((resolve) => this.idleWaiters.push(resolve))
      : Promise.resolve();
  }

  private releaseWrites(): void {
    this.held = false;
    this.timings?.checkpointHeld((performance.now() - this.heldSince) / 1000);
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.held || this.syncing >= MAX_SYNCS_IN_FLIGHT) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    const { control } = this;
    const began = this.timings ? performance.now() : 0;
    try {
      control.begin.run();
    } catch (error) {
      // Another process holds the write lock past busy_timeout: fail this group, keep serving.
      this.settle(group.map((item) => ({ item, ok: false, value: error })));
      return;
    }
    const settled: Settled[] = [];
    for (const item of group) {
      control.savepoint.run();
      try {
        const value = await item.work(this.tx);
        control.release.run();
        settled.push({ item, ok: true, value });
      } catch (error) {
        control.rollbackTo.run();
        control.release.run();
        this.forgetRolledBack();
        settled.push({ item, ok: false, value: error });
      }
    }
    try {
      control.commit.run();
    } catch (error) {
      if (this.writer.inTransaction) control.rollback.run();
      this.forgetRolledBack();
      this.forgetTouched();
      this.settle(settled.map((s) => ({ ...s, ok: false, value: error })));
      return;
    }
    this.forgetTouched();
    this.timings?.committed((performance.now() - began) / 1000, group.length);
    if (this.walFd === undefined) {
      this.settle(settled);
      return;
    }
    // Audit records of reads are acknowledged at COMMIT (in the WAL, so a process crash keeps them). A group
    // of nothing else is synced soon after without holding up the next group; otherwise the group's own sync
    // covers them.
    const atSync = settled.filter((s) => !(s.ok && s.item.atCommit));
    for (const s of settled) if (s.ok && s.item.atCommit) s.item.resolve(s.value);
    if (atSync.length === 0) {
      this.syncSoon();
      this.afterFlush();
      return;
    }
    // Acknowledge only once the WAL is on disk. The next group may begin and commit meanwhile: its frames
    // follow these in the WAL, and its own sync, issued later, covers both.
    this.syncing++;
    this.afterFlush();
    const syncStarted = this.timings ? performance.now() : 0;
    fs.fdatasync(this.walFd, (error) => {
      this.syncing--;
      this.timings?.walSynced((performance.now() - syncStarted) / 1000);
      for (const s of atSync) (error || !s.ok ? s.item.reject : s.item.resolve)(error ?? s.value);
      this.goOn();
    });
  }

  /** Resolves or rejects every transaction of a group and lets the next group run. */
  private settle(settled: Settled[]): void {
    for (const s of settled) (s.ok ? s.item.resolve : s.item.reject)(s.value);
    this.afterFlush();
  }

  /** Right after COMMIT, in the same synchronous step: the cache must not serve what the group replaced. */
  private forgetTouched(): void {
    for (const w of this.touched) this.cache?.forget(w.resourceType, w.id);
    this.touched = [];
  }

  /** Ids and spans cached by a transaction that rolled back are not in the file. */
  private forgetRolledBack(): void {
    this.paramIds.reset();
    this.dateSpans.reset();
  }

  private afterFlush(): void {
    this.flushing = false;
    this.goOn();
  }

  /** After a group has committed or synced: a waiting hold, else the next group, may start. */
  /** One fdatasync at a time for audit-only groups; a group committed meanwhile gets one more after it. */
  private syncSoon(): void {
    if (this.auditSync) {
      this.auditSyncAgain = true;
      return;
    }
    const walFd = this.walFd as number;
    this.auditSync = new Promise<void>((resolve) => fs.fdatasync(walFd, () => resolve())).then(() => {
      this.auditSync = undefined;
      if (!this.auditSyncAgain) return;
      this.auditSyncAgain = false;
      this.syncSoon();
    });
  }

  private goOn(): void {
    this.wakeIdleWaiters();
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** A hold waits until no group is writing or syncing. */
  private wakeIdleWaiters(): void {
    if (this.flushing || this.syncing > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

// The ResourceStore port: the FHIR-level operations every storage adapter implements (SQLite now, MongoDB
// later). No SQL or Mongo syntax crosses this line; queries arrive as the parsed SearchQuery.
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../audit/record';
import type { IndexEntry } from '../search/index-entry';
import type { SearchQuery } from '../search/query';

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One stored version of a resource. `json` is the serialized resource with meta set; absent when deleted. */
export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  /** Epoch milliseconds. */
  lastUpdated: number;
  deleted: boolean;
  method: WriteMethod;
  json?: string;
}

export interface VersionWrite extends StoredVersion {
  /** Index entries of the new version (empty for a delete). */
  index: IndexEntry[];
  /** Set by the store as it writes the version: its place in the write log (`ResourceStore.log`). */
  position?: string;
}

/** A version read from the write log, with its place in it. */
export interface LoggedVersion extends StoredVersion {
  /** Positions of one store compare as strings in write order. */
  position: string;
}

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** Only versions with lastUpdated >= since (epoch ms). */
  since?: number;
  /** Only versions that were current at some moment of this range (epoch ms, inclusive). */
  at?: { low: number; high: number };
  count: number;
  /** Opaque position from a previous page. */
  cursor?: string;
}

export interface Page<T> {
  entries: T[];
  /** Cursor for the following page, absent on the last page. */
  next?: string;
  /** Cursor for the preceding page, absent on the first page. */
  previous?: string;
  total?: number;
}

export interface StoreReader {
  /** The current version, including a deletion marker; undefined when the resource never existed. */
  readCurrent(resourceType: string, id: string): Promise<StoredVersion | undefined>;
  readVersion(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined>;
  /** Newest first. */
  history(query: HistoryQuery): Promise<Page<StoredVersion>>;
  /** Current, non-deleted resources matching the query. */
  search(query: SearchQuery): Promise<Page<StoredVersion>>;
}

/** A position in a walk over the current resources of one type (`ResourceStore.reindex`). */
export interface ScanPosition {
  /** Opaque position after the last resource of the previous batch; absent to start. */
  after?: string;
  count: number;
}

export interface ReindexBatch {
  /** Resources whose index rows were rewritten. */
  count: number;
  /** Position for the next batch, absent when the walk is done. */
  next?: string;
}

export interface StoreTransaction extends StoreReader {
  /** Writes a new version (the caller has checked the version sequence inside this transaction). */
  writeVersion(write: VersionWrite): Promise<void>;
  /**
   * Appends to the audit log, chained after its current head, atomically with the transaction's writes (rolled
   * back with them). The records' JSON is stored as given: hashed, never parsed.
   */
  appendAudit(records: AuditRecord[]): Promise<void>;
  /**
   * Keeps the bytes of a Binary version the transaction wrote (without `data` in its JSON) beside it, for
   * readBinaryData; stores without readBinaryData have no such method and keep `data` in the JSON.
   */
  writeBinaryData?(id: string, versionId: number, bytes: Buffer): Promise<void>;
  /**
   * Removes the bytes kept under (id, versionId), if any, when the transaction commits (rolled back with it where
   * the blobs live in the same database; on GridFS right after the commit). Present exactly when writeBinaryData
   * is. For blobs nothing refers to any more (export files), never for a Binary version that still exists.
   */
  deleteBinaryData?(id: string, versionId: number): Promise<void>;
}

export interface ResourceStore extends StoreReader {
  /**
   * Runs `work` atomically: every write it makes is durable when the promise resolves, and none is visible or
   * kept if it throws. Reads inside see the transaction's own writes. `work` must only await this store.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /**
   * Appends audit records of accesses that wrote nothing (reads, searches, refusals) in a transaction of their
   * own. Resolves once they are committed, so they survive a crash of the process; where a commit alone is
   * not on disk (SQLite), the store's sync right after it makes them survive a power loss too, without the
   * read waiting for it.
   */
  logAudit(records: AuditRecord[]): Promise<void>;
  /** Parameter types the adapter can query, so the CapabilityStatement never claims more. */
  readonly searchableTypes: ReadonlySet<string>;
  /** Current, non-deleted resources of one type in a stable order, for jobs that walk every one of them. */
  scan(resourceType: string, position: ScanPosition): Promise<Page<StoredVersion>>;
  /**
   * Every version of every resource, deletions included, in the order they were written (oldest first), for
   * copying a whole store (`hms migrate`). `next` is absent on the last page.
   */
  versions(position: ScanPosition): Promise<Page<StoredVersion>>;
  /**
   * Up to `count` versions written after the position `after` (from the start when absent), oldest first, with
   * their positions: the write log that subscription delivery resumes from after a restart.
   */
  log(after: string | undefined, count: number): Promise<LoggedVersion[]>;
  /**
   * Where several app nodes write (MongoDB), a version can commit after one with a later position: for how
   * long after the time in its position it may still appear. Absent when the log is in commit order.
   */
  readonly logSettleMs?: number;
  /** The first position at a time (for stores with logSettleMs): every version written later lies after it. */
  logPositionAt?(epochMs: number): string;
  /**
   * Rewrites the index rows of the next batch of current resources of one type from `entriesFor`, without a
   * new version. Entries are computed before the short write transaction of the batch; a resource written
   * meanwhile keeps the index its own write gave it.
   */
  reindex(
    resourceType: string,
    position: ScanPosition,
    entriesFor: (stored: StoredVersion) => IndexEntry[],
  ): Promise<ReindexBatch>;
  readAudit(id: string): Promise<StoredAuditRecord | undefined>;
  /** Committed audit records, newest first. */
  searchAudit(query: AuditQuery): Promise<Page<StoredAuditRecord>>;
  /** The audit log in chain (seq) order from the record after `after`, for verification and copying. */
  auditRecords(after?: number): AsyncIterable<StoredAuditRecord>;
  /**
   * The bytes of a Binary version, for stores that keep them beside its JSON (binary-data.ts): undefined when
   * the version had no `data`. A store without this method keeps `data` in the JSON. Callers read the version
   * through the repository first, which checks access.
   */
  readBinaryData?(id: string, versionId: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

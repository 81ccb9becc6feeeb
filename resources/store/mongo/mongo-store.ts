// The MongoDB ResourceStore: current versions in `resources` (with their index entries), every version in
// `versions`, all writes of a transaction in one multi-document transaction. It speaks to MongoDB only
// through DocumentDatabase (collections.ts), so the same code runs on the driver and, in tests, on mingo.
import { createHash } from 'node:crypto';
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../../audit/record';
import { conflict } from '../../errors';
import type { IndexEntry } from '../../search/index-entry';
import type { SearchQuery } from '../../search/query';
import type {
  HistoryQuery,
  LoggedVersion,
  Page,
  ReindexBatch,
  ResourceStore,
  ScanPosition,
  StoreReader,
  StoreTransaction,
  StoredVersion,
  VersionWrite,
} from '../port';
import { SEARCHABLE_TYPES } from '../searchable-types';
import { appendAudit, auditRecords, readAudit, searchAudit } from './audit-log';
import { BINARY, blobKey, keepsPreviousContent, splitBinaryData } from '../binary-data';
import { NO_BLOBS, type BlobBucket } from './blobs';
import type { Collections, DocumentDatabase } from './collections';
import {
  indexFields,
  OrderKeys,
  orderKeyTime,
  resourceDocument,
  resourceKey,
  storedVersion,
  versionDocument,
  versionKey,
} from './documents';
import { historyPage, positionAfter } from './history';
import { searchResources } from './search';

/** How long after its key's time a version may still commit and appear in the log. */
const LOG_SETTLE_MS = 5000;

export class MongoStore implements ResourceStore {
  readonly searchableTypes = SEARCHABLE_TYPES;
  private readonly reader: StoreReader;
  private closed = false;

  constructor(
    readonly database: DocumentDatabase,
    /** Where Binary bytes go (GridFS on a server). */
    private readonly blobs: BlobBucket = NO_BLOBS,
    private readonly orderKeys = new OrderKeys(),
  ) {
    this.reader = readerOver(database.collections);
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

  /** Keyset walk in creation order; the position is the last `order` seen. */
  async scan(resourceType: string, position: ScanPosition): Promise<Page<StoredVersion>> {
    const docs = await this.database.collections.resources.find(
      { type: resourceType, deleted: false, ...positionAfter('order', position.after) },
      { sort: { order: 1 }, limit: position.count },
    );
    const page: Page<StoredVersion> = { entries: docs.map(storedVersion) };
    if (docs.length === position.count) page.next = docs[docs.length - 1].order;
    return page;
  }

  /** Every version in write order; the position is the last `seq` seen. */
  async versions(position: ScanPosition): Promise<Page<StoredVersion>> {
    const docs = await this.database.collections.versions.find(positionAfter('seq', position.after), {
      sort: { seq: 1 },
      limit: position.count,
    });
    const page: Page<StoredVersion> = { entries: docs.map(storedVersion) };
    if (docs.length === position.count) page.next = docs[docs.length - 1].seq;
    return page;
  }

  /** A transaction's versions take their keys as it writes them and commit a moment later. */
  readonly logSettleMs = LOG_SETTLE_MS;

  logPositionAt(epochMs: number): string {
    return orderKeyTime(epochMs);
  }

  /**
   * The write log by `seq`. Each app node makes its own keys from its clock, so with several nodes a version
   * can commit after one with a later key: a reader of the log may see it only on a later read.
   */
  async log(after: string | undefined, count: number): Promise<LoggedVersion[]> {
    const docs = await this.database.collections.versions.find(positionAfter('seq', after), {
      sort: { seq: 1 },
      limit: count,
    });
    return docs.map((doc) => ({ ...storedVersion(doc), position: doc.seq }));
  }

  readAudit(id: string): Promise<StoredAuditRecord | undefined> {
    return readAudit(this.database.collections.audit, id);
  }

  searchAudit(query: AuditQuery): Promise<Page<StoredAuditRecord>> {
    return searchAudit(this.database.collections.audit, query);
  }

  auditRecords(after?: number): AsyncIterable<StoredAuditRecord> {
    return auditRecords(this.database.collections.audit, after);
  }

  readBinaryData(id: string, versionId: number): Promise<Buffer | undefined> {
    return this.blobs.get(blobKey(id, versionId));
  }

  /**
   * Entries are computed outside the transaction; a resource only takes them while the version they were
   * computed from is still its current one, so a write that came meanwhile keeps its own index.
   */
  async reindex(
    resourceType: string,
    position: ScanPosition,
    entriesFor: (stored: StoredVersion) => IndexEntry[],
  ): Promise<ReindexBatch> {
    const page = await this.scan(resourceType, position);
    const batch = page.entries.map((stored) => ({ stored, fields: indexFields(entriesFor(stored)) }));
    const count = await this.database.transaction(async ({ resources }) => {
      let replaced = 0;
      for (const { stored, fields } of batch) {
        const key = resourceKey(resourceType, stored.id);
        const filter = { _id: key, type: resourceType, version: stored.versionId, deleted: false };
        if (await resources.updateOne(filter, fields)) replaced++;
      }
      return replaced;
    });
    return { count, next: page.next };
  }

  /** A majority-committed transaction: on MongoDB a commit is the durable point. */
  logAudit(records: AuditRecord[]): Promise<void> {
    return this.transaction((tx) => tx.appendAudit(records));
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    let doomedBlobs: string[] = [];
    const result = await this.database.transaction((collections) => {
      // A retried attempt starts over: only the deletes of the attempt that commits count.
      doomedBlobs = [];
      return work({
        ...readerOver(collections),
        search: async (query) => {
          await collections.guards.upsertOne(guardKey(query), { at: Date.now() });
          return searchResources(collections.resources, query);
        },
        writeVersion: (write) => this.writeVersion(collections, write),
        appendAudit: (records) => appendAudit(collections, records),
        writeBinaryData: (id, versionId, bytes) => this.blobs.put(blobKey(id, versionId), bytes),
        deleteBinaryData: async (id, versionId) => void doomedBlobs.push(blobKey(id, versionId)),
      });
    });
    // GridFS cannot take part in the transaction: its files go once the transaction that let them go committed.
    for (const key of doomedBlobs) await this.blobs.delete(key);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.database.close();
  }

  /**
   * Replaces the resource document on the condition that it still holds the version this one follows: two
   * transactions writing the same resource conflict in MongoDB, and the one that retries sees the other's.
   */
  private async writeVersion({ resources, versions }: Collections, original: VersionWrite): Promise<void> {
    const { write, bytes } = splitBinaryData(original);
    // Before the version: GridFS writes outside the transaction, so the bytes are durable when it commits.
    if (bytes) await this.blobs.put(blobKey(write.id, write.versionId), bytes);
    else if (write.resourceType === BINARY) await keepPreviousContentOf(versions, this.blobs, write);
    const key = resourceKey(write.resourceType, write.id);
    const previous = await resources.findOne({ _id: key, type: write.resourceType });
    const seq = this.orderKeys.next(write.lastUpdated);
    if (!previous) {
      if (write.versionId !== 1) throw conflict(`${key} has no version ${write.versionId - 1} to follow`);
      await resources.insertOne(resourceDocument(write, seq));
    } else {
      const replaced =
        previous.version === write.versionId - 1 &&
        (await resources.replaceOne(
          { _id: key, type: write.resourceType, version: previous.version },
          resourceDocument(write, previous.order),
        ));
      if (!replaced) throw conflict(`${key} is at version ${previous.version}, not ${write.versionId - 1}`);
      const replacedVersion = versionKey(write.resourceType, write.id, previous.version);
      await versions.updateOne(
        { _id: replacedVersion, type: write.resourceType, id: write.id },
        { replacedAt: write.lastUpdated },
      );
    }
    await versions.insertOne(versionDocument(write, seq));
    original.position = seq;
  }
}

/** A metadata-only Binary version (same content hash as the one before) keeps the bytes of that version. */
async function keepPreviousContentOf(
  versions: Collections['versions'],
  blobs: BlobBucket,
  write: VersionWrite,
): Promise<void> {
  const previousKey = versionKey(BINARY, write.id, write.versionId - 1);
  const doc = await versions.findOne({ _id: previousKey, type: BINARY, id: write.id });
  if (!keepsPreviousContent(write, doc && storedVersion(doc))) return;
  const bytes = await blobs.get(blobKey(write.id, write.versionId - 1));
  if (bytes) await blobs.put(blobKey(write.id, write.versionId), bytes);
}

/** The guard of a search's criteria (documents.ts GuardDocument): its types and conditions, not its paging. */
export function guardKey(query: SearchQuery): string {
  const criteria = JSON.stringify([query.resourceTypes, query.conditions, query.unions ?? null]);
  return createHash('sha256').update(criteria).digest('hex');
}

/** The read operations over one set of collections: committed data, or a transaction's own view. */
function readerOver(collections: Collections): StoreReader {
  return {
    readCurrent: async (type, id) => {
      // `type` beside `_id` lets a sharded cluster send the lookup to one shard (README, MongoDB).
      const doc = await collections.resources.findOne({ _id: resourceKey(type, id), type });
      return doc && storedVersion(doc);
    },
    readVersion: async (type, id, version) => {
      const doc = await collections.versions.findOne({ _id: versionKey(type, id, version), type, id });
      return doc && storedVersion(doc);
    },
    history: (query) => historyPage(collections.versions, query),
    search: (query) => searchResources(collections.resources, query),
  };
}

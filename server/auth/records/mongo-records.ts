// AuthRecords in a MongoDB collection (`auth_records`) of the store's database, so stateless app nodes share
// clients, users, grants and the replay cache. Single use and insert-if-absent are single-document atomic
// updates; no transaction is needed.
import type { Collection, Db } from 'mongodb';
import type { AuthRecord, AuthRecords, Consumed } from './port';

export interface RecordDocument {
  _id: string;
  kind: string;
  key: string;
  value: string;
  expiresAt: number | null;
  consumed: boolean;
}

type Filter = Record<string, unknown>;

/** The slice of a collection the records use: the driver's, or an in-memory one in tests. */
export interface RecordCollection {
  /** Rejects when a document with the same _id exists. */
  insertOne(doc: RecordDocument): Promise<void>;
  findOne(filter: Filter): Promise<RecordDocument | undefined>;
  find(filter: Filter): Promise<RecordDocument[]>;
  /** Replaces (or with upsert, inserts) the document matching filter; false when none matched or was inserted. */
  replaceOne(filter: Filter, doc: RecordDocument, upsert: boolean): Promise<boolean>;
  /** Sets fields on the one matching document; false when none matched. */
  updateOne(filter: Filter, set: Partial<RecordDocument>): Promise<boolean>;
  deleteOne(filter: Filter): Promise<boolean>;
  deleteMany(filter: Filter): Promise<number>;
}

export const AUTH_RECORDS_COLLECTION = 'auth_records';

const live = (now: number): Filter => ({ $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] });
const documentId = (kind: string, key: string) => `${kind}/${key}`;

export class MongoAuthRecords implements AuthRecords {
  constructor(private readonly collection: RecordCollection) {}

  async insert<T>(kind: string, record: AuthRecord<T>): Promise<boolean> {
    const doc = toDocument(kind, record);
    try {
      await this.collection.insertOne(doc);
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // An expired record with the same key is replaced; a live one stays.
      return this.collection.replaceOne({ _id: doc._id, expiresAt: { $ne: null, $lte: Date.now() } }, doc, false);
    }
  }

  async put<T>(kind: string, record: AuthRecord<T>): Promise<void> {
    const doc = toDocument(kind, record);
    await this.collection.replaceOne({ _id: doc._id }, doc, true);
  }

  async get<T>(kind: string, key: string): Promise<T | undefined> {
    const doc = await this.collection.findOne({ _id: documentId(kind, key), ...live(Date.now()) });
    return doc ? (JSON.parse(doc.value) as T) : undefined;
  }

  async consume<T>(kind: string, key: string): Promise<Consumed<T> | undefined> {
    const filter = { _id: documentId(kind, key), ...live(Date.now()) };
    const first = await this.collection.updateOne({ ...filter, consumed: false }, { consumed: true });
    const doc = await this.collection.findOne(filter);
    return doc ? { value: JSON.parse(doc.value) as T, first } : undefined;
  }

  async delete(kind: string, key: string): Promise<boolean> {
    return this.collection.deleteOne({ _id: documentId(kind, key) });
  }

  async list<T>(kind: string): Promise<AuthRecord<T>[]> {
    const docs = await this.collection.find({ kind, ...live(Date.now()) });
    return docs
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((doc) => ({
        key: doc.key,
        value: JSON.parse(doc.value) as T,
        ...(doc.expiresAt !== null ? { expiresAt: doc.expiresAt } : {}),
      }));
  }

  async purgeExpired(): Promise<number> {
    return this.collection.deleteMany({ expiresAt: { $ne: null, $lte: Date.now() } });
  }

  async close(): Promise<void> {
    // The collection belongs to the store's client, which the store closes.
  }
}

function toDocument<T>(kind: string, record: AuthRecord<T>): RecordDocument {
  return {
    _id: documentId(kind, record.key),
    kind,
    key: record.key,
    value: JSON.stringify(record.value),
    expiresAt: record.expiresAt ?? null,
    consumed: false,
  };
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number })?.code === 11000 || /E11000/.test(String((error as Error)?.message));
}

/** The driver's collection behind the RecordCollection slice. */
export function driverRecordCollection(db: Db): RecordCollection {
  const collection: Collection<RecordDocument> = db.collection<RecordDocument>(AUTH_RECORDS_COLLECTION);
  return {
    insertOne: async (doc) => {
      await collection.insertOne(doc);
    },
    findOne: async (filter) => (await collection.findOne(filter)) ?? undefined,
    find: (filter) => collection.find(filter).toArray(),
    replaceOne: async (filter, doc, upsert) => {
      const result = await collection.replaceOne(filter, doc, { upsert });
      return result.matchedCount + result.upsertedCount > 0;
    },
    updateOne: async (filter, set) => (await collection.updateOne(filter, { $set: set })).matchedCount > 0,
    deleteOne: async (filter) => (await collection.deleteOne(filter)).deletedCount > 0,
    deleteMany: async (filter) => (await collection.deleteMany(filter)).deletedCount,
  };
}

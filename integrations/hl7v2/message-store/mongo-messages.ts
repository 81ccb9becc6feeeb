// The HL7 message store in MongoDB collections of the resource store's database (with MONGODB_URL), so app
// nodes share messages, queues and settings. Every write is acknowledged by a majority with the journal
// synced (the driver adapter passes the write concern), so an AA on the wire means the raw bytes survive a
// crash. Messages are numbered from a counter document: the id is the sequence number as a string and
// ordering by it is arrival order, as in SQLite (sqlite-messages.ts, whose semantics this follows).
//
// No multi-document transaction is used. Two consequences, both accepted:
// - receive() looks for earlier messages with the same key, then inserts. Two app nodes receiving the same
//   (MSH-3, MSH-4, MSH-10) at the same moment may both store it: two rows where the second should have been
//   a duplicate (or a conflict). That needs two connections sending the same control id at once: a sender
//   resends only after its ACK wait times out, by which time the first copy is stored.
// - A message and its history events are separate writes: a crash between them can leave a message whose
//   first event is missing (never an event without its message, except for note() on an unknown id).
// One deliberate difference from SQLite: a message with an empty MSH-10 is never a duplicate nor a conflict
// (SQLite skips the duplicate but still stores it as a conflict of the sender's previous empty-id message).
// History is ordered by event time, then insertion (`_id`); SQLite orders by insertion alone, which is the
// same as long as callers pass non-decreasing times for one message's events.
import { Binary, type Collection, type Db, type Document } from 'mongodb';
import type {
  ChannelCounters,
  Direction,
  MessageChange,
  MessageError,
  MessageEvent,
  MessageQuery,
  MessageStatus,
  MessageStore,
  NewMessage,
  ReceiveResult,
  StoredMessage,
} from './port';
import { asConflict, countersOf } from './port';

export const HL7_COLLECTIONS = {
  messages: 'hl7_messages',
  events: 'hl7_message_events',
  settings: 'hl7_settings',
  counters: 'hl7_counters',
} as const;

export interface MessageDocument {
  /** The arrival sequence number; the message id is its decimal string. */
  _id: number;
  channel: string;
  direction: Direction;
  receivedAt: number;
  updatedAt: number;
  status: MessageStatus;
  /** BSON Binary on the server. */
  raw: Buffer;
  sendingApplication: string;
  sendingFacility: string;
  controlId: string;
  type: string;
  patientId?: string;
  contentHash: string;
  ack?: string;
  /** null once cleared. */
  error?: MessageError | null;
  /** JSON, as SQLite keeps it: the round trip is the same, and stage outputs need no BSON-safe field names. */
  outputs?: string;
  attempts: number;
  /** null once cleared. */
  nextAttemptAt?: number | null;
  /** Absent (never null) when there is none: the unique index covers only documents that have one. */
  sourceKey?: string;
  derivedFrom?: string;
}

export interface EventDocument {
  /** Assigned on insert (an ObjectId on the server); breaks ties between events of the same time. */
  _id?: unknown;
  messageId: number;
  at: number;
  status: MessageEvent['status'];
  actor: string;
  detail?: string;
}

export interface SettingDocument {
  _id: string;
  /** JSON. */
  value: string;
}

export interface CounterDocument {
  _id: string;
  seq: number;
}

export type Filter = Record<string, unknown>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  /** A positive number; absent for no limit. */
  limit?: number;
  /** Fields to return (`{ _id: 1 }`): the documents then hold only those. */
  projection?: Record<string, 0 | 1>;
}

/** Top-level field updates: `$set` (null clears a field) and `$inc` (from 0 when the field is missing). */
export interface Update<T> {
  $set?: Partial<T>;
  $inc?: Partial<Record<keyof T & string, number>>;
}

/** The slice of a collection the store uses: the driver's, or an in-memory one in tests. */
export interface StoreCollection<T> {
  /** Rejects with code 11000 when `_id` or a unique index already holds the document's key. */
  insertOne(doc: T): Promise<void>;
  findOne(filter: Filter): Promise<T | undefined>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  /**
   * Applies the update to the first document matching `filter` (with upsert, to a new one made of the
   * filter's equality fields when none matches) and returns the document as it is after.
   */
  findOneAndUpdate(filter: Filter, update: Update<T>, options?: { upsert?: boolean }): Promise<T | undefined>;
  deleteMany(filter: Filter): Promise<number>;
  /** Stages are $match and $group only. */
  aggregate<R>(pipeline: Record<string, unknown>[]): Promise<R[]>;
}

export interface MessageIndex {
  collection: keyof typeof HL7_COLLECTIONS;
  name: string;
  keys: Record<string, 1 | -1>;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Filter;
  /** The queries it serves. */
  serves: string;
}

export interface MessageCollections {
  messages: StoreCollection<MessageDocument>;
  events: StoreCollection<EventDocument>;
  settings: StoreCollection<SettingDocument>;
  counters: StoreCollection<CounterDocument>;
  /** Creates the missing indexes; those that exist with the same name and keys are left as they are. */
  ensureIndexes(indexes: readonly MessageIndex[]): Promise<void>;
}

export const MESSAGE_INDEXES: readonly MessageIndex[] = [
  {
    collection: 'messages',
    name: 'channel_sourceKey_unique',
    keys: { channel: 1, sourceKey: 1 },
    unique: true,
    partialFilterExpression: { sourceKey: { $exists: true } },
    serves: 'enqueue: one outbound message per (channel, sourceKey)',
  },
  {
    collection: 'messages',
    name: 'dedupe',
    keys: { sendingApplication: 1, sendingFacility: 1, controlId: 1, receivedAt: 1 },
    partialFilterExpression: { direction: 'in' },
    serves: 'receive: earlier inbound messages with the same (MSH-3, MSH-4, MSH-10) within the window',
  },
  {
    collection: 'messages',
    name: 'channel_status_id',
    keys: { channel: 1, status: 1, _id: 1 },
    serves: 'unprocessed, nextQueued (oldest first), counters and searches by channel and status',
  },
  {
    collection: 'messages',
    name: 'receivedAt',
    keys: { receivedAt: 1 },
    serves: 'purge; searches by since/until',
  },
  {
    collection: 'messages',
    name: 'patientId',
    keys: { patientId: 1 },
    sparse: true,
    serves: 'searches by patient',
  },
  {
    collection: 'messages',
    name: 'controlId',
    keys: { controlId: 1 },
    serves: 'searches by control id',
  },
  {
    collection: 'events',
    name: 'messageId_at',
    keys: { messageId: 1, at: 1 },
    serves: "history; purge of a message's events",
  },
];

const MESSAGE_COUNTER = 'messages';
const PURGE_BATCH = 1000;
/** Never purged: waiting to be processed or sent, or in the error queue waiting for a person. */
const WAITING: MessageStatus[] = ['received', 'queued', 'error', 'conflict'];

export class MongoMessageStore implements MessageStore {
  /** Index creation, started by the constructor; every operation waits for it. */
  private readonly ready: Promise<void>;

  constructor(private readonly c: MessageCollections) {
    this.ready = c.ensureIndexes(MESSAGE_INDEXES);
    // Reported by the first operation (or by open()); not an unhandled rejection meanwhile.
    this.ready.catch(() => undefined);
  }

  /** A store whose indexes exist: fails when they cannot be created (start-up fails fast). */
  static async open(collections: MessageCollections): Promise<MongoMessageStore> {
    const store = new MongoMessageStore(collections);
    await store.ready;
    return store;
  }

  async receive(message: NewMessage, dedupeSinceMs: number): Promise<ReceiveResult> {
    await this.ready;
    // An empty MSH-10 identifies nothing: such messages are neither duplicates nor conflicts of each other.
    const earlier =
      message.controlId === ''
        ? []
        : (
            await this.c.messages.find(
              {
                direction: 'in',
                sendingApplication: message.sendingApplication,
                sendingFacility: message.sendingFacility,
                controlId: message.controlId,
                receivedAt: { $gte: dedupeSinceMs },
                status: { $ne: 'rejected' },
              },
              { sort: { _id: 1 } },
            )
          ).map(fromDocument);
    const duplicateOf = earlier.find((m) => m.contentHash === message.contentHash);
    if (duplicateOf) {
      await this.insertEvent(duplicateOf.id, { at: message.receivedAt, status: 'duplicate', actor: 'mllp' });
      return { message: duplicateOf, duplicateOf };
    }
    const conflictWith = message.status === 'received' ? earlier[0] : undefined;
    const stored = await this.insertMessage(conflictWith ? asConflict(message, conflictWith) : message);
    await this.insertEvent(stored.id, { at: message.receivedAt, status: stored.status, actor: 'mllp' });
    return { message: stored, ...(conflictWith ? { conflictWith } : {}) };
  }

  async enqueue(message: NewMessage): Promise<StoredMessage | undefined> {
    await this.ready;
    // The usual repeat is found before a sequence number is spent on it; the unique index decides races.
    if (message.sourceKey !== undefined) {
      const [existing] = await this.c.messages.find(
        { channel: message.channel, sourceKey: message.sourceKey },
        { limit: 1, projection: { _id: 1 } },
      );
      if (existing) return undefined;
    }
    let stored: StoredMessage;
    try {
      stored = await this.insertMessage(message);
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
    await this.insertEvent(stored.id, { at: message.receivedAt, status: 'queued', actor: 'queue' });
    return stored;
  }

  async update(id: string, change: MessageChange, event: MessageEvent): Promise<StoredMessage> {
    await this.ready;
    const seq = sequenceOf(id);
    const set: Partial<MessageDocument> = { updatedAt: event.at };
    if (change.status !== undefined) set.status = change.status;
    if (change.ack !== undefined) set.ack = change.ack;
    if (change.error !== undefined) set.error = change.error === null ? null : plain(change.error);
    if (change.outputs !== undefined) set.outputs = JSON.stringify(change.outputs);
    if (change.attempts !== undefined) set.attempts = change.attempts;
    if (change.nextAttemptAt !== undefined) set.nextAttemptAt = change.nextAttemptAt;
    if (change.patientId !== undefined) set.patientId = change.patientId;
    const doc = seq === undefined ? undefined : await this.c.messages.findOneAndUpdate({ _id: seq }, { $set: set });
    if (!doc) throw new Error(`No message ${id}`);
    await this.insertEvent(id, event);
    return fromDocument(doc);
  }

  async note(id: string, event: MessageEvent): Promise<void> {
    await this.ready;
    await this.insertEvent(id, event);
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    await this.ready;
    const seq = sequenceOf(id);
    if (seq === undefined) return undefined;
    const doc = await this.c.messages.findOne({ _id: seq });
    return doc ? fromDocument(doc) : undefined;
  }

  async history(id: string): Promise<MessageEvent[]> {
    await this.ready;
    const seq = sequenceOf(id);
    if (seq === undefined) return [];
    const docs = await this.c.events.find({ messageId: seq }, { sort: { at: 1, _id: 1 } });
    return docs.map((d) => ({
      at: d.at,
      status: d.status,
      actor: d.actor,
      ...(d.detail != null ? { detail: d.detail } : {}),
    }));
  }

  async search(query: MessageQuery): Promise<StoredMessage[]> {
    await this.ready;
    // LIMIT 0 returns nothing in SQLite; a limit of 0 means none at all to MongoDB.
    if (!(query.count > 0)) return [];
    const filter: Filter = {};
    if (query.channel) filter.channel = query.channel;
    if (query.direction) filter.direction = query.direction;
    if (query.status?.length) filter.status = { $in: query.status };
    if (query.type) filter.type = query.type;
    if (query.controlId) filter.controlId = query.controlId;
    if (query.patientId) filter.patientId = query.patientId;
    const received: Filter = {};
    if (query.since !== undefined) received.$gte = query.since;
    if (query.until !== undefined) received.$lt = query.until;
    if (Object.keys(received).length) filter.receivedAt = received;
    if (query.before) {
      const before = sequenceOf(query.before);
      if (before === undefined) return [];
      filter._id = { $lt: before };
    }
    const docs = await this.c.messages.find(filter, { sort: { _id: -1 }, limit: query.count });
    return docs.map(fromDocument);
  }

  async unprocessed(channel: string): Promise<StoredMessage[]> {
    await this.ready;
    const docs = await this.c.messages.find({ channel, status: 'received' }, { sort: { _id: 1 } });
    return docs.map(fromDocument);
  }

  async nextQueued(channel: string, dueBy?: number): Promise<StoredMessage | undefined> {
    await this.ready;
    const filter: Filter = { channel, status: 'queued' };
    // `nextAttemptAt: null` matches a missing field and a cleared (null) one.
    if (dueBy !== undefined) filter.$or = [{ nextAttemptAt: null }, { nextAttemptAt: { $lte: dueBy } }];
    // Queue position: when queued, so an edited copy (queued with its original's time) keeps its place.
    const [doc] = await this.c.messages.find(filter, { sort: { receivedAt: 1, _id: 1 }, limit: 1 });
    return doc ? fromDocument(doc) : undefined;
  }

  async counters(channel: string): Promise<ChannelCounters> {
    await this.ready;
    const rows = await this.c.messages.aggregate<{ _id: MessageStatus; n: number; oldest: number; newest: number }>([
      { $match: { channel } },
      {
        $group: {
          _id: '$status',
          n: { $sum: 1 },
          oldest: { $min: '$receivedAt' },
          newest: { $max: '$receivedAt' },
        },
      },
    ]);
    return countersOf(rows.map((r) => ({ ...r, status: r._id })));
  }

  async purge(before: number): Promise<number> {
    await this.ready;
    const filter: Filter = { receivedAt: { $lt: before }, status: { $nin: WAITING } };
    let removed = 0;
    // In batches, events first: a purge cut short leaves messages (purged next time), never orphaned events.
    // A batch ends the loop once nothing matches: a message whose status changed meanwhile no longer does.
    for (;;) {
      const batch = await this.c.messages.find(filter, {
        sort: { _id: 1 },
        limit: PURGE_BATCH,
        projection: { _id: 1 },
      });
      if (batch.length === 0) return removed;
      const ids = batch.map((d) => d._id);
      await this.c.events.deleteMany({ messageId: { $in: ids } });
      removed += await this.c.messages.deleteMany({ ...filter, _id: { $in: ids } });
      if (batch.length < PURGE_BATCH) return removed;
    }
  }

  async getSetting<T>(key: string): Promise<T | undefined> {
    await this.ready;
    const doc = await this.c.settings.findOne({ _id: key });
    return doc ? (JSON.parse(doc.value) as T) : undefined;
  }

  async putSetting<T>(key: string, value: T): Promise<void> {
    await this.ready;
    const json = JSON.stringify(value) as string | undefined;
    // As SQLite refuses it (NOT NULL): undefined has no JSON, and the driver would store null for it.
    if (json === undefined) throw new Error(`Setting ${key} has no JSON value`);
    await this.c.settings.findOneAndUpdate({ _id: key }, { $set: { value: json } }, { upsert: true });
  }

  async close(): Promise<void> {
    // The collections belong to the resource store's client, which the resource store closes.
    await this.ready.catch(() => undefined);
  }

  private async insertMessage(message: NewMessage): Promise<StoredMessage> {
    const counter = await this.c.counters.findOneAndUpdate(
      { _id: MESSAGE_COUNTER },
      { $inc: { seq: 1 } },
      { upsert: true },
    );
    if (!counter) throw new Error('The message counter was not updated');
    const doc = toDocument(counter.seq, message);
    await this.c.messages.insertOne(doc);
    return fromDocument(doc);
  }

  private async insertEvent(id: string, event: MessageEvent): Promise<void> {
    const messageId = sequenceOf(id);
    if (messageId === undefined) throw new Error(`No message ${id}`);
    await this.c.events.insertOne({
      messageId,
      at: event.at,
      status: event.status,
      actor: event.actor,
      ...(event.detail !== undefined ? { detail: event.detail } : {}),
    });
  }
}

/** The sequence number of an id, or undefined for what no message can have. */
function sequenceOf(id: string): number | undefined {
  return /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

/** A JSON value as SQLite's JSON column keeps it: undefined fields gone (the driver would store them as null). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function toDocument(seq: number, message: NewMessage): MessageDocument {
  const doc: MessageDocument = {
    _id: seq,
    channel: message.channel,
    direction: message.direction,
    receivedAt: message.receivedAt,
    updatedAt: message.receivedAt,
    status: message.status,
    raw: message.raw,
    sendingApplication: message.sendingApplication,
    sendingFacility: message.sendingFacility,
    controlId: message.controlId,
    type: message.type,
    contentHash: message.contentHash,
    attempts: message.attempts ?? 0,
  };
  if (message.patientId != null) doc.patientId = message.patientId;
  if (message.ack != null) doc.ack = message.ack;
  if (message.error != null) doc.error = plain(message.error);
  if (message.outputs != null) doc.outputs = JSON.stringify(message.outputs);
  if (message.nextAttemptAt != null) doc.nextAttemptAt = message.nextAttemptAt;
  if (message.sourceKey != null) doc.sourceKey = message.sourceKey;
  if (message.derivedFrom != null) doc.derivedFrom = message.derivedFrom;
  return doc;
}

function fromDocument(doc: MessageDocument): StoredMessage {
  const message: StoredMessage = {
    id: String(doc._id),
    channel: doc.channel,
    direction: doc.direction,
    receivedAt: doc.receivedAt,
    updatedAt: doc.updatedAt,
    status: doc.status,
    raw: Buffer.isBuffer(doc.raw) ? doc.raw : Buffer.from(doc.raw as Uint8Array),
    sendingApplication: doc.sendingApplication,
    sendingFacility: doc.sendingFacility,
    controlId: doc.controlId,
    type: doc.type,
    contentHash: doc.contentHash,
    attempts: doc.attempts,
  };
  if (doc.patientId != null) message.patientId = doc.patientId;
  if (doc.ack != null) message.ack = doc.ack;
  if (doc.error != null) message.error = doc.error;
  if (doc.outputs != null) message.outputs = JSON.parse(doc.outputs) as Record<string, unknown>;
  if (doc.nextAttemptAt != null) message.nextAttemptAt = doc.nextAttemptAt;
  if (doc.sourceKey != null) message.sourceKey = doc.sourceKey;
  if (doc.derivedFrom != null) message.derivedFrom = doc.derivedFrom;
  return message;
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number })?.code === 11000 || /E11000/.test(String((error as Error)?.message));
}

/** Majority-acknowledged and journaled: a write that resolved survives a crash and a failover. */
const DURABLE = { writeConcern: { w: 'majority', j: true } } as const;

/** The driver's collections behind the MessageCollections slice, in the given database (the resource store's). */
export function driverMessageCollections(db: Db): MessageCollections {
  return {
    messages: driverCollection<MessageDocument>(db.collection(HL7_COLLECTIONS.messages), readMessage),
    events: driverCollection<EventDocument>(db.collection(HL7_COLLECTIONS.events)),
    settings: driverCollection<SettingDocument>(db.collection(HL7_COLLECTIONS.settings)),
    counters: driverCollection<CounterDocument>(db.collection(HL7_COLLECTIONS.counters)),
    ensureIndexes: async (indexes) => {
      for (const [key, name] of Object.entries(HL7_COLLECTIONS)) {
        const specs = indexes
          .filter((index) => index.collection === key)
          .map(({ name, keys, unique, sparse, partialFilterExpression }) => ({
            name,
            key: keys,
            ...(unique ? { unique } : {}),
            ...(sparse ? { sparse } : {}),
            ...(partialFilterExpression ? { partialFilterExpression } : {}),
          }));
        if (specs.length) await db.collection(name).createIndexes(specs);
      }
    },
  };
}

/** Raw bytes come back from the server as BSON Binary: a Buffer of their own for the store. */
function readMessage(doc: Document): MessageDocument {
  const raw: unknown = doc.raw;
  if (raw instanceof Binary) return { ...doc, raw: Buffer.from(raw.value()) } as MessageDocument;
  if (raw instanceof Uint8Array && !Buffer.isBuffer(raw)) return { ...doc, raw: Buffer.from(raw) } as MessageDocument;
  return doc as MessageDocument;
}

function driverCollection<T>(
  collection: Collection<Document>,
  read: (doc: Document) => T = (doc) => doc as T,
): StoreCollection<T> {
  return {
    // A duplicate key rejects with a MongoServerError of code 11000.
    insertOne: async (doc) => {
      await collection.insertOne(doc as Document, DURABLE);
    },
    findOne: async (filter) => {
      const doc = await collection.findOne(filter);
      return doc ? read(doc) : undefined;
    },
    find: async (filter, options = {}) => (await collection.find(filter, options).toArray()).map(read),
    findOneAndUpdate: async (filter, update, options = {}) => {
      const doc = await collection.findOneAndUpdate(filter, update as Document, {
        upsert: options.upsert ?? false,
        returnDocument: 'after',
        ...DURABLE,
      });
      return doc ? read(doc) : undefined;
    },
    deleteMany: async (filter) => (await collection.deleteMany(filter, DURABLE)).deletedCount,
    aggregate: async <R>(pipeline: Record<string, unknown>[]) =>
      (await collection.aggregate(pipeline).toArray()) as unknown as R[],
  };
}

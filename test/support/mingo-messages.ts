// MessageCollections in memory whose filters, sorts, projections and aggregations are evaluated by mingo, so
// the MongoDB message store's own queries run where no MongoDB server exists. Like a server: unique indexes
// (with their partial filters) are enforced only once ensureIndexes created them, a duplicate key rejects
// with code 11000, undefined fields are stored as null (the driver's default), and every document read or
// written is a copy (raw bytes as a Buffer of their own).
import { Aggregator, Query } from 'mingo';
import type {
  CounterDocument,
  EventDocument,
  Filter,
  FindOptions,
  MessageCollections,
  MessageDocument,
  MessageIndex,
  SettingDocument,
  StoreCollection,
  Update,
} from '../../integrations/hl7v2/message-store/mongo-messages';

type Doc = Record<string, unknown>;

function copy<T>(doc: T): T {
  return Object.fromEntries(
    Object.entries(doc as Doc).map(([key, value]) => [
      key,
      value instanceof Uint8Array ? Buffer.from(value) : structuredClone(value),
    ]),
  ) as T;
}

/** What the driver sends: undefined values become null, at any depth. */
function stored(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(stored);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, stored(v)]));
  }
  return value;
}

function duplicateKey(index: string): Error {
  return Object.assign(new Error(`E11000 duplicate key error: index ${index}`), { code: 11000 });
}

export class MingoStoreCollection<T> implements StoreCollection<T> {
  /** In insertion order, as a server's natural order usually is. */
  readonly docs: Doc[] = [];
  readonly indexes: MessageIndex[] = [];
  private nextId = 1;

  async insertOne(doc: T): Promise<void> {
    const next = stored(doc) as Doc;
    if (next._id === undefined || next._id === null) next._id = this.nextId++;
    this.checkUnique(next);
    this.docs.push(next);
  }

  async findOne(filter: Filter): Promise<T | undefined> {
    const [found] = this.matching(filter);
    return found ? copy(found as T) : undefined;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    if (options.limit !== undefined && !(options.limit > 0)) throw new Error('limit must be positive');
    let cursor = new Query(filter).find<Doc>(this.docs, options.projection);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return cursor.all().map((d) => copy(d as T));
  }

  async findOneAndUpdate(
    filter: Filter,
    update: Update<T>,
    options: { upsert?: boolean } = {},
  ): Promise<T | undefined> {
    const [found] = this.matching(filter);
    if (!found && !options.upsert) return undefined;
    const base: Doc = found
      ? copy(found)
      : Object.fromEntries(Object.entries(filter).filter(([, v]) => typeof v !== 'object' || v === null));
    for (const [key, value] of Object.entries(update.$set ?? {})) base[key] = stored(value);
    for (const [key, by] of Object.entries(update.$inc ?? {}))
      base[key] = ((base[key] as number) ?? 0) + (by as number);
    if (base._id === undefined) base._id = this.nextId++;
    this.checkUnique(base, found);
    if (found) this.docs[this.docs.indexOf(found)] = base;
    else this.docs.push(base);
    return copy(base as T);
  }

  async deleteMany(filter: Filter): Promise<number> {
    const gone = new Set(this.matching(filter));
    const kept = this.docs.filter((d) => !gone.has(d));
    this.docs.splice(0, this.docs.length, ...kept);
    return gone.size;
  }

  async aggregate<R>(pipeline: Record<string, unknown>[]): Promise<R[]> {
    for (const stage of pipeline) {
      const [name] = Object.keys(stage);
      if (name !== '$match' && name !== '$group') throw new Error(`Stage ${name} is outside the collection slice`);
    }
    return new Aggregator(pipeline).run(this.docs.map((d) => copy(d))) as R[];
  }

  private matching(filter: Filter): Doc[] {
    return new Query(filter).find<Doc>(this.docs).all();
  }

  /** `_id` and every unique index (its partial filter decides which documents it holds). */
  private checkUnique(doc: Doc, replacing?: Doc): void {
    const unique = [
      { name: '_id_', keys: { _id: 1 } } as Pick<MessageIndex, 'name' | 'keys' | 'partialFilterExpression'>,
    ]
      .concat(this.indexes.filter((i) => i.unique))
      .filter((i) => !i.partialFilterExpression || new Query(i.partialFilterExpression).test(doc));
    for (const index of unique) {
      const key = (d: Doc) => JSON.stringify(Object.keys(index.keys).map((k) => d[k] ?? null));
      const held = this.docs.filter(
        (d) =>
          d !== replacing &&
          (!index.partialFilterExpression || new Query(index.partialFilterExpression).test(d)) &&
          key(d) === key(doc),
      );
      if (held.length) throw duplicateKey(index.name);
    }
  }
}

export class MingoMessageCollections implements MessageCollections {
  readonly messages = new MingoStoreCollection<MessageDocument>();
  readonly events = new MingoStoreCollection<EventDocument>();
  readonly settings = new MingoStoreCollection<SettingDocument>();
  readonly counters = new MingoStoreCollection<CounterDocument>();
  /** Every ensureIndexes call, so a test can see they were made. */
  ensured = 0;

  async ensureIndexes(indexes: readonly MessageIndex[]): Promise<void> {
    this.ensured++;
    for (const index of indexes) {
      const collection = this[index.collection] as MingoStoreCollection<unknown>;
      const existing = collection.indexes.find((i) => i.name === index.name);
      if (existing && JSON.stringify(existing.keys) !== JSON.stringify(index.keys)) {
        throw new Error(`Index ${index.name} exists with other keys`);
      }
      if (!existing) collection.indexes.push(index);
    }
  }
}

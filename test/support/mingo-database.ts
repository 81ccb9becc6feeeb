// A DocumentDatabase in memory whose queries are evaluated by mingo (MongoDB's query language in JS): the
// MongoDB adapter's own code (documents, compiled filters, sorts, keyset paging, transactions) runs on it
// where no MongoDB server exists. Transactions run one at a time on a copy that replaces the committed maps
// on success, so readers see committed data only and a failed transaction leaves nothing.
import { Aggregator, Query } from 'mingo';
import type {
  Collections,
  DocumentCollection,
  DocumentDatabase,
  Filter,
  FindOptions,
  PipelineStage,
} from '../../resources/store/mongo/collections';
import type {
  AuditDocument,
  AuditHeadDocument,
  GuardDocument,
  ResourceDocument,
  VersionDocument,
} from '../../resources/store/mongo/documents';

interface Keyed {
  _id: string;
}

type Maps = {
  resources: Map<string, ResourceDocument>;
  versions: Map<string, VersionDocument>;
  guards: Map<string, GuardDocument>;
  audit: Map<string, AuditDocument>;
  auditHead: Map<string, AuditHeadDocument>;
};

const copyOf = (maps: Maps): Maps => ({
  resources: new Map(maps.resources),
  versions: new Map(maps.versions),
  guards: new Map(maps.guards),
  audit: new Map(maps.audit),
  auditHead: new Map(maps.auditHead),
});

class MingoCollection<T extends Keyed> implements DocumentCollection<T> {
  /** `maps` is read on every call: a commit replaces the committed maps. */
  constructor(private readonly maps: () => Map<string, T>) {}

  private get docs(): Map<string, T> {
    return this.maps();
  }

  async findOne(filter: Filter): Promise<T | undefined> {
    return this.matching(filter)[0];
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = new Query(filter).find<T>([...this.docs.values()]);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return cursor.all();
  }

  async aggregate(pipeline: PipelineStage[]): Promise<T[]> {
    return new Aggregator(pipeline).run([...this.docs.values()]) as T[];
  }

  async countDocuments(filter: Filter): Promise<number> {
    return this.matching(filter).length;
  }

  async insertOne(doc: T): Promise<void> {
    if (this.docs.has(doc._id)) throw new Error(`E11000 duplicate key error: _id ${doc._id}`);
    this.docs.set(doc._id, structuredClone(doc));
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    const [found] = this.matching(filter);
    if (!found) return false;
    this.docs.set(found._id, structuredClone({ ...doc, _id: found._id }));
    return true;
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    const [found] = this.matching(filter);
    if (!found) return false;
    this.docs.set(found._id, structuredClone({ ...found, ...set }));
    return true;
  }

  /** A filter naming an `_id` is checked against that one document, as MongoDB's _id index would find it. */
  async upsertOne(id: string, set: Partial<T>): Promise<void> {
    const found = this.docs.get(id);
    this.docs.set(id, structuredClone({ ...(found ?? { _id: id }), ...set }) as T);
  }

  private matching(filter: Filter): T[] {
    const query = new Query(filter);
    if (typeof filter._id === 'string') {
      const doc = this.docs.get(filter._id);
      return doc && query.test(doc as unknown as Record<string, unknown>) ? [doc] : [];
    }
    return query.find<T>([...this.docs.values()]).all();
  }
}

function collectionsOver(maps: () => Maps): Collections {
  return {
    resources: new MingoCollection(() => maps().resources),
    versions: new MingoCollection(() => maps().versions),
    guards: new MingoCollection(() => maps().guards),
    audit: new MingoCollection(() => maps().audit),
    auditHead: new MingoCollection(() => maps().auditHead),
  };
}

export class MingoDatabase implements DocumentDatabase {
  private committed: Maps = copyOf({
    resources: new Map(),
    versions: new Map(),
    guards: new Map(),
    audit: new Map(),
    auditHead: new Map(),
  });
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions run so far, so a test can see that work was not re-run. */
  transactions = 0;

  readonly collections: Collections = collectionsOver(() => this.committed);

  transaction<T>(work: (collections: Collections) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.transactions++;
      const copy = copyOf(this.committed);
      const result = await work(collectionsOver(() => copy));
      this.committed = copy;
      return result;
    };
    const done = this.queue.then(run, run);
    this.queue = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    await this.queue;
  }
}

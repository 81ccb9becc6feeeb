// The DocumentDatabase on the official MongoDB driver: a fail-fast connect that refuses servers without
// transactions, majority/snapshot transactions whose collections carry the session, and searches bounded
// by maxTimeMS. Error messages name the hosts of MONGODB_URL, never its credentials.
import {
  MongoClient,
  MongoServerError,
  MongoServerSelectionError,
  ReadConcern,
  type ClientSession,
  type Collection,
  type Db,
  type DbOptions,
  type Document,
  type TransactionOptions,
} from 'mongodb';
import { tooCostly } from '../../errors';
import { StoreConfigError } from '../config-error';
import type {
  Collections,
  DocumentCollection,
  DocumentDatabase,
  Filter,
  FindOptions,
  PipelineStage,
} from './collections';
import {
  AUDIT,
  AUDIT_HEAD,
  GUARDS,
  RESOURCES,
  VERSIONS,
  type AuditDocument,
  type AuditHeadDocument,
  type GuardDocument,
  type ResourceDocument,
  type VersionDocument,
} from './documents';

export interface MongoConnectOptions {
  /** How long connecting waits for a reachable server before it fails. */
  serverSelectionTimeoutMs?: number;
  /** Development only: accept a standalone server, whose transactions are not atomic. */
  allowStandalone?: boolean;
  /** A search (find, aggregate, count) running longer is refused with 400 too-costly. */
  searchTimeoutMs?: number;
}

const DEFAULT_DATABASE = 'hms';
const DEFAULT_SERVER_SELECTION_MS = 5000;
const DEFAULT_SEARCH_TIMEOUT_MS = 10_000;
const MAX_TIME_MS_EXPIRED = 50;

/** Outside transactions: reads see only majority-committed data, from the primary (read-your-writes). */
const DB_OPTIONS: DbOptions = {
  readConcern: new ReadConcern('majority'),
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/** A transaction reads one snapshot and commits durably on a majority before the write is acknowledged. */
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

export async function connectMongo(url: string, options: MongoConnectOptions = {}): Promise<DriverDatabase> {
  const { database, secrets } = urlParts(url);
  const timeoutMs = options.serverSelectionTimeoutMs ?? DEFAULT_SERVER_SELECTION_MS;
  const client = newClient(url, timeoutMs, secrets);
  const where = client.options.srvHost ?? client.options.hosts.map(String).join(',');
  try {
    await client.connect();
    const transactional = await supportsTransactions(client, where, options.allowStandalone ?? false);
    const db = client.db(database, DB_OPTIONS);
    return new DriverDatabase(client, db, transactional, options.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS);
  } catch (error) {
    await client.close();
    throw connectError(error, where, timeoutMs, secrets);
  }
}

export class DriverDatabase implements DocumentDatabase {
  readonly collections: Collections;

  constructor(
    private readonly client: MongoClient,
    /** The driver's database, for what the port does not cover (ensureIndexes, dropping a test database). */
    readonly db: Db,
    private readonly transactional: boolean,
    private readonly searchTimeoutMs: number,
  ) {
    this.collections = this.bind(undefined);
  }

  transaction<T>(work: (collections: Collections) => Promise<T>): Promise<T> {
    // A standalone server (MONGODB_ALLOW_STANDALONE, development only) has no multi-document transactions:
    // the work writes document by document, so atomicity is NOT guaranteed and a failure part-way through
    // leaves the earlier writes in place.
    if (!this.transactional) return work(this.collections);
    // withTransaction runs `work` again on a TransientTransactionError, as the port allows.
    return this.client.withSession((session) =>
      session.withTransaction(() => work(this.bind(session)), TRANSACTION_OPTIONS),
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private bind(session: ClientSession | undefined): Collections {
    return {
      resources: new DriverCollection<ResourceDocument>(this.db.collection(RESOURCES), session, this.searchTimeoutMs),
      versions: new DriverCollection<VersionDocument>(this.db.collection(VERSIONS), session, this.searchTimeoutMs),
      guards: new DriverCollection<GuardDocument>(this.db.collection(GUARDS), session, this.searchTimeoutMs),
      audit: new DriverCollection<AuditDocument>(this.db.collection(AUDIT), session, this.searchTimeoutMs),
      auditHead: new DriverCollection<AuditHeadDocument>(this.db.collection(AUDIT_HEAD), session, this.searchTimeoutMs),
    };
  }
}

/** One collection, every operation bound to the session (when inside a transaction). */
class DriverCollection<T extends object> implements DocumentCollection<T> {
  constructor(
    private readonly collection: Collection<Document>,
    private readonly session: ClientSession | undefined,
    private readonly searchTimeoutMs: number,
  ) {}

  async findOne(filter: Filter): Promise<T | undefined> {
    const doc = await this.collection.findOne(filter, { session: this.session });
    return (doc ?? undefined) as T | undefined;
  }

  find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    const cursor = this.collection.find(filter, { ...options, ...this.searchOptions() });
    return this.bounded(cursor.toArray() as Promise<T[]>);
  }

  aggregate(pipeline: PipelineStage[]): Promise<T[]> {
    return this.bounded(this.collection.aggregate<T>(pipeline, this.searchOptions()).toArray());
  }

  countDocuments(filter: Filter): Promise<number> {
    return this.bounded(this.collection.countDocuments(filter, this.searchOptions()));
  }

  async insertOne(doc: T): Promise<void> {
    await this.collection.insertOne(doc as Document, { session: this.session });
  }

  async replaceOne(filter: Filter, doc: T): Promise<boolean> {
    const result = await this.collection.replaceOne(filter, doc as Document, { session: this.session });
    return result.matchedCount > 0;
  }

  async updateOne(filter: Filter, set: Partial<T>): Promise<boolean> {
    const result = await this.collection.updateOne(filter, { $set: set }, { session: this.session });
    return result.matchedCount > 0;
  }

  async upsertOne(id: string, set: Partial<T>): Promise<void> {
    await this.collection.updateOne({ _id: id } as Filter, { $set: set }, { session: this.session, upsert: true });
  }

  private searchOptions() {
    return { session: this.session, maxTimeMS: this.searchTimeoutMs };
  }

  /** The server stops a search at maxTimeMS: that is the client's too-broad search, not a server fault. */
  private async bounded<R>(search: Promise<R>): Promise<R> {
    try {
      return await search;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED) {
        throw tooCostly(
          `The search did not finish within ${this.searchTimeoutMs} ms: narrow it with more selective parameters`,
        );
      }
      throw error;
    }
  }
}

function newClient(url: string, timeoutMs: number, secrets: string[]): MongoClient {
  try {
    return new MongoClient(url, {
      appName: 'hms',
      serverSelectionTimeoutMS: timeoutMs,
      // A TCP connect slower than the whole selection budget cannot help start-up succeed.
      connectTimeoutMS: timeoutMs,
    });
  } catch (error) {
    throw new StoreConfigError(`MONGODB_URL is not a valid MongoDB connection string: ${redact(error, secrets)}`);
  }
}

/** Replica sets and mongos routers run multi-document transactions; a standalone server does not. */
async function supportsTransactions(client: MongoClient, where: string, allowStandalone: boolean): Promise<boolean> {
  const hello = await client.db('admin').command({ hello: 1 });
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return true;
  if (allowStandalone) return false;
  throw new StoreConfigError(
    `MongoDB at ${where} is a standalone server; multi-document transactions need a replica set: see README 'MongoDB'`,
  );
}

function connectError(error: unknown, where: string, timeoutMs: number, secrets: string[]): StoreConfigError {
  if (error instanceof StoreConfigError) return error;
  if (error instanceof MongoServerSelectionError) {
    return new StoreConfigError(
      `Cannot reach MongoDB at ${where} within ${timeoutMs} ms (${redact(error, secrets)}): ` +
        'check MONGODB_URL and that the server is running',
    );
  }
  return new StoreConfigError(`Cannot connect to MongoDB at ${where}: ${redact(error, secrets)}`);
}

/**
 * The database named by the URL's path (`hms` when it names none), and the password in every spelling a
 * message could show it (as written and percent-decoded), so it can be cut out of messages.
 */
function urlParts(url: string): { database: string; secrets: string[] } {
  // Unescaped '@', '/' and '?' are invalid in credentials, so the last '@' before the query ends them.
  const rest = url.slice(url.indexOf('://') + 3).split('?')[0];
  const at = rest.lastIndexOf('@');
  const hostsAndPath = rest.slice(at + 1);
  const slash = hostsAndPath.indexOf('/');
  const database = slash < 0 ? '' : decode(hostsAndPath.slice(slash + 1));
  const colon = rest.indexOf(':');
  const password = at < 0 || colon < 0 || colon > at ? '' : rest.slice(colon + 1, at);
  const secrets = [password, decode(password)].filter((secret) => secret.length > 0);
  return { database: database || DEFAULT_DATABASE, secrets };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redact(error: unknown, secrets: string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  return secrets.reduce((text, secret) => text.split(secret).join('***'), message);
}

// The MongoDB adapter through the REAL driver against a scripted wire-protocol stand-in (fake-mongod.ts), as
// no mongod can run here: connect refuses a standalone server unless allowed, searches carry maxTimeMS and
// map MaxTimeMSExpired to 400 too-costly, transactions run in a session only where the server has them,
// and start-up creates the index list. It checks our handling of server replies, not MongoDB's semantics.
import { FhirError } from '../../../resources/errors';
import { openStore } from '../../../resources/store';
import { StoreConfigError } from '../../../resources/store/config-error';
import { connectMongo, type DriverDatabase } from '../../../resources/store/mongo/driver-database';
import { resourceDocument, versionDocument } from '../../../resources/store/mongo/documents';
import { ensureIndexes, INDEXES } from '../../../resources/store/mongo/indexes';
import { guardKey, MongoStore } from '../../../resources/store/mongo/mongo-store';
import { cursorReply, FakeMongod, replicaSetHello, standaloneHello } from '../../support/fake-mongod';
import { query, version } from './contract';

const SELECTION_MS = 2000;
const SEARCH_TIMEOUT_MS = 1234;
const MAX_TIME_MS_EXPIRED = { ok: 0, code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'operation exceeded time limit' };

const patient = resourceDocument(version('Patient', 'p1', 1), 'order-1');
const patientVersion = versionDocument(version('Patient', 'p1', 1), 'seq-1');

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error('resolved'),
    (error: Error) => error,
  );
}

/** The fields that would make a command part of a multi-document transaction. */
function transactionFields(command: Record<string, unknown>): string[] {
  return ['txnNumber', 'startTransaction', 'autocommit'].filter((field) => field in command);
}

describe('a standalone server', () => {
  let fake: FakeMongod;

  beforeEach(async () => {
    fake = await FakeMongod.start();
  });

  afterEach(() => fake.close());

  test('is refused at connect, naming host and port, as it has no multi-document transactions', async () => {
    const error = await rejection(connectMongo(fake.url(), { serverSelectionTimeoutMs: SELECTION_MS }));
    expect(error).toBeInstanceOf(StoreConfigError);
    expect(error.message).toBe(
      `MongoDB at ${fake.address} is a standalone server; multi-document transactions need a replica set: ` +
        "see README 'MongoDB'",
    );
    expect(fake.named('hello').map((received) => received.db)).toEqual(['admin']);
    await fake.disconnected();
  });

  test('a failing hello is reported as a connect error naming the host', async () => {
    fake.answer('hello', { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'command hello requires auth' });
    const error = await rejection(connectMongo(fake.url(), { serverSelectionTimeoutMs: SELECTION_MS }));
    expect(error).toBeInstanceOf(StoreConfigError);
    expect(error.message).toBe(`Cannot connect to MongoDB at ${fake.address}: command hello requires auth`);
    await fake.disconnected();
  });
});

describe('a standalone server, allowed for development', () => {
  let fake: FakeMongod;
  let database: DriverDatabase;

  beforeAll(async () => {
    fake = await FakeMongod.start();
    database = await connectMongo(fake.url(), {
      serverSelectionTimeoutMs: SELECTION_MS,
      allowStandalone: true,
      searchTimeoutMs: SEARCH_TIMEOUT_MS,
    });
  });

  afterAll(async () => {
    await database.close();
    await fake.close();
  });

  beforeEach(() => {
    fake.commands.length = 0;
  });

  test('a search stopped at maxTimeMS is 400 too-costly, and every search carries maxTimeMS', async () => {
    fake.answer('aggregate', MAX_TIME_MS_EXPIRED);
    const error = await rejection(database.collections.resources.aggregate([{ $match: { type: 'Patient' } }]));
    expect(error).toBeInstanceOf(FhirError);
    expect((error as FhirError).status).toBe(400);
    expect((error as FhirError).outcome.issue?.[0]?.code).toBe('too-costly');
    expect(error.message).toMatch(`within ${SEARCH_TIMEOUT_MS} ms`);
    const [aggregate] = fake.named('aggregate');
    expect(aggregate.db).toBe('hms');
    expect(aggregate.command).toMatchObject({
      aggregate: 'resources',
      pipeline: [{ $match: { type: 'Patient' } }],
      maxTimeMS: SEARCH_TIMEOUT_MS,
      readConcern: { level: 'majority' },
    });
  });

  test('other server errors pass through unchanged', async () => {
    fake.answer('find', { ok: 0, code: 2, codeName: 'BadValue', errmsg: 'bad filter' });
    const error = await rejection(database.collections.resources.find({ type: 'Patient' }));
    expect(error).not.toBeInstanceOf(FhirError);
    expect(error.message).toBe('bad filter');
  });

  test('searches return the documents of the reply', async () => {
    fake.answer('aggregate', cursorReply('hms.resources', [patient]));
    expect(await database.collections.resources.aggregate([{ $match: { type: 'Patient' } }])).toEqual([patient]);

    fake.answer('find', cursorReply('hms.resources', [patient]));
    const found = await database.collections.resources.find({ type: 'Patient' }, { sort: { order: 1 }, limit: 5 });
    expect(found).toEqual([patient]);
    expect(fake.named('find')[0].command).toMatchObject({
      find: 'resources',
      filter: { type: 'Patient' },
      sort: { order: 1 },
      limit: 5,
      maxTimeMS: SEARCH_TIMEOUT_MS,
    });

    fake.answer('aggregate', cursorReply('hms.resources', [{ _id: 1, n: 3 }]));
    expect(await database.collections.resources.countDocuments({ type: 'Patient' })).toBe(3);
    expect(fake.named('aggregate')[1].command.maxTimeMS).toBe(SEARCH_TIMEOUT_MS);
  });

  test('findOne on no match is undefined', async () => {
    fake.answer('find', cursorReply('hms.resources', []));
    expect(await database.collections.resources.findOne({ _id: 'Patient/none' })).toBeUndefined();
    expect(fake.named('find')[0].command).toMatchObject({ filter: { _id: 'Patient/none' }, limit: 1 });
  });

  test('writes ask for majority acknowledgement and report whether a document matched', async () => {
    fake.answer('insert', { ok: 1, n: 1 });
    await database.collections.versions.insertOne(patientVersion);
    expect(fake.named('insert')[0].command).toMatchObject({
      insert: 'versions',
      documents: [patientVersion],
      writeConcern: { w: 'majority' },
    });

    fake.answer('update', { ok: 1, n: 1, nModified: 1 });
    expect(await database.collections.resources.replaceOne({ _id: patient._id }, patient)).toBe(true);
    expect(await database.collections.resources.updateOne({ _id: patient._id }, { deleted: true })).toBe(true);
    fake.answer('update', { ok: 1, n: 0, nModified: 0 });
    expect(await database.collections.resources.updateOne({ _id: 'Patient/none' }, { deleted: true })).toBe(false);
    const updates = fake.named('update').map((received) => received.command.updates[0].u);
    expect(updates).toEqual([patient, { $set: { deleted: true } }, { $set: { deleted: true } }]);
  });

  test('a transaction runs its work without a session transaction (not atomic, development only)', async () => {
    fake.answer('insert', { ok: 1, n: 1 });
    fake.answer('find', cursorReply('hms.versions', []));
    const result = await database.transaction(async (collections) => {
      await collections.versions.insertOne(patientVersion);
      return collections.versions.findOne({ _id: patientVersion._id });
    });
    expect(result).toBeUndefined();
    expect(fake.named('insert')).toHaveLength(1);
    for (const received of fake.commands) expect(transactionFields(received.command)).toEqual([]);
    expect(fake.named('commitTransaction')).toEqual([]);
  });

  test('ensureIndexes creates the index list, one createIndexes per collection', async () => {
    await ensureIndexes(database.db);
    const created = fake.named('createIndexes');
    expect(created.map((received) => received.command.createIndexes)).toEqual(['resources', 'versions', 'audit']);
    for (const received of created) {
      const expected = INDEXES.filter((index) => index.collection === received.command.createIndexes);
      expect(received.db).toBe('hms');
      expect(received.command.indexes).toEqual(expected.map(({ name, keys }) => ({ name, key: keys })));
    }
  });
});

describe('servers with multi-document transactions', () => {
  let fake: FakeMongod;

  afterEach(() => fake.close());

  test('a replica set primary is accepted, and a transaction runs in a snapshot session committed on a majority', async () => {
    fake = await FakeMongod.start(replicaSetHello('rs0'));
    const database = await connectMongo(fake.url(), { serverSelectionTimeoutMs: SELECTION_MS });
    try {
      fake.answer('insert', { ok: 1, n: 1 });
      const result = await database.transaction(async (collections) => {
        await collections.versions.insertOne(patientVersion);
        return 'done';
      });
      expect(result).toBe('done');
    } finally {
      await database.close();
    }
    const [insert] = fake.named('insert');
    expect(insert.command).toMatchObject({ startTransaction: true, autocommit: false });
    expect(insert.command.readConcern).toEqual({ level: 'snapshot' });
    const [commit] = fake.named('commitTransaction');
    expect(commit.db).toBe('admin');
    expect(commit.command).toMatchObject({ autocommit: false, writeConcern: { w: 'majority' } });
    expect(commit.command.txnNumber).toEqual(insert.command.txnNumber);
    expect(commit.command.lsid).toEqual(insert.command.lsid);
  });

  test("a store transaction's search upserts its criteria guard inside the transaction, then searches", async () => {
    fake = await FakeMongod.start(replicaSetHello('rs0'));
    const database = await connectMongo(fake.url(), { serverSelectionTimeoutMs: SELECTION_MS });
    const store = new MongoStore(database);
    fake.answer('update', { ok: 1, n: 1, nModified: 0, upserted: [{ index: 0, _id: 'g' }] });
    fake.answer('aggregate', cursorReply('hms.resources', []));
    const criteria = query('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: 'mrn', code: '7' }] }]);
    const found = await store.transaction((tx) => tx.search(criteria));
    await store.close();
    expect(found.entries).toEqual([]);
    const [update] = fake.named('update');
    expect(update.command).toMatchObject({ update: 'guards', startTransaction: true });
    expect(update.command.updates).toEqual([
      { q: { _id: guardKey(criteria) }, u: { $set: { at: expect.any(Number) } }, upsert: true },
    ]);
    const [aggregate] = fake.named('aggregate');
    expect(aggregate.command.txnNumber).toEqual(update.command.txnNumber);
  });

  test('a mongos router is accepted', async () => {
    fake = await FakeMongod.start((address) => ({ ...standaloneHello(address), msg: 'isdbgrid' }));
    const database = await connectMongo(fake.url(), { serverSelectionTimeoutMs: SELECTION_MS });
    await database.close();
  });
});

describe('openStore with MONGODB_URL', () => {
  let fake: FakeMongod;

  beforeEach(async () => {
    fake = await FakeMongod.start();
  });

  afterEach(() => fake.close());

  test('creates the indexes and serves reads from MongoDB', async () => {
    fake.answer('find', cursorReply('hms.resources', []));
    const store = await openStore({ dataDir: '', mongodbUrl: fake.url(), mongodbAllowStandalone: true });
    expect(fake.named('createIndexes')).toHaveLength(3);
    expect(await store.readCurrent('Patient', 'x')).toBeUndefined();
    expect(fake.named('find')[0].command).toMatchObject({
      find: 'resources',
      filter: { _id: 'Patient/x', type: 'Patient' },
    });
    await store.close();
  });

  test('fails, closing the connection, when the indexes cannot be created', async () => {
    fake.answer('createIndexes', { ok: 0, code: 85, codeName: 'IndexOptionsConflict', errmsg: 'index conflict' });
    const error = await rejection(
      openStore({ dataDir: '', mongodbUrl: fake.url(), mongodbAllowStandalone: true, mongodbServerSelectionMs: 500 }),
    );
    expect(error.message).toBe('index conflict');
    await fake.disconnected();
  });
});

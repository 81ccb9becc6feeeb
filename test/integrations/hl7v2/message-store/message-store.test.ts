// The MessageStore contract on the SQLite file and on the MongoDB adapter (its queries evaluated by mingo),
// then what only one adapter has: the SQLite file surviving a reopen; for MongoDB, indexes, app nodes
// sharing the collections, and the driver wiring (write concern, index specs, BSON Binary) through the real
// driver against the scripted wire-protocol stand-in.
import fs from 'node:fs';
import path from 'node:path';
import { Binary, MongoClient, type Document } from 'mongodb';
import {
  driverMessageCollections,
  HL7_COLLECTIONS,
  MESSAGE_INDEXES,
  MongoMessageStore,
  type MessageCollections,
} from '../../../../integrations/hl7v2/message-store/mongo-messages';
import { SqliteMessageStore } from '../../../../integrations/hl7v2/message-store/sqlite-messages';
import { tempDir } from '../../../support/app';
import { cursorReply, FakeMongod, replicaSetHello } from '../../../support/fake-mongod';
import { MingoMessageCollections } from '../../../support/mingo-messages';
import { inbound, messageStoreContract, outbound } from './contract';

function openSqlite(dir = tempDir('hms-hl7-')) {
  return new SqliteMessageStore(path.join(dir, 'hl7.sqlite'));
}

messageStoreContract('sqlite', async () => {
  const dir = tempDir('hms-hl7-');
  const store = openSqlite(dir);
  return {
    store,
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

messageStoreContract('mongo (mingo)', async () => {
  const store = await MongoMessageStore.open(new MingoMessageCollections());
  return { store, close: () => store.close() };
});

describe('SqliteMessageStore', () => {
  test('messages, history and settings survive close and reopen', async () => {
    const dir = tempDir('hms-hl7-');
    try {
      const raw = Buffer.from([0x4d, 0x53, 0x48, 0x7c, 0xff, 0x00, 0xe9, 0x0d]);
      const first = openSqlite(dir);
      const { message } = await first.receive(inbound({ raw, contentHash: 'h1' }), 0);
      await first.update(
        message.id,
        { status: 'error', error: { reason: 'map', text: 'x' } },
        {
          at: 2,
          status: 'error',
          actor: 'processor',
        },
      );
      const queued = await first.enqueue(outbound({ sourceKey: 'k' }));
      await first.putSetting('paused', { lab: true });
      await first.close();
      await first.close();

      const second = openSqlite(dir);
      const read = await second.get(message.id);
      expect(read?.raw.equals(raw)).toBe(true);
      expect(read).toMatchObject({ status: 'error', error: { reason: 'map', text: 'x' } });
      expect(await second.history(message.id)).toHaveLength(2);
      expect(await second.getSetting('paused')).toEqual({ lab: true });
      expect((await second.nextQueued('orders'))?.id).toBe(queued?.id);
      expect(await second.enqueue(outbound({ sourceKey: 'k' }))).toBeUndefined();
      expect((await second.receive(inbound({ raw, contentHash: 'h1', receivedAt: 5 }), 0)).duplicateOf?.id).toBe(
        message.id,
      );
      await second.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MongoMessageStore over mingo', () => {
  test('creates its indexes once opened, and every operation waits for them', async () => {
    const collections = new MingoMessageCollections();
    const store = new MongoMessageStore(collections);
    const enqueued = await Promise.all([
      store.enqueue(outbound({ sourceKey: 'k' })),
      store.enqueue(outbound({ sourceKey: 'k' })),
    ]);
    expect(enqueued.filter(Boolean)).toHaveLength(1);
    expect(collections.ensured).toBe(1);
    expect(collections.messages.indexes.map((i) => i.name)).toEqual(
      MESSAGE_INDEXES.filter((i) => i.collection === 'messages').map((i) => i.name),
    );
    await MongoMessageStore.open(collections);
    expect(collections.ensured).toBe(2);
  });

  test('open fails when the indexes cannot be made', async () => {
    const collections = new MingoMessageCollections();
    collections.ensureIndexes = () => Promise.reject(new Error('not authorized'));
    await expect(MongoMessageStore.open(collections)).rejects.toThrow('not authorized');
    const store = new MongoMessageStore(collections);
    await expect(store.get('1')).rejects.toThrow('not authorized');
    await store.close();
  });

  test('documents hold raw bytes as a Buffer and no null where a field is absent', async () => {
    const collections = new MingoMessageCollections();
    const store = await MongoMessageStore.open(collections);
    const { message } = await store.receive(inbound({ outputs: { a: 1 } }), 0);
    await store.enqueue(outbound());
    await store.enqueue(outbound());
    const [doc, out] = collections.messages.docs;
    expect(doc._id).toBe(Number(message.id));
    expect(Buffer.isBuffer(doc.raw)).toBe(true);
    expect(doc.outputs).toBe('{"a":1}');
    for (const field of ['sourceKey', 'patientId', 'ack', 'error', 'nextAttemptAt', 'derivedFrom']) {
      expect(doc).not.toHaveProperty(field);
      expect(out).not.toHaveProperty(field);
    }
    expect(collections.counters.docs).toEqual([{ _id: 'messages', seq: 3 }]);
  });

  test('app nodes on the same collections share ids, messages, queues and settings', async () => {
    const collections = new MingoMessageCollections();
    const a = await MongoMessageStore.open(collections);
    const b = await MongoMessageStore.open(collections);
    const first = await a.receive(inbound(), 0);
    const again = await b.receive(inbound({ receivedAt: 1 }), 0);
    expect(again.duplicateOf?.id).toBe(first.message.id);
    const other = await b.receive(inbound({ controlId: 'C2' }), 0);
    expect(Number(other.message.id)).toBeGreaterThan(Number(first.message.id));
    expect(await a.enqueue(outbound({ sourceKey: 'k' }))).toBeDefined();
    expect(await b.enqueue(outbound({ sourceKey: 'k' }))).toBeUndefined();
    await a.putSetting('x', 1);
    expect(await b.getSetting('x')).toBe(1);
  });

  test('purge works through batches', async () => {
    const collections = new MingoMessageCollections();
    const store = await MongoMessageStore.open(collections);
    // Written straight into the collections: 1005 receives would check uniqueness 1005 times over.
    const old = { ...inbound({ status: 'rejected', receivedAt: 0 }), updatedAt: 0, attempts: 0 };
    for (let i = 1; i <= 1005; i++) {
      collections.messages.docs.push({ ...old, _id: i, controlId: `R${i}` });
      collections.events.docs.push({ _id: `e${i}`, messageId: i, at: 0, status: 'rejected', actor: 'mllp' });
    }
    collections.counters.docs.push({ _id: 'messages', seq: 1005 });
    const kept = await store.receive(inbound({ controlId: 'W' }), 0);
    expect(kept.message.id).toBe('1006');
    expect(await store.purge(1)).toBe(1005);
    expect(collections.messages.docs.map((d) => d._id)).toEqual([1006]);
    expect(collections.events.docs.map((d) => d.messageId)).toEqual([1006]);
  });
});

describe('MongoMessageStore through the driver (scripted server)', () => {
  let fake: FakeMongod;
  let client: MongoClient;
  let collections: MessageCollections;

  beforeEach(async () => {
    fake = await FakeMongod.start(replicaSetHello('rs0'));
    client = new MongoClient(fake.url(), { serverSelectionTimeoutMS: 2000 });
    await client.connect();
    collections = driverMessageCollections(client.db('hms'));
  });

  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  const command = (name: string, index = 0): Document => fake.named(name)[index].command;

  test('opening creates the indexes, with their unique, sparse and partial options', async () => {
    await MongoMessageStore.open(collections);
    const messages = fake.named('createIndexes').find((c) => c.command.createIndexes === HL7_COLLECTIONS.messages);
    const events = fake.named('createIndexes').find((c) => c.command.createIndexes === HL7_COLLECTIONS.events);
    expect(messages?.command.indexes).toEqual([
      {
        name: 'channel_sourceKey_unique',
        key: { channel: 1, sourceKey: 1 },
        unique: true,
        partialFilterExpression: { sourceKey: { $exists: true } },
      },
      {
        name: 'dedupe',
        key: { sendingApplication: 1, sendingFacility: 1, controlId: 1, receivedAt: 1 },
        partialFilterExpression: { direction: 'in' },
      },
      { name: 'channel_status_id', key: { channel: 1, status: 1, _id: 1 } },
      { name: 'receivedAt', key: { receivedAt: 1 } },
      { name: 'patientId', key: { patientId: 1 }, sparse: true },
      { name: 'controlId', key: { controlId: 1 } },
    ]);
    expect(events?.command.indexes).toEqual([{ name: 'messageId_at', key: { messageId: 1, at: 1 } }]);
    expect(fake.named('createIndexes')).toHaveLength(2);
  });

  test('receive: a majority, journaled write of the counter, the message as BSON Binary and its event', async () => {
    const raw = Buffer.from([0x4d, 0x53, 0x48, 0xff, 0x00, 0x0d]);
    fake.answer('find', (received) => ({ ...cursorReply(`hms.${received.command.find}`, []) }));
    fake.answer('findAndModify', { ok: 1, value: { _id: 'messages', seq: 41 }, lastErrorObject: { n: 1 } });
    fake.answer('insert', { ok: 1, n: 1 });
    const store = await MongoMessageStore.open(collections);
    const result = await store.receive(inbound({ raw, contentHash: 'h' }), 123);

    expect(result.message.id).toBe('41');
    expect(command('find')).toMatchObject({
      find: HL7_COLLECTIONS.messages,
      filter: {
        direction: 'in',
        sendingApplication: 'LAB',
        sendingFacility: 'HOSP',
        controlId: 'C1',
        receivedAt: { $gte: 123 },
        status: { $ne: 'rejected' },
      },
      sort: { _id: 1 },
    });
    const majority = { w: 'majority', j: true };
    expect(command('findAndModify')).toMatchObject({
      findAndModify: HL7_COLLECTIONS.counters,
      query: { _id: 'messages' },
      update: { $inc: { seq: 1 } },
      upsert: true,
      new: true,
      writeConcern: majority,
    });
    const [messageInsert, eventInsert] = fake.named('insert').map((c) => c.command);
    expect(messageInsert).toMatchObject({ insert: HL7_COLLECTIONS.messages, writeConcern: majority });
    const doc = messageInsert.documents[0];
    expect(doc._id).toBe(41);
    expect(doc.raw).toBeInstanceOf(Binary);
    expect(Buffer.from((doc.raw as Binary).value()).equals(raw)).toBe(true);
    expect(Object.values(doc)).not.toContain(null);
    expect(eventInsert).toMatchObject({
      insert: HL7_COLLECTIONS.events,
      writeConcern: majority,
      documents: [{ messageId: 41, at: inbound().receivedAt, status: 'received', actor: 'mllp' }],
    });
  });

  test('get turns the BSON Binary back into the exact bytes', async () => {
    const raw = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a]);
    const doc = { ...inbound({ raw }), _id: 7, updatedAt: 1, attempts: 0, raw: new Binary(raw), error: null };
    fake.answer('find', (received) => cursorReply(`hms.${received.command.find}`, [doc]));
    const store = await MongoMessageStore.open(collections);
    const read = await store.get('7');
    expect(Buffer.isBuffer(read?.raw)).toBe(true);
    expect(read?.raw.equals(raw)).toBe(true);
    expect(read).not.toHaveProperty('error');
    expect(command('find')).toMatchObject({ filter: { _id: 7 } });
  });

  test('enqueue of a sourceKey another node stored meanwhile: the duplicate key error gives undefined', async () => {
    fake.answer('find', (received) => cursorReply(`hms.${received.command.find}`, []));
    fake.answer('findAndModify', { ok: 1, value: { _id: 'messages', seq: 9 }, lastErrorObject: { n: 1 } });
    fake.answer('insert', {
      ok: 1,
      n: 0,
      writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key error index: channel_sourceKey_unique' }],
    });
    const store = await MongoMessageStore.open(collections);
    expect(await store.enqueue(outbound({ sourceKey: 'k' }))).toBeUndefined();
    expect(fake.named('insert')).toHaveLength(1);
  });

  test('update: one findAndModify returning the document after, then the event', async () => {
    const doc = { ...inbound(), _id: 3, updatedAt: 9, attempts: 0, raw: new Binary(Buffer.from('MSH')) };
    fake.answer('findAndModify', {
      ok: 1,
      value: { ...doc, status: 'processed', updatedAt: 10 },
      lastErrorObject: { n: 1 },
    });
    fake.answer('insert', { ok: 1, n: 1 });
    const store = await MongoMessageStore.open(collections);
    const updated = await store.update(
      '3',
      { status: 'processed', error: null },
      { at: 10, status: 'processed', actor: 'p' },
    );
    expect(updated).toMatchObject({ id: '3', status: 'processed', updatedAt: 10 });
    expect(command('findAndModify')).toMatchObject({
      query: { _id: 3 },
      update: { $set: { updatedAt: 10, status: 'processed', error: null } },
      new: true,
      writeConcern: { w: 'majority', j: true },
    });
    fake.answer('findAndModify', { ok: 1, value: null, lastErrorObject: { n: 0 } });
    await expect(
      store.update('4', { status: 'processed' }, { at: 1, status: 'processed', actor: 'p' }),
    ).rejects.toThrow('No message 4');
  });
});

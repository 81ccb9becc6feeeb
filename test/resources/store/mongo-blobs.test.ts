// GridFS Binary storage through the REAL driver against the wire-protocol stand-in (fake-mongod.ts), whose
// find/insert replies here keep documents in memory, just enough GridFS for the driver's own upload and
// download code: content split into chunks and joined again, the newest file of a name read, every file of a
// name deleted with its chunks, and no write or delete of a file inside a transaction (GridFS cannot take part
// in one).
import { setTimeout as delay } from 'node:timers/promises';
import type { Document } from 'mongodb';
import { BINARY_BUCKET, GridFsBlobs } from '../../../resources/store/mongo/blobs';
import { connectMongo, type DriverDatabase } from '../../../resources/store/mongo/driver-database';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { cursorReply, FakeMongod, replicaSetHello, type ReceivedCommand } from '../../support/fake-mongod';
import { version } from './contract';

const same = (a: unknown, b: unknown) => String(a) === String(b);

/** Equality on each field of the filter, with `$eq` as the driver writes it for ids. */
function matches(doc: Document, filter: Document = {}): boolean {
  return Object.entries(filter).every(([field, wanted]) =>
    wanted !== null && typeof wanted === 'object' && '$eq' in wanted
      ? same(doc[field], (wanted as Document).$eq)
      : same(doc[field], wanted),
  );
}

class GridFsOnFake {
  readonly collections = new Map<string, Document[]>();

  constructor(fake: FakeMongod) {
    fake.answer('insert', ({ command }) => {
      this.collection(command.insert).push(...(command.documents as Document[]));
      return { ok: 1, n: (command.documents as Document[]).length };
    });
    fake.answer('find', (received) => this.find(received));
    fake.answer('delete', ({ command }) => {
      const docs = this.collection(command.delete);
      let n = 0;
      for (const { q } of command.deletes as { q: Document }[]) {
        const kept = docs.filter((doc) => !matches(doc, q));
        n += docs.length - kept.length;
        docs.splice(0, docs.length, ...kept);
      }
      return { ok: 1, n };
    });
    fake.answer('listIndexes', { ok: 0, code: 26, codeName: 'NamespaceNotFound', errmsg: 'ns does not exist' });
  }

  collection(name: string): Document[] {
    if (!this.collections.has(name)) this.collections.set(name, []);
    return this.collections.get(name) as Document[];
  }

  private find({ command, db }: ReceivedCommand): Document {
    const docs = this.collection(command.find).filter((doc) => matches(doc, command.filter));
    const [field, direction = 1] = Object.entries((command.sort ?? {}) as Record<string, number>)[0] ?? [];
    if (field) docs.sort((a, b) => (a[field] < b[field] ? -direction : a[field] > b[field] ? direction : 0));
    return cursorReply(`${db}.${command.find}`, command.limit ? docs.slice(0, command.limit) : docs);
  }
}

let fake: FakeMongod;
let gridfs: GridFsOnFake;
let database: DriverDatabase;
beforeEach(async () => {
  fake = await FakeMongod.start(replicaSetHello('rs0'));
  gridfs = new GridFsOnFake(fake);
  database = await connectMongo(fake.url(), { serverSelectionTimeoutMs: 2000 });
});
afterEach(async () => {
  await database.close();
  await fake.close();
});

/** Content of three GridFS chunks (255 KiB each), every byte value in it. */
const CONTENT = Buffer.from(Array.from({ length: 600 * 1024 }, (_, i) => (i * 7) % 256));

test('content is uploaded in chunks to the binary bucket and read back whole', async () => {
  const blobs = new GridFsBlobs(database.db);
  await blobs.put('Binary/a/1', CONTENT);
  expect(gridfs.collection(`${BINARY_BUCKET}.chunks`)).toHaveLength(3);
  expect(gridfs.collection(`${BINARY_BUCKET}.files`).map((f) => [f.filename, f.length])).toEqual([
    ['Binary/a/1', CONTENT.length],
  ]);
  expect(Buffer.compare((await blobs.get('Binary/a/1')) as Buffer, CONTENT)).toBe(0);
  expect(await blobs.get('Binary/a/2')).toBeUndefined();
});

test('the newest file of a name is the one read (a retried transaction uploads again)', async () => {
  const blobs = new GridFsBlobs(database.db);
  await blobs.put('Binary/b/1', Buffer.from('first attempt'));
  // uploadDate has millisecond precision: the second upload must be later to be the newer.
  await delay(5);
  await blobs.put('Binary/b/1', Buffer.from('committed'));
  expect((await blobs.get('Binary/b/1'))?.toString()).toBe('committed');
});

test('a store transaction uploads Binary bytes outside its session, before it commits', async () => {
  const store = new MongoStore(database, new GridFsBlobs(database.db));
  fake.answer('update', { ok: 1, n: 1, nModified: 1 });
  const json = JSON.stringify({ resourceType: 'Binary', id: 'c', contentType: 'application/pdf', data: 'AAEC' });
  await store.transaction((tx) => tx.writeVersion(version('Binary', 'c', 1, [], { json })));
  const inserts = fake.named('insert');
  const chunk = inserts.find((i) => i.command.insert === `${BINARY_BUCKET}.chunks`) as ReceivedCommand;
  // txnNumber alone is a retryable write; autocommit: false marks a statement of a transaction.
  expect(chunk.command.autocommit).toBeUndefined();
  const version1 = inserts.find((i) => i.command.insert === 'versions') as ReceivedCommand;
  expect(version1.command.autocommit).toBe(false);
  expect(inserts.indexOf(chunk)).toBeLessThan(inserts.indexOf(version1));
  expect(JSON.parse((version1.command.documents as Document[])[0].json)).not.toHaveProperty('data');
  expect(await store.readBinaryData('c', 1)).toEqual(Buffer.from([0, 1, 2]));
});

test('a delete removes every file of the name with its chunks, and nothing of other names', async () => {
  const blobs = new GridFsBlobs(database.db);
  await blobs.put('Binary/bulk:t:0/1', CONTENT);
  await delay(5);
  await blobs.put('Binary/bulk:t:0/1', Buffer.from('a retried upload'));
  await blobs.put('Binary/bulk:t:1/1', Buffer.from('kept'));
  await blobs.delete('Binary/bulk:t:0/1');
  const files = gridfs.collection(`${BINARY_BUCKET}.files`);
  expect(files.map((f) => f.filename)).toEqual(['Binary/bulk:t:1/1']);
  expect(gridfs.collection(`${BINARY_BUCKET}.chunks`).map((c) => String(c.files_id))).toEqual([String(files[0]._id)]);
  expect(await blobs.get('Binary/bulk:t:0/1')).toBeUndefined();
  expect((await blobs.get('Binary/bulk:t:1/1'))?.toString()).toBe('kept');
  // Nothing under the name: nothing to do.
  await blobs.delete('Binary/bulk:t:0/1');
});

test('a file another node deleted meanwhile is no error; any other failure is', async () => {
  const blobs = new GridFsBlobs(database.db);
  await blobs.put('Binary/gone/1', Buffer.from('bytes'));
  // The file document is already gone when the driver deletes it: it reports "File not found".
  fake.answer('delete', ({ command }) => ({ ok: 1, n: command.delete === `${BINARY_BUCKET}.files` ? 0 : 1 }));
  await expect(blobs.delete('Binary/gone/1')).resolves.toBeUndefined();
  fake.answer('delete', { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'not authorized' });
  await expect(blobs.delete('Binary/gone/1')).rejects.toThrow(/not authorized/);
});

test('a store transaction deletes bytes after it commits, outside its session', async () => {
  const store = new MongoStore(database, new GridFsBlobs(database.db));
  await new GridFsBlobs(database.db).put('Binary/bulk:x:0/1', CONTENT);
  fake.answer('commitTransaction', { ok: 1 });
  await store.transaction(async (tx) => {
    await tx.deleteBinaryData?.('bulk:x:0', 1);
    // A write in the transaction, so that it has something to commit.
    await tx.writeVersion(version('Patient', 'p', 1));
    expect(fake.named('delete')).toHaveLength(0);
  });
  expect(gridfs.collection(`${BINARY_BUCKET}.files`)).toHaveLength(0);
  expect(gridfs.collection(`${BINARY_BUCKET}.chunks`)).toHaveLength(0);
  const deletes = fake.named('delete');
  expect(deletes.map((d) => d.command.delete)).toEqual([`${BINARY_BUCKET}.files`, `${BINARY_BUCKET}.chunks`]);
  expect(deletes.every((d) => d.command.autocommit === undefined)).toBe(true);
  const commit = fake.commands.findIndex((c) => c.name === 'commitTransaction');
  expect(commit).toBeGreaterThan(-1);
  expect(fake.commands.indexOf(deletes[0])).toBeGreaterThan(commit);
});

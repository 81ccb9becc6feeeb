// Binary bytes beside the JSON, on both adapters: SQLite (binary_data table in the real file) and MongoDB (its
// code on mingo, with an in-memory bucket standing in for GridFS): bytes per version, kept apart from the
// version JSON, rolled back with their transaction where the store can, and split out of Bundle-written JSON.
import fs from 'node:fs';
import path from 'node:path';
import { blobKey, CONTENT_SHA256_URL, splitBinaryData, withBinaryData } from '../../../resources/store/binary-data';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import type { ResourceStore } from '../../../resources/store/port';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { tempDir } from '../../support/app';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import { version } from './contract';

const PDF = Buffer.from('%PDF-1.7\n\x00\x01\x02\xff binary');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]);

function binary(id: string, versionId: number, data?: Buffer, sha256?: string) {
  const json = JSON.stringify({
    resourceType: 'Binary',
    id,
    meta: { versionId: String(versionId) },
    contentType: 'application/pdf',
    ...(data ? { data: data.toString('base64') } : {}),
    ...(sha256 ? { _data: { extension: [{ url: CONTENT_SHA256_URL, valueString: sha256 }] } } : {}),
  });
  return version('Binary', id, versionId, [], { json });
}

const adapters: [string, () => Promise<{ store: ResourceStore; cleanup: () => Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = tempDir();
      const store = SqliteStore.open(path.join(dir, 'test.sqlite'), { synchronous: 'NORMAL' });
      return { store, cleanup: async () => (await store.close(), fs.rmSync(dir, { recursive: true, force: true })) };
    },
  ],
  [
    'MongoDB on mingo',
    async () => {
      const store = new MongoStore(new MingoDatabase(), new MemoryBucket());
      return { store, cleanup: () => store.close() };
    },
  ],
];

describe.each(adapters)('%s', (_name, open) => {
  let store: ResourceStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await open()));
  afterEach(() => cleanup());

  test('bytes written beside a version are read back per version', async () => {
    await store.transaction(async (tx) => {
      await tx.writeVersion(binary('b1', 1));
      await tx.writeBinaryData?.('b1', 1, PDF);
    });
    await store.transaction(async (tx) => {
      await tx.writeVersion(binary('b1', 2));
      await tx.writeBinaryData?.('b1', 2, PNG);
    });
    expect(await store.readBinaryData?.('b1', 1)).toEqual(PDF);
    expect(await store.readBinaryData?.('b1', 2)).toEqual(PNG);
    expect(await store.readBinaryData?.('b1', 3)).toBeUndefined();
    expect(await store.readBinaryData?.('other', 1)).toBeUndefined();
  });

  test('a Binary written with data in its JSON (a Bundle entry) is stored without it, the bytes apart', async () => {
    await store.transaction((tx) => tx.writeVersion(binary('b2', 1, PDF)));
    const stored = await store.readVersion('Binary', 'b2', 1);
    expect(JSON.parse(stored?.json as string)).toEqual({
      resourceType: 'Binary',
      id: 'b2',
      meta: { versionId: '1' },
      contentType: 'application/pdf',
    });
    expect(await store.readBinaryData?.('b2', 1)).toEqual(PDF);
    // Other types are never touched, even with a `data` element.
    const other = version('Basic', 'x', 1, [], { json: '{"resourceType":"Basic","id":"x","data":"AAAA"}' });
    await store.transaction((tx) => tx.writeVersion(other));
    expect((await store.readCurrent('Basic', 'x'))?.json).toBe(other.json);
  });

  test('a version without bytes naming the same content hash as the one before keeps its bytes', async () => {
    await store.transaction(async (tx) => {
      await tx.writeVersion(binary('k', 1, undefined, 'hash-1'));
      await tx.writeBinaryData?.('k', 1, PDF);
    });
    // A PATCH of the metadata: same hash, no bytes given.
    await store.transaction((tx) => tx.writeVersion(binary('k', 2, undefined, 'hash-1')));
    expect(await store.readBinaryData?.('k', 2)).toEqual(PDF);
    // New bytes replace what was carried over.
    await store.transaction(async (tx) => {
      await tx.writeVersion(binary('k', 3, undefined, 'hash-1'));
      await tx.writeBinaryData?.('k', 3, PNG);
    });
    expect(await store.readBinaryData?.('k', 3)).toEqual(PNG);
    // Another hash, or none, keeps nothing.
    await store.transaction((tx) => tx.writeVersion(binary('k', 4, undefined, 'hash-2')));
    await store.transaction((tx) => tx.writeVersion(binary('k', 5)));
    expect(await store.readBinaryData?.('k', 4)).toBeUndefined();
    expect(await store.readBinaryData?.('k', 5)).toBeUndefined();
    expect(await store.readBinaryData?.('k', 1)).toEqual(PDF);
  });

  test('a transaction that fails keeps no version', async () => {
    const failing = store.transaction(async (tx) => {
      await tx.writeVersion(binary('b3', 1, PDF));
      throw new Error('rolled back');
    });
    await expect(failing).rejects.toThrow('rolled back');
    expect(await store.readCurrent('Binary', 'b3')).toBeUndefined();
  });
});

test('SQLite rolls the bytes back with their transaction', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(path.join(dir, 'test.sqlite'), { synchronous: 'NORMAL' });
  try {
    const failing = store.transaction(async (tx) => {
      await tx.writeVersion(binary('r1', 1));
      await tx.writeBinaryData?.('r1', 1, PDF);
      throw new Error('rolled back');
    });
    await expect(failing).rejects.toThrow('rolled back');
    expect(await store.readBinaryData('r1', 1)).toBeUndefined();
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a MongoDB store opened without a bucket refuses Binary content instead of losing it', async () => {
  const store = new MongoStore(new MingoDatabase());
  await expect(store.transaction((tx) => tx.writeVersion(binary('n1', 1, PDF)))).rejects.toThrow(/no bucket/);
  expect(await store.readCurrent('Binary', 'n1')).toBeUndefined();
  expect(await store.readBinaryData('n1', 1)).toBeUndefined();
  // It holds no bytes, so it has none to delete either.
  await expect(store.transaction(async (tx) => tx.deleteBinaryData?.('n1', 1))).resolves.toBeUndefined();
  await store.close();
});

test('the helpers: split only Binary data, put it back as the last element, key by id and version', () => {
  const write = binary('h', 1, PNG);
  const { write: stripped, bytes } = splitBinaryData(write);
  expect(bytes).toEqual(PNG);
  expect(JSON.parse(withBinaryData(stripped.json as string, bytes))).toEqual(JSON.parse(write.json as string));
  expect(withBinaryData('{"resourceType":"Binary"}', undefined)).toBe('{"resourceType":"Binary"}');
  expect(splitBinaryData(binary('h', 1)).bytes).toBeUndefined();
  const odd = version('Binary', 'h', 1, [], { json: '{"resourceType":"Binary","data":12}' });
  expect(splitBinaryData(odd).write).toBe(odd);
  expect(blobKey('h', 2)).toBe('Binary/h/2');
});

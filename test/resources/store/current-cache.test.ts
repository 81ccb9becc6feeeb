// The SQLite store's cache of current versions: a read by id never returns a version older than the last
// one committed by this store, nor, from the next turn of the event loop, one committed by another process.
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import type { StoredVersion } from '../../../resources/store/port';
import { tempDir } from '../../support/app';
import { version } from './contract';

let dir: string;
const opened: SqliteStore[] = [];

beforeEach(() => {
  dir = tempDir('hms-cache-');
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(options: { readCacheBytes?: number; synchronous?: 'FULL' | 'NORMAL' } = {}): SqliteStore {
  const store = SqliteStore.open(path.join(dir, 'cache.sqlite'), { synchronous: 'NORMAL', ...options });
  opened.push(store);
  return store;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const versionOf = async (store: SqliteStore, id: string) => (await store.readCurrent('Patient', id))?.versionId;

test('a hit returns the same frozen version; reads after each own commit see it', async () => {
  const store = open();
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 1)));
  const first = await store.readCurrent('Patient', 'p');
  expect(await store.readCurrent('Patient', 'p')).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 2)));
  expect(await versionOf(store, 'p')).toBe(2);
  await store.transaction(async (tx) =>
    tx.writeVersion(version('Patient', 'p', 3, [], { deleted: true, json: undefined })),
  );
  expect(await store.readCurrent('Patient', 'p')).toMatchObject({ versionId: 3, deleted: true });
  expect(await store.readCurrent('Patient', 'never')).toBeUndefined();
});

test('reads at every step of a write group see the old version until COMMIT, then only the new one', async () => {
  // FULL: the group is acknowledged after its WAL sync, so reads also run between COMMIT and acknowledgement.
  // Room for one version only, and reads of p and q take turns: every read misses and refills the cache.
  const store = open({ synchronous: 'FULL', readCacheBytes: 300 });
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 1)));
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'q', 1)));
  let done = false;
  const seen: number[] = [];
  const write = Promise.all([
    store.transaction(async (tx) => {
      await tx.writeVersion(version('Patient', 'p', 2));
      for (let i = 0; i < 20; i++) await tx.readCurrent('Patient', 'q');
    }),
    // A member that fails is rolled back alone; what it wrote never reaches the cache or the file.
    store
      .transaction(async (tx) => {
        await tx.writeVersion(version('Patient', 'q', 2));
        throw new Error('rolled back');
      })
      .catch(() => undefined),
  ]).then(() => (done = true));
  // Reads interleaved at every microtask and every turn while the group writes, commits and syncs.
  while (!done) {
    seen.push((await versionOf(store, 'p')) ?? 0);
    await versionOf(store, 'q');
    if (seen.length % 50 === 0) await nextTurn();
  }
  await write;
  expect(seen.length).toBeGreaterThan(20);
  expect(seen[0]).toBe(1);
  expect([...seen].sort()).toEqual(seen);
  expect(await versionOf(store, 'p')).toBe(2);
  expect(await versionOf(store, 'q')).toBe(1);
});

test('a read that misses right before COMMIT does not keep the version the commit replaces', async () => {
  const store = open();
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 1)));
  // The read runs inside COMMIT's call, as a read handled just before the commit would: it finds version 1.
  const commit = (store as unknown as { control: { commit: { run: () => unknown } } }).control.commit;
  const run = commit.run.bind(commit);
  let before: Promise<number | undefined> | undefined;
  commit.run = () => {
    before ??= versionOf(store, 'p');
    return run();
  };
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 2)));
  expect(await before).toBe(1);
  expect(await versionOf(store, 'p')).toBe(2);
});

test("another connection's commit is seen from the next turn of the event loop", async () => {
  const store = open();
  const other = open({ readCacheBytes: 0 });
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 1)));
  expect(await versionOf(store, 'p')).toBe(1);
  await other.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 2)));
  await nextTurn();
  expect(await versionOf(store, 'p')).toBe(2);
  // and the cache keeps working after it was dropped
  const again = await store.readCurrent('Patient', 'p');
  expect(await store.readCurrent('Patient', 'p')).toBe(again);
});

test('the cache keeps to its size: a version larger than all of it is not kept, the least recent goes first', async () => {
  const json = (id: string, size: number) => JSON.stringify({ resourceType: 'Patient', id, text: 'x'.repeat(size) });
  const store = open({ readCacheBytes: 3000 });
  await store.transaction(async (tx) => {
    await tx.writeVersion(version('Patient', 'big', 1, [], { json: json('big', 4000) }));
    for (const id of ['a', 'b', 'c']) await tx.writeVersion(version('Patient', id, 1, [], { json: json(id, 900) }));
  });
  const same = async (id: string, earlier: StoredVersion | undefined) =>
    (await store.readCurrent('Patient', id)) === earlier;
  const big = await store.readCurrent('Patient', 'big');
  expect(await same('big', big)).toBe(false);
  const a = await store.readCurrent('Patient', 'a');
  const b = await store.readCurrent('Patient', 'b');
  expect(await same('a', a)).toBe(true);
  await store.readCurrent('Patient', 'c');
  expect(await same('b', b)).toBe(false);
  expect(await same('a', a)).toBe(false);
});

test('with no cache memory every read goes to the file', async () => {
  const store = open({ readCacheBytes: 0 });
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p', 1)));
  const first = await store.readCurrent('Patient', 'p');
  const second = await store.readCurrent('Patient', 'p');
  expect(second).toEqual(first);
  expect(second).not.toBe(first);
  expect(Object.isFrozen(second)).toBe(false);
});

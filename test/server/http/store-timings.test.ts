// The SQLite store reports its timings to whoever watches it (the /metrics endpoint): each group commit with
// its size, each WAL sync under synchronous FULL, and each hold of writes while a checkpoint rewinds the WAL.
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import type { StoreTimings } from '../../../resources/store/store-monitor';
import { tempDir } from '../../support/app';

let dir: string;
beforeAll(() => (dir = tempDir('hms-store-timings-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const seen = { committed: [] as [number, number][], walSynced: [] as number[], checkpointHeld: [] as number[] };
  const timings: StoreTimings = {
    committed: (seconds, transactions) => seen.committed.push([seconds, transactions]),
    walSynced: (seconds) => seen.walSynced.push(seconds),
    checkpointHeld: (seconds) => seen.checkpointHeld.push(seconds),
  };
  return { seen, timings };
}

const write = (store: SqliteStore, id: string) =>
  store.transaction(async (tx) =>
    tx.writeVersion({
      resourceType: 'Patient',
      id,
      versionId: 1,
      lastUpdated: Date.now(),
      deleted: false,
      method: 'POST',
      json: JSON.stringify({ resourceType: 'Patient', id, text: 'x'.repeat(400) }),
      index: [],
    }),
  );

test('commits and WAL syncs: a group of three concurrent writes is one commit of three', async () => {
  const store = SqliteStore.open(path.join(dir, 'a.sqlite'), { synchronous: 'FULL' });
  const { seen, timings } = recorder();
  store.timings = timings;
  await Promise.all(['a', 'b', 'c'].map((id) => write(store, id)));
  await store.close();
  expect(seen.committed).toHaveLength(1);
  expect(seen.committed[0][1]).toBe(3);
  expect(seen.committed[0][0]).toBeGreaterThanOrEqual(0);
  expect(seen.walSynced).toHaveLength(1);
  expect(seen.walSynced[0]).toBeGreaterThanOrEqual(0);
});

test('without a watcher the store works as before, and NORMAL has no WAL sync to report', async () => {
  const store = SqliteStore.open(path.join(dir, 'b.sqlite'), { synchronous: 'NORMAL' });
  await write(store, 'a');
  const { seen, timings } = recorder();
  store.timings = timings;
  await write(store, 'b');
  await store.close();
  expect(seen.committed).toHaveLength(1);
  expect(seen.walSynced).toHaveLength(0);
});

test('a checkpoint that rewinds the WAL reports how long writes were held', async () => {
  const limit = 256 * 1024;
  const file = path.join(dir, 'c.sqlite');
  const store = await SqliteStore.openWithCheckpointer(file, { checkpointIntervalMs: 5, walLimitBytes: limit });
  const { seen, timings } = recorder();
  store.timings = timings;
  const deadline = Date.now() + 20_000;
  const writer = async (w: number) => {
    for (let i = 0; seen.checkpointHeld.length === 0 && Date.now() < deadline; i++) await write(store, `w${w}-${i}`);
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  await store.close();
  expect(seen.checkpointHeld.length).toBeGreaterThan(0);
  expect(seen.checkpointHeld[0]).toBeGreaterThanOrEqual(0);
}, 30_000);

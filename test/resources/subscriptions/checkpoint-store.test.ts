// The delivery checkpoint in blob storage: two slots written in turn, the newer wins, a slot lost half-way (its
// delete done, its write not) falls back to the other; on SQLite and on the MongoDB adapter (GridFS in memory).
import fs from 'node:fs';
import { openStore } from '../../../resources/store';
import type { ResourceStore } from '../../../resources/store/port';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { CheckpointStore } from '../../../resources/subscriptions/checkpoint-store';
import { tempDir } from '../../support/app';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';

const stores: [string, () => Promise<{ store: ResourceStore; done: () => Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dataDir = tempDir('hms-checkpoint-');
      const store = await openStore({ dataDir, sqliteSynchronous: 'NORMAL' });
      return { store, done: async () => (await store.close(), fs.rmSync(dataDir, { recursive: true, force: true })) };
    },
  ],
  [
    'MongoDB adapter',
    async () => {
      const store = new MongoStore(new MingoDatabase(), new MemoryBucket());
      return { store, done: () => store.close() };
    },
  ],
];

const checkpoint = (delivered: number) => ({
  position: String(delivered).padStart(16, '0'),
  subscriptions: { s: { delivered, failures: 0 } },
});

test.each(stores)('on %s, the newest checkpoint is read back, and a slot lost half-way falls back', async (_, open) => {
  const { store, done } = await open();
  try {
    expect(await new CheckpointStore(store).read()).toBeUndefined();
    const writer = new CheckpointStore(store);
    for (let i = 1; i <= 5; i++) await writer.write(checkpoint(i));
    expect(await new CheckpointStore(store).read()).toEqual(checkpoint(5));

    // The sixth save empties its slot, then the process dies before writing it.
    await store.transaction(async (tx) => tx.deleteBinaryData?.('subscriptions:delivery-checkpoint:0', 1));
    const reader = new CheckpointStore(store);
    expect(await reader.read()).toEqual(checkpoint(5));
    // Saving goes on from there.
    await reader.write(checkpoint(6));
    expect(await new CheckpointStore(store).read()).toEqual(checkpoint(6));

    // Garbage in the other slot is ignored, not fatal.
    await store.transaction(async (tx) =>
      tx.writeBinaryData?.('subscriptions:delivery-checkpoint:1', 1, Buffer.from('{')),
    );
    expect(await new CheckpointStore(store).read()).toEqual(checkpoint(6));
  } finally {
    await done();
  }
});

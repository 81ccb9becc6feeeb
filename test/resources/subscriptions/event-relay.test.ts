// The relay between app nodes, on the MongoDB adapter (mingo and an in-memory GridFS): a reader hears what the
// delivering node publishes after it started reading (websocket notifications and recorded events), in order,
// and a node that takes delivery over numbers its batches on from the previous one, whose old batches are
// deleted behind it.
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { EventRelay, type RelaySettings } from '../../../resources/subscriptions/event-relay';
import type { RecordedEvent } from '../../../resources/subscriptions/state';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';

const relays: EventRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

function relay(store: MongoStore, settings: Partial<RelaySettings> & Pick<RelaySettings, 'delivering'>) {
  const made = new EventRelay(store, {
    pollMs: 10,
    notify: () => undefined,
    recorded: () => undefined,
    ...settings,
  });
  made.start();
  relays.push(made);
  return made;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Publishes one notification and waits until the writer has stored it (each becomes a batch of its own). */
async function publishAlone(writer: EventRelay, id: string, text: string): Promise<void> {
  writer.publishNotification(id, text);
  await (writer as unknown as { writing?: Promise<void> }).writing;
}

/** Makes the stored batches a minute older: a reader's clock margin covers seconds, not these. */
function age(bucket: MemoryBucket): number {
  const batches = [...bucket.files.keys()].filter((k) => /relay:\d+/.test(k));
  for (const key of batches) {
    const batch = JSON.parse(bucket.files.get(key)!.toString()) as { at: number };
    bucket.files.set(key, Buffer.from(JSON.stringify({ ...batch, at: batch.at - 60_000 })));
  }
  return batches.length;
}

test('a reader hears, in order, what is published after it started reading; batches of an earlier run are skipped', async () => {
  const bucket = new MemoryBucket();
  const store = new MongoStore(new MingoDatabase(), bucket);
  const writer = relay(store, { delivering: () => true });
  for (let i = 0; i < 3; i++) await publishAlone(writer, 'old', `before ${i}`);

  const heard: string[] = [];
  relay(store, {
    delivering: () => false,
    notify: (id, text) => heard.push(`${id}:${text}`),
    recorded: (id, event) => heard.push(`${id}:#${event.number} ${event.focus}`),
  });
  expect(age(bucket)).toBe(3);
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 5; i++) await publishAlone(writer, 's1', `event ${i}`);
  writer.publishNotification('s1', 'event 5');
  writer.publishNotification('s2', 'event 6');
  const event: RecordedEvent = { number: 7, timestamp: 0, focus: 'Task/t1', created: true, versionId: 1 };
  writer.publishEvent('s2', event);
  await eventually(() => heard.length >= 8, 'eight items');
  expect(heard).toEqual([0, 1, 2, 3, 4, 5].map((i) => `s1:event ${i}`).concat('s2:event 6', 's2:#7 Task/t1'));
});

test('a node taking delivery over numbers on; batches far behind the newest are deleted', async () => {
  const bucket = new MemoryBucket();
  const store = new MongoStore(new MingoDatabase(), bucket);
  const first = relay(store, { delivering: () => true });
  for (let i = 0; i < 230; i++) await publishAlone(first, 's', `first ${i}`);
  await first.stop();
  age(bucket);

  const heard: string[] = [];
  relay(store, { delivering: () => false, notify: (_id, text) => heard.push(text) });
  await new Promise((r) => setTimeout(r, 50));
  const second = relay(store, { delivering: () => true });
  await publishAlone(second, 's', 'second 0');
  await eventually(() => heard.length >= 1, 'the new node’s first notification');
  expect(heard).toEqual(['second 0']);
  const numbers = [...bucket.files.keys()].flatMap((k) => /relay:(\d+)\/1$/.exec(k)?.slice(1) ?? []).map(Number);
  expect(Math.max(...numbers)).toBe(230);
  expect(Math.min(...numbers)).toBe(31);
  // Nothing is written or read after stopping.
  await second.stop();
  second.publishNotification('s', 'after stop');
  await new Promise((r) => setTimeout(r, 50));
  expect(bucket.files.has('Binary/subscriptions:relay:231/1')).toBe(false);
});

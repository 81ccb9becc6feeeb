// The outbound queue survives a restart: orders queued while the lab is down are delivered by the next server
// on the same data directory, exactly once and in order; and a change committed but never handed to the
// router (a crash between commit and queueing, or a failed enqueue) is queued by the catch-up after restart.
import type { ServiceRequest } from '@medplum/fhirtypes';
import { CommitFeed } from '../../../../resources/commit-feed';
import { FakeHl7System, eventually, segmentField } from '../../../support/fake-hl7-system';
import type { Hl7TestServer } from '../../../support/hl7-server';
import { findFreePort } from '../../../support/ports';
import {
  channelSettings,
  closeServer,
  create,
  labOrder,
  orderParties,
  outbound,
  saveChannel,
  startHl7Server,
  waitForOutbound,
} from './harness';

let server: Hl7TestServer | undefined;
let lab: FakeHl7System | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await lab?.close();
  await closeServer(server); // also removes the data directory
  lab = undefined;
  server = undefined;
});

const placer = (request: ServiceRequest) => `${request.id}^HMS`;

/** A server with a lab-order channel named `lab` pointing at the port (nothing listens there yet). */
async function serverWithChannel(labPort: number, settings: Record<string, unknown> = {}) {
  server = await startHl7Server();
  dataDir = server.dataDir;
  // Enough attempts that no message reaches the error queue while the lab is away.
  await saveChannel(server, 'lab', channelSettings(labPort, { maxAttempts: 1000, retryMaxMs: 100, ...settings }));
  return { server, parties: await orderParties(server) };
}

/** Stops the server (keeping its data) and starts a new one on the same data directory. */
async function restart(): Promise<Hl7TestServer> {
  await server?.close();
  server = await startHl7Server({}, dataDir);
  return server;
}

test('orders queued while the lab is down are delivered after a restart, exactly once and in order', async () => {
  const labPort = await findFreePort();
  const { parties } = await serverWithChannel(labPort);
  const requests: ServiceRequest[] = [];
  for (let i = 0; i < 3; i++) requests.push(await create(server!, labOrder(parties, { note: [{ text: `#${i}` }] })));
  // Queued, and already tried (connection refused) at least once.
  await waitForOutbound(server!, 'lab', (m) => m.length === 3 && m[0].attempts > 0, 'three orders queued');
  expect((await outbound(server!, 'lab')).map((m) => m.status)).toEqual(['queued', 'queued', 'queued']);

  const next = await restart();
  lab = await FakeHl7System.start({ port: labPort });
  await waitForOutbound(next, 'lab', (m) => m.length === 3 && m.every((x) => x.status === 'sent'), 'all sent');
  // Every message is sent by now, so nothing more can arrive: each arrived once, in creation order.
  expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual(requests.map(placer));
  expect(new Set(lab.controlIds()).size).toBe(3);
});

test('a change committed while the feed did not see it is queued by the catch-up after a restart', async () => {
  lab = await FakeHl7System.start();
  const { parties } = await serverWithChannel(lab.port);
  const seen = await create(server!, labOrder(parties, { note: [{ text: 'seen' }] }));
  await lab.waitFor(1);

  // As if the process had died between the commit and the hand-over to the router.
  const services = server!.running.services;
  const commits = services.commits;
  services.commits = new CommitFeed();
  let missed: ServiceRequest;
  try {
    missed = await create(server!, labOrder(parties, { note: [{ text: 'missed' }] }));
  } finally {
    services.commits = commits;
  }
  expect(await outbound(server!, 'lab')).toHaveLength(1);

  const next = await restart();
  await waitForOutbound(next, 'lab', (m) => m.length === 2 && m[1].status === 'sent', 'the missed order sent');
  await lab.waitFor(2);
  expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([placer(seen), placer(missed)]);
});

test('a change whose queueing failed is not skipped: the feed replays it, before the later ones', async () => {
  lab = await FakeHl7System.start();
  const { parties } = await serverWithChannel(lab.port);
  const store = server!.bridge.store;
  const enqueue = store.enqueue.bind(store);
  // One failed write to the message store (disk full, database failover), then it works again.
  let failures = 0;
  store.enqueue = (message) =>
    failures++ === 0 ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : enqueue(message);
  let failed: ServiceRequest;
  let later: ServiceRequest;
  try {
    failed = await create(server!, labOrder(parties, { note: [{ text: 'enqueue failed' }] }));
    later = await create(server!, labOrder(parties, { note: [{ text: 'later' }] }));
    await eventually(() => failures > 0, 'the failed enqueue');
  } finally {
    store.enqueue = enqueue;
  }
  // The feed waits (it would replay from its mark a few seconds later); a restart replays at once.
  expect(await outbound(server!, 'lab')).toEqual([]);
  const next = await restart();
  await waitForOutbound(next, 'lab', (m) => m.length === 2 && m.every((x) => x.status === 'sent'), 'both sent');
  await lab.waitFor(2);
  expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([placer(failed), placer(later)]);
});

test('changes made before a channel existed are not sent to it by the catch-up after a restart', async () => {
  server = await startHl7Server();
  dataDir = server.dataDir;
  const parties = await orderParties(server);
  const before = await create(server, labOrder(parties, { note: [{ text: 'before the channel' }] }));
  lab = await FakeHl7System.start();
  await saveChannel(server, 'lab', channelSettings(lab.port));

  const next = await restart();
  const after = await create(next, labOrder(parties, { note: [{ text: 'after the channel' }] }));
  await waitForOutbound(next, 'lab', (m) => m.some((x) => x.status === 'sent'), 'the new order sent');
  await lab.waitFor(1);
  expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([placer(after)]);
  expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).not.toContain(placer(before));
  expect(await outbound(next, 'lab')).toHaveLength(1);
});

test('a message in flight at shutdown is sent again after the restart, not failed', async () => {
  lab = await FakeHl7System.start({ reply: 'silent' });
  // One attempt allowed: were the cut-off send counted, the message would be in the error queue.
  const { parties } = await serverWithChannel(lab.port, { maxAttempts: 1, ackTimeoutMs: 20_000 });
  await create(server!, labOrder(parties));
  await lab.waitFor(1);

  lab.reply = 'AA'; // for what comes next; the message in flight stays unanswered
  const next = await restart();
  const [sent] = await waitForOutbound(next, 'lab', (m) => m[0]?.status === 'sent', 'the message sent');
  expect(sent.attempts).toBe(1);
  expect(lab.controlIds()).toEqual([sent.controlId, sent.controlId]);
});

test('without a restart the feed replays a change whose queueing failed, a few seconds later', async () => {
  lab = await FakeHl7System.start();
  const { parties } = await serverWithChannel(lab.port);
  const store = server!.bridge.store;
  const enqueue = store.enqueue.bind(store);
  let failures = 0;
  store.enqueue = (message) => (failures++ === 0 ? Promise.reject(new Error('store unavailable')) : enqueue(message));
  try {
    const failed = await create(server!, labOrder(parties, { note: [{ text: 'enqueue failed' }] }));
    const later = await create(server!, labOrder(parties, { note: [{ text: 'later' }] }));
    await lab.waitFor(2, 15_000);
    expect(lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([placer(failed), placer(later)]);
  } finally {
    store.enqueue = enqueue;
  }
});

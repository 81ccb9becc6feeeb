// Two app nodes over one MongoDB (the adapter on one in-memory database): the delivery job runs on one node at
// a time, which reads the other node's commits from the write log, so each event is delivered exactly once and
// numbered in one sequence; when that node stops, the other takes the job over and numbers on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters, Subscription, Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { BACKPORT } from '../../../resources/subscriptions/definition';
import { SUBSCRIPTION_DELIVERY_TASK } from '../../../resources/subscriptions/delivery-job';
import { closeServices, openServices } from '../../../server/services';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import { taskTopicSubscription } from './task-subscription';

const events: { number: number; focus: string }[] = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    const status = (JSON.parse(body) as Bundle).entry?.[0].resource as Parameters;
    for (const p of status.parameter ?? []) {
      if (p.name !== 'notification-event') continue;
      events.push({
        number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
        focus: (p.part?.find((x) => x.name === 'focus')?.valueReference?.reference ?? '').replace(/^.*\/fhir\//, ''),
      });
    }
    res.writeHead(200).end();
  });
});

beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what} (events ${JSON.stringify(events)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const task = (id: string): Task => ({ resourceType: 'Task', id, status: 'requested', intent: 'order' });
const repo = (services: RepositoryServices) => new Repository(services, SYSTEM_ACCESS);

/** Two app nodes on one database, with short timings (the store is given: no data directory is opened). */
async function twoNodes(): Promise<RepositoryServices[]> {
  const database = new MingoDatabase();
  const bucket = new MemoryBucket();
  const node = () =>
    openServices({
      dataDir: '',
      store: new MongoStore(database, bucket),
      jobs: { pollIntervalMs: 50 },
      subscriptionDelivery: { checkpointMs: 20, progressMs: 20, relayPollMs: 20, followMs: 50 },
      hmsSecret: 'a secret the two nodes share, long enough',
    });
  return [await node(), await node()];
}

test('each event is delivered once, by the node that holds the delivery job, and numbering survives a takeover', async () => {
  const nodes = await twoNodes();
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const subscription = taskTopicSubscription(endpoint);
    const { stored } = await repo(nodes[1]).create('Subscription', subscription);
    const statusOf = async () =>
      (JSON.parse((await nodes[0].store.readCurrent('Subscription', stored.id))!.json!) as Subscription).status;
    await eventually(async () => (await statusOf()) === 'active', 'the subscription active');

    await repo(nodes[0]).update('Task', 'a1', task('a1'));
    await repo(nodes[1]).update('Task', 'b1', task('b1'));
    await repo(nodes[0]).update('Task', 'a2', task('a2'));
    await repo(nodes[1]).update('Task', 'b2', task('b2'));
    await eventually(() => events.length >= 4, 'four events');
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => e.number)).toEqual([1, 2, 3, 4]);
    expect(events.map((e) => e.focus).sort()).toEqual(['Task/a1', 'Task/a2', 'Task/b1', 'Task/b2']);

    // The node holding the job stops; the other one takes it over and numbers on from the checkpoint.
    const job = JSON.parse((await nodes[0].store.readCurrent('Task', SUBSCRIPTION_DELIVERY_TASK))!.json!) as Task;
    const ownerExtension = job.extension?.find((e) => e.url.endsWith('job-owner'))?.valueString ?? '';
    const holders = await Promise.all(nodes.map((n) => holdsJob(n, ownerExtension)));
    const leaving = holders.indexOf(true);
    expect(leaving).toBeGreaterThanOrEqual(0);
    await closeServices(nodes[leaving]);
    const staying = nodes[1 - leaving];
    nodes.splice(leaving, 1);
    await repo(staying).update('Task', 'c1', task('c1'));
    await eventually(() => events.length >= 5, 'the event after the takeover');
    await new Promise((r) => setTimeout(r, 300));
    expect(events.slice(4)).toEqual([{ number: 5, focus: 'Task/c1' }]);
  } finally {
    for (const services of nodes) await closeServices(services);
  }
}, 60_000);

test('a websocket bound on either node hears each event once, with a token from the other node; $status and $events agree', async () => {
  const nodes = await twoNodes();
  try {
    const subscription: Subscription = {
      ...taskTopicSubscription('unused'),
      channel: {
        type: 'websocket',
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
      } as Subscription['channel'],
    };
    const { stored } = await repo(nodes[0]).create('Subscription', subscription);
    const statusOf = async () =>
      (JSON.parse((await nodes[1].store.readCurrent('Subscription', stored.id))!.json!) as Subscription).status;
    await eventually(async () => (await statusOf()) === 'active', 'the subscription active');

    // The token comes from one node; a socket binds with it on each node.
    const { token } = await repo(nodes[0]).subscriptionBindingToken([stored.id]);
    const heard: string[][] = [[], []];
    nodes.forEach((services, i) => {
      const bound = services.subscriptions!.bindSocket(token, {
        send: (text) => heard[i].push(text),
        onClose: () => undefined,
      });
      expect(bound).toBe(true);
    });
    const focusNumbers = (texts: string[]) =>
      texts
        .map((text) => (JSON.parse(text) as Bundle).entry?.[0].resource as Parameters)
        .filter((status) => status.parameter?.some((p) => p.name === 'type' && p.valueCode === 'event-notification'))
        .map((status) => {
          const event = status.parameter?.find((p) => p.name === 'notification-event');
          const focus = event?.part?.find((x) => x.name === 'focus')?.valueReference?.reference ?? '';
          return `${event?.part?.find((x) => x.name === 'event-number')?.valueString} ${focus.replace(/^.*\/fhir\//, '')}`;
        });
    await repo(nodes[0]).update('Task', 'w1', task('w1'));
    await repo(nodes[1]).update('Task', 'w2', task('w2'));
    await eventually(
      () => focusNumbers(heard[0]).length >= 2 && focusNumbers(heard[1]).length >= 2,
      'both sockets hear both events',
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const texts of heard) expect(focusNumbers(texts).sort()).toEqual(['1 Task/w1', '2 Task/w2']);
    // A forged or altered token binds nothing.
    const forged = `${token.slice(0, -2)}xx`;
    expect(nodes[1].subscriptions!.bindSocket(forged, { send: () => undefined, onClose: () => undefined })).toBe(false);
    // Each socket had its handshake, and $status says the same count on both nodes.
    for (const texts of heard) expect(texts[0]).toContain('"valueCode":"handshake"');
    const counts = () =>
      Promise.all(nodes.map(async (n) => (await repo(n).subscriptionStatus(stored.id)).state.eventsSinceStart));
    await eventually(async () => (await counts()).every((count) => count === 2), '$status counts 2 on both nodes');
    // $events answers the same on the node that does not deliver.
    for (const services of nodes) {
      const { events: recent } = await repo(services).subscriptionEvents(stored.id);
      expect(recent.map((e) => `${e.number} ${e.focus}`)).toEqual(['1 Task/w1', '2 Task/w2']);
    }

    // The delivering node stops: the other takes the job over, and its own socket hears the next event.
    const job = JSON.parse((await nodes[0].store.readCurrent('Task', SUBSCRIPTION_DELIVERY_TASK))!.json!) as Task;
    const owner = job.extension?.find((e) => e.url.endsWith('job-owner'))?.valueString ?? '';
    const leaving = (await Promise.all(nodes.map((n) => holdsJob(n, owner)))).indexOf(true);
    expect(leaving).toBeGreaterThanOrEqual(0);
    await closeServices(nodes[leaving]);
    const staying = 1 - leaving;
    await repo(nodes[staying]).update('Task', 'w3', task('w3'));
    await eventually(() => focusNumbers(heard[staying]).length >= 3, 'the event after the takeover');
    expect(focusNumbers(heard[staying]).sort()).toEqual(['1 Task/w1', '2 Task/w2', '3 Task/w3']);
    nodes.splice(leaving, 1);
  } finally {
    for (const services of nodes) await closeServices(services);
  }
}, 60_000);

/** Whether this node's runner holds the job: its node id is the lease owner. */
async function holdsJob(services: RepositoryServices, owner: string): Promise<boolean> {
  const runner = services.jobs as unknown as { settings: { nodeId: string } };
  return runner.settings.nodeId === owner;
}

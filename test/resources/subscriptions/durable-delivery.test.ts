// Subscription delivery is a resident job whose checkpoint survives restarts: writes committed while no node
// delivered (the server down after a crash, here a bare store without the engine) are replayed from the write
// log at the next start and notified with the numbers that follow the saved count; deletions notify too.
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters, Task } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { CommitFeed } from '../../../resources/commit-feed';
import { InlinePreparer } from '../../../resources/prepare/preparer';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { openStore } from '../../../resources/store';
import { SUBSCRIPTION_DELIVERY_TASK } from '../../../resources/subscriptions/delivery-job';
import { closeServices, openServices, type ServiceSettings } from '../../../server/services';
import { tempDir } from '../../support/app';
import { taskTopicSubscription } from './task-subscription';

interface Notified {
  type: string;
  events: { number: number; focus: string; method?: string }[];
}

class Receiver {
  readonly notifications: Notified[] = [];
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      this.notifications.push(readNotification(JSON.parse(body) as Bundle));
      res.writeHead(200).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  events(): Notified['events'] {
    return this.notifications.filter((n) => n.type === 'event-notification').flatMap((n) => n.events);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function readNotification(bundle: Bundle): Notified {
  const status = bundle.entry?.[0].resource as Parameters;
  const type = status.parameter?.find((p) => p.name === 'type')?.valueCode ?? '';
  const events = (status.parameter ?? [])
    .filter((p) => p.name === 'notification-event')
    .map((p) => ({
      number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
      focus: (p.part?.find((x) => x.name === 'focus')?.valueReference?.reference ?? '').replace(/^.*\/fhir\//, ''),
    }));
  const methods = (bundle.entry ?? []).slice(1).map((e) => e.request?.method);
  return { type, events: events.map((e, i) => ({ ...e, method: methods[i] })) };
}

async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not in time: ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const task = (id: string): Task => ({ resourceType: 'Task', id, status: 'requested', intent: 'order' });

/** Writes through a repository over the bare store: commits no subscription engine hears of. */
async function writeWithoutEngine(settings: ServiceSettings, work: (repo: Repository) => Promise<void>) {
  const store = await openStore(settings);
  const registry = SearchParameterRegistry.withBaseParameters();
  const services: RepositoryServices = {
    store,
    registry,
    preparer: new InlinePreparer(registry),
    commits: new CommitFeed(),
  };
  try {
    await work(new Repository(services, SYSTEM_ACCESS));
  } finally {
    await store.close();
  }
}

test('the delivery job replays what was written while nobody delivered, numbering on from its checkpoint', async () => {
  const receiver = new Receiver();
  const endpoint = await receiver.start();
  const dataDir = tempDir('hms-subscription-durable-');
  const settings: ServiceSettings = {
    dataDir,
    sqliteSynchronous: 'NORMAL',
    subscriptionDelivery: { checkpointMs: 20, progressMs: 20 },
  };
  try {
    let services = await openServices(settings);
    let repo = new Repository(services, SYSTEM_ACCESS);
    const subscription = taskTopicSubscription(endpoint);
    const { stored } = await repo.create('Subscription', subscription);
    await eventually(
      () => receiver.notifications.map((n) => n.type),
      (types) => types.includes('handshake'),
      'the handshake',
    );
    await repo.update('Task', 't1', task('t1'));
    await repo.update('Task', 't2', task('t2'));
    await eventually(
      () => receiver.events(),
      (e) => e.length === 2,
      'two events',
    );
    const deliveryTask = async () =>
      JSON.parse((await services.store.readCurrent('Task', SUBSCRIPTION_DELIVERY_TASK))!.json!) as Task;
    const saved = await eventually(
      deliveryTask,
      (t) => t.output?.find((o) => o.type?.text === 'events delivered')?.valueInteger === 2,
      'a checkpoint with both events delivered',
    );
    expect(saved).toMatchObject({ status: 'in-progress', code: { text: 'subscription delivery' } });
    await closeServices(services);

    await writeWithoutEngine(settings, async (bare) => {
      await bare.update('Task', 't3', task('t3'));
      await bare.update('Patient', 'p', { resourceType: 'Patient', id: 'p' });
      await bare.update('Task', 't4', task('t4'));
      await bare.update('Task', 't1', { ...task('t1'), status: 'in-progress' });
    });

    services = await openServices(settings);
    repo = new Repository(services, SYSTEM_ACCESS);
    const events = await eventually(
      () => receiver.events(),
      (e) => e.length === 5,
      'the replayed events',
    );
    expect(events.map((e) => `${e.number} ${e.focus} ${e.method}`)).toEqual([
      '1 Task/t1 POST',
      '2 Task/t2 POST',
      '3 Task/t3 POST',
      '4 Task/t4 POST',
      '5 Task/t1 PUT',
    ]);
    // No second handshake for a subscription that was active before.
    expect(receiver.notifications.filter((n) => n.type === 'handshake')).toHaveLength(1);

    await repo.delete('Task', 't2');
    const all = await eventually(
      () => receiver.events(),
      (e) => e.length === 6,
      'the deletion',
    );
    expect(all[5]).toEqual({ number: 6, focus: 'Task/t2', method: 'DELETE' });
    expect((await repo.subscriptionStatus(stored.id)).state.eventsSinceStart).toBe(6);
    expect(services.subscriptions?.recentEvents(stored.id)?.map((e) => e.number)).toEqual([3, 4, 5, 6]);
    await closeServices(services);
  } finally {
    await receiver.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

// The dispatcher on its own, against a fake lab and a queue store with network-like latency (as MongoDB has):
// a message queued while the dispatcher is looking at the queue is not left for the idle minute, stop() does
// not wait for that minute either, a store failure does not end delivery, and a stop cutting a send short is
// not counted as a failed attempt.
import { parseChannel, type OutboundChannel } from '../../../../integrations/hl7v2/channels';
import { Dispatcher } from '../../../../integrations/hl7v2/outbound/dispatcher';
import type {
  MessageChange,
  MessageQuery,
  MessageStore,
  StoredMessage,
} from '../../../../integrations/hl7v2/message-store/port';
import { FakeHl7System, eventually } from '../../../support/fake-hl7-system';

/** The few queue operations the dispatcher uses; each answers with the state at call time, `latencyMs` later. */
class SlowQueue {
  readonly messages: StoredMessage[] = [];
  latencyMs = 100;
  failUpdates = 0;

  add(controlId: string): StoredMessage {
    const text = `MSH|^~\\&|HMS|HOSPITAL|LIS|LAB|20240305090000||OML^O21^OML_O21|${controlId}|P|2.5.1\rPID|1||X^^^HOSP^MR`;
    const message: StoredMessage = {
      id: String(this.messages.length + 1),
      channel: 'unit',
      direction: 'out',
      receivedAt: Date.now(),
      updatedAt: Date.now(),
      status: 'queued',
      raw: Buffer.from(text),
      sendingApplication: 'HMS',
      sendingFacility: 'HOSPITAL',
      controlId,
      type: 'OML^O21',
      contentHash: '',
      attempts: 0,
    };
    this.messages.push(message);
    return message;
  }

  nextQueued(channel: string): Promise<StoredMessage | undefined> {
    const head = this.messages.find((m) => m.channel === channel && m.status === 'queued');
    return this.later(head && { ...head });
  }

  search(query: MessageQuery): Promise<StoredMessage[]> {
    const found = this.messages.filter((m) => m.channel === query.channel && query.status?.includes(m.status));
    return this.later(found.slice(0, query.count));
  }

  async update(id: string, change: MessageChange): Promise<StoredMessage> {
    if (this.failUpdates > 0) {
      this.failUpdates--;
      await this.later(undefined);
      throw new Error('store unavailable');
    }
    const message = this.messages.find((m) => m.id === id) as StoredMessage;
    const { nextAttemptAt, error, ...rest } = change;
    Object.assign(message, rest, { nextAttemptAt: nextAttemptAt ?? undefined, error: error ?? undefined });
    return this.later({ ...message });
  }

  private later<T>(value: T): Promise<T> {
    return new Promise((resolve) => setTimeout(() => resolve(value), this.latencyMs));
  }
}

let lab: FakeHl7System;
let queue: SlowQueue;
let dispatcher: Dispatcher | undefined;

beforeEach(async () => {
  lab = await FakeHl7System.start();
  queue = new SlowQueue();
});
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await lab.close();
});

function start(settings: Record<string, unknown> = {}): Dispatcher {
  const channel = parseChannel({
    id: 'unit',
    direction: 'outbound',
    host: '127.0.0.1',
    port: lab.port,
    events: ['lab-order'],
    ackTimeoutMs: 500,
    retryBaseMs: 20,
    retryMaxMs: 100,
    maxAttempts: 3,
    ...settings,
  }) as OutboundChannel;
  dispatcher = new Dispatcher(channel, queue as unknown as MessageStore);
  dispatcher.start();
  return dispatcher;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a message queued while the dispatcher looks at the empty queue is sent at once', async () => {
  const running = start();
  // The loop reads the queue at 0 ms (answer at 100) and again at 100 ms (answer at 200), then sleeps: a
  // message queued and poked in between must not wait for the idle minute.
  await sleep(150);
  queue.add('LATE-1');
  running.poke();
  await lab.waitFor(1, 3000);
  await eventually(() => queue.messages[0].status === 'sent', 'the message marked sent', 3000);
});

test('stop() while the dispatcher is reading the queue returns promptly', async () => {
  const running = start();
  await sleep(50);
  const began = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([running.stop(), new Promise((resolve) => (timer = setTimeout(resolve, 3000)))]);
  clearTimeout(timer);
  expect(Date.now() - began).toBeLessThan(1000);
  expect(running.state).toBe('stopped');
});

test('a message-store failure does not end delivery: the message is sent again and recorded', async () => {
  queue.latencyMs = 5;
  queue.add('STORE-1');
  queue.failUpdates = 1; // recording the first AA fails
  start();
  await lab.waitFor(2, 3000);
  expect(lab.controlIds()).toEqual(['STORE-1', 'STORE-1']);
  await eventually(() => queue.messages[0].status === 'sent', 'the message marked sent', 3000);
});

test('a send cut short by stop() is not counted as an attempt and stays queued', async () => {
  queue.latencyMs = 5;
  lab.reply = 'silent';
  const message = queue.add('INFLIGHT-1');
  const running = start({ ackTimeoutMs: 10_000, maxAttempts: 1 });
  await lab.waitFor(1, 3000);
  await running.stop();
  expect(message).toMatchObject({ status: 'queued', attempts: 0 });
  expect(message.error).toBeUndefined();
});

test('a CE (commit error) is retried with the same control id, not failed', async () => {
  queue.latencyMs = 5;
  lab.next('CE');
  const message = queue.add('CE-1');
  start();
  await eventually(() => message.status === 'sent', 'the message sent after the CE', 3000);
  expect(lab.controlIds()).toEqual(['CE-1', 'CE-1']);
  expect(message.attempts).toBe(2);
});

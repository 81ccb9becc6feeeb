// What the delivering node tells the other app nodes (MongoDB): one node delivers (it holds the delivery job),
// but a browser's websocket may be bound on any node, and `$events` may be asked of any node. The delivering
// node writes its websocket notifications and the events it records, a batch at a time, to the store's blob
// storage under consecutive numbers; every other node reads the next number now and then, passes each
// notification to its own sockets and keeps the events for `$events`. A head, saved every few batches in two
// slots, tells a node that starts reading, or starts delivering, where the numbers stand; a node that starts
// reading skips what was published before (with a margin for the nodes' clocks); old batches are deleted behind
// the writer. What is published reaches the other nodes within about one poll interval.
import type { ResourceStore } from '../store/port';
import type { RecordedEvent } from './state';

/** A colon is not allowed in FHIR ids: no Binary has these keys. */
const PREFIX = 'subscriptions:relay:';
const HEAD_SLOTS = [`${PREFIX}head:0`, `${PREFIX}head:1`];
const VERSION = 1;
/** Batches between two saves of the head; a reader starting from the head probes at most this many keys. */
const HEAD_EVERY = 20;
/** Batches kept behind the newest: several head intervals, so a slow reader still finds what it has not read. */
const RETAINED = 200;
/** A node starting to read takes batches published up to this long before (clocks of nodes differ a little). */
const CLOCK_MARGIN_MS = 2000;

/** A websocket notification (`t`, as sent) or a recorded event (`e`) of subscription `s`. */
type Relayed = { s: string; t: string } | { s: string; e: RecordedEvent };

interface Batch {
  /** when it was published, epoch ms */
  at: number;
  items: Relayed[];
}

export interface RelaySettings {
  pollMs: number;
  /** Whether this node delivers now (it writes, the others read). */
  delivering(): boolean;
  /** Passes a notification from the delivering node to this node's sockets of the subscription. */
  notify(subscriptionId: string, text: string): void;
  /** An event the delivering node recorded. */
  recorded(subscriptionId: string, event: RecordedEvent): void;
}

export class EventRelay {
  private waiting: Relayed[] = [];
  private writing?: Promise<void>;
  /** The next batch number to write, once known. */
  private nextWrite?: number;
  /** The next batch number to read, while reading. */
  private nextRead?: number;
  /** Batches published before this are not for this node (it was not reading then). */
  private readSince = 0;
  private timer?: NodeJS.Timeout;
  private reading = false;
  private stopped = false;

  constructor(
    private readonly store: ResourceStore,
    private readonly settings: RelaySettings,
  ) {}

  /** Reads what the delivering node publishes whenever this node does not deliver. */
  start(): void {
    this.timer = setInterval(() => void this.poll(), this.settings.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.writing;
  }

  /** On the delivering node: a websocket notification, for the other nodes' sockets. */
  publishNotification(subscriptionId: string, text: string): void {
    this.publish({ s: subscriptionId, t: text });
  }

  /** On the delivering node: an event it recorded, for the other nodes' `$events`. */
  publishEvent(subscriptionId: string, event: RecordedEvent): void {
    this.publish({ s: subscriptionId, e: event });
  }

  private publish(item: Relayed): void {
    if (this.stopped) return;
    this.waiting.push(item);
    this.writing ??= this.writeAll().finally(() => (this.writing = undefined));
  }

  /** Writes what waits, a batch at a time; what is published meanwhile goes into the next batch. */
  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) {
      const items = this.waiting;
      this.waiting = [];
      try {
        this.nextWrite ??= await this.end();
        const number = this.nextWrite;
        await this.put(`${PREFIX}${number}`, { at: Date.now(), items } satisfies Batch);
        this.nextWrite = number + 1;
        if (number % HEAD_EVERY === 0) await this.saveHead(number);
        if (number >= RETAINED) await this.remove(`${PREFIX}${number - RETAINED}`);
      } catch {
        // The store is busy or closing: these are lost to the other nodes (a websocket notification is never
        // acknowledged or retried; `$events` there misses them), and the number is found again from the head.
        this.nextWrite = undefined;
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.reading || this.stopped) return;
    if (this.settings.delivering()) {
      this.nextRead = undefined;
      return;
    }
    this.reading = true;
    try {
      if (this.nextRead === undefined) {
        this.readSince = Date.now() - CLOCK_MARGIN_MS;
        this.nextRead = await this.head();
      }
      for (;;) {
        const batch = await this.get<Batch>(`${PREFIX}${this.nextRead}`);
        if (!batch || !Array.isArray(batch.items)) break;
        if (batch.at >= this.readSince) for (const item of batch.items) this.pass(item);
        this.nextRead++;
      }
    } catch {
      // The store is busy: the next poll tries again.
    } finally {
      this.reading = false;
    }
  }

  private pass(item: Relayed): void {
    if ('t' in item) this.settings.notify(item.s, item.t);
    else this.settings.recorded(item.s, item.e);
  }

  /** The first batch number not written yet: from the saved head, past every batch written since. */
  private async end(): Promise<number> {
    let number = await this.head();
    while (await this.get(`${PREFIX}${number}`)) number++;
    return number;
  }

  /** The number of a batch written at most HEAD_EVERY batches ago (0 before any). */
  private async head(): Promise<number> {
    let number = 0;
    for (const slot of HEAD_SLOTS) {
      const head = await this.get<number>(slot);
      if (typeof head === 'number' && head > number) number = head;
    }
    return number;
  }

  /** The head slot written is the one not holding the previous head, emptied first (see checkpoint-store.ts). */
  private async saveHead(number: number): Promise<void> {
    const slot = HEAD_SLOTS[(number / HEAD_EVERY) % HEAD_SLOTS.length];
    await this.remove(slot);
    await this.put(slot, number);
  }

  private async get<T extends Batch | number>(key: string): Promise<T | undefined> {
    const bytes = await this.store.readBinaryData?.(key, VERSION);
    if (!bytes || bytes.length === 0) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private put(key: string, value: Batch | number): Promise<void> {
    const bytes = Buffer.from(JSON.stringify(value));
    return this.store.transaction(async (tx) => {
      if (!tx.writeBinaryData) throw new Error('This store keeps no blobs');
      await tx.writeBinaryData(key, VERSION, bytes);
    });
  }

  private remove(key: string): Promise<void> {
    return this.store.transaction(async (tx) => {
      await tx.deleteBinaryData?.(key, VERSION);
    });
  }
}

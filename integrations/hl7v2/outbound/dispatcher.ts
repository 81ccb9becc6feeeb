// Delivers one outbound channel's queue over MLLP: one message in flight, the ACK matched on MSA-2, a
// timeout, retries with exponential backoff and the same MSH-10 (also after a CE, "send it again later").
// AE/AR (and a message failing maxAttempts times) go to the error queue; the rest of the queue moves on
// unless the channel keeps strict order, where the failed message holds the queue until a person resends or
// discards it. A shutdown cutting a send short counts no attempt; a message-store failure is retried.
// An application ACK (enhanced mode, MSH-16) is itself never acknowledged: it is sent once written.
import type { OutboundChannel } from '../channels';
import { MllpClient } from '../mllp/client';
import type { MessageStore, StoredMessage } from '../message-store/port';

export type DispatcherState = 'idle' | 'sending' | 'waiting' | 'held' | 'stopped';

const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface DispatcherHooks {
  failed?(channel: string, message: StoredMessage): void;
}

export class Dispatcher {
  state: DispatcherState = 'idle';
  private client?: MllpClient;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  // Set by poke(): the queue may have changed since the loop last looked, so it must not go to sleep.
  private poked = false;
  private storeFailures = 0;

  constructor(
    private channel: OutboundChannel,
    private readonly store: MessageStore,
    private readonly hooks: DispatcherHooks = {},
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** New settings apply from the next message; a changed address reconnects. */
  reconfigure(channel: OutboundChannel): void {
    const moved = channel.host !== this.channel.host || channel.port !== this.channel.port;
    this.channel = channel;
    if (moved) this.disconnect();
    this.poke();
  }

  /** Something was queued or released: look at the queue now (or as soon as the current step ends). */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    this.disconnect();
    await this.running;
    // A connection still being opened when stop() began is closed here.
    this.disconnect();
    this.state = 'stopped';
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.poked = false;
      try {
        const next = await this.nextToSend();
        if (!next) {
          await this.sleep(await this.untilNextDue());
          continue;
        }
        this.state = 'sending';
        await this.attempt(next);
        this.storeFailures = 0;
      } catch {
        // The message store failed (the MLLP side never throws here): back off and look again, rather than
        // end the loop (and with it every later delivery) on an unhandled rejection.
        this.storeFailures++;
        const { retryBaseMs, retryMaxMs } = this.channel;
        await this.sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(this.storeFailures - 1, 20)), true);
      }
    }
  }

  /** The head of the queue when it may be sent now; later messages wait behind it while it is retried. */
  private async nextToSend(): Promise<StoredMessage | undefined> {
    if (!this.channel.enabled) return undefined;
    if (this.channel.strictOrder && (await this.hasErrors())) {
      this.state = 'held';
      return undefined;
    }
    const head = await this.store.nextQueued(this.channel.id);
    this.state = head ? 'waiting' : 'idle';
    return head && (head.nextAttemptAt ?? 0) <= Date.now() ? head : undefined;
  }

  private async hasErrors(): Promise<boolean> {
    const errors = await this.store.search({ channel: this.channel.id, direction: 'out', status: ['error'], count: 1 });
    return errors.length > 0;
  }

  /** Milliseconds until the head may be tried again (a minute when nothing waits or the queue is held). */
  private async untilNextDue(): Promise<number> {
    if (this.state === 'held' || !this.channel.enabled) return 60_000;
    const head = await this.store.nextQueued(this.channel.id);
    if (!head) return 60_000;
    return Math.max(10, (head.nextAttemptAt ?? 0) - Date.now());
  }

  private async attempt(message: StoredMessage): Promise<void> {
    const attempts = message.attempts + 1;
    let reply: Buffer | undefined;
    try {
      const client = await this.connect();
      if (isAck(message)) await client.post(message.raw);
      else {
        reply = await client.send(message.raw, {
          timeoutMs: this.channel.ackTimeoutMs,
          accept: (frame) => ackControlId(frame) === message.controlId,
        });
      }
    } catch (error) {
      this.disconnect();
      // Cut off by stop(): not the receiver's failure, so no attempt is counted; it is sent again after the
      // restart, with the same MSH-10.
      if (this.stopped) return;
      await this.retryLater(message, attempts, (error as Error).message);
      return;
    }
    if (!reply) {
      await this.store.update(
        message.id,
        { status: 'sent', attempts, nextAttemptAt: null, error: null },
        { at: Date.now(), status: 'sent', actor: 'sender', detail: 'Acknowledgment sent; it gets no reply' },
      );
      return;
    }
    const ack = reply.toString('utf8');
    const code = /(?:^|\r)MSA\|([A-Z]{2})/.exec(ack)?.[1] ?? '';
    if (code === 'CE') {
      // Enhanced mode "commit error": the receiver could not store it now and asks for it again later.
      await this.retryLater(message, attempts, `The receiver answered CE${errText(ack)}`);
      return;
    }
    if (code === 'AA' || code === 'CA') {
      await this.store.update(
        message.id,
        { status: 'sent', ack, attempts, nextAttemptAt: null, error: null },
        { at: Date.now(), status: 'sent', actor: 'sender', detail: code },
      );
      return;
    }
    const text = `The receiver answered ${code || 'without MSA-1'}${errText(ack)}`;
    await this.fail(message, attempts, { reason: 'nak', code: errCode(ack), text }, ack);
  }

  private async retryLater(message: StoredMessage, attempts: number, why: string): Promise<void> {
    if (attempts >= this.channel.maxAttempts) {
      await this.fail(message, attempts, { reason: 'transport', text: `No ACK after ${attempts} attempts: ${why}` });
      return;
    }
    const delay = Math.min(this.channel.retryMaxMs, this.channel.retryBaseMs * 2 ** (attempts - 1));
    await this.store.update(
      message.id,
      { attempts, nextAttemptAt: Date.now() + delay },
      { at: Date.now(), status: 'attempt', actor: 'sender', detail: why },
    );
  }

  private async fail(
    message: StoredMessage,
    attempts: number,
    error: NonNullable<StoredMessage['error']>,
    ack?: string,
  ): Promise<void> {
    const failed = await this.store.update(
      message.id,
      { status: 'error', attempts, error, nextAttemptAt: null, ...(ack ? { ack } : {}) },
      { at: Date.now(), status: 'error', actor: 'sender', detail: error.text },
    );
    this.hooks.failed?.(this.channel.id, failed);
  }

  private async connect(): Promise<MllpClient> {
    if (this.client && !this.client.closed) return this.client;
    const { host, port, tls, ackTimeoutMs } = this.channel;
    this.client = await MllpClient.connect({
      host,
      port,
      tls,
      connectTimeoutMs: Math.min(ackTimeoutMs, 10_000),
      maxFrameBytes: MAX_FRAME_BYTES,
    });
    return this.client;
  }

  private disconnect(): void {
    this.client?.close();
    this.client = undefined;
  }

  /** Waits, unless poked since the loop last looked at the queue (`always`: back-off that a poke only cuts short). */
  private sleep(ms: number, always = false): Promise<void> {
    if (this.stopped || (this.poked && !always)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.timer = setTimeout(done, ms);
    });
  }
}

const isAck = (message: StoredMessage) => message.type === 'ACK' || message.type.startsWith('ACK^');

/** MSA-2 of an ACK frame: the control id it answers. */
function ackControlId(frame: Buffer): string | undefined {
  return /(?:^|\r)MSA\|[^|\r]*\|([^|\r]*)/.exec(frame.toString('latin1'))?.[1];
}

function errCode(ack: string): string | undefined {
  return /(?:^|\r)ERR\|[^|\r]*\|[^|\r]*\|(\d+)/.exec(ack)?.[1];
}

function errText(ack: string): string {
  const err = /(?:^|\r)ERR\|([^\r]*)/.exec(ack)?.[1]?.split('|');
  const text = err?.[7] || err?.[2]?.split('^')[1] || /(?:^|\r)MSA\|[^|]*\|[^|]*\|([^|\r]*)/.exec(ack)?.[1];
  return text ? `: ${text}` : '';
}

// Applies stored inbound messages in the order they arrived for each patient of a channel (a preliminary
// result must not overtake its final), up to a few patients at once so the store's group commit and the
// validation workers overlap; records each outcome in the message store, and resumes after a restart with
// whatever was stored but not yet applied.
import type { RepositoryServices } from '../../../resources/repository';
import type { InboundChannel } from '../channels';
import type { V2Message } from '../message/v2-message';
import type { MessageStore, StoredMessage } from '../message-store/port';
import { applyMessage, type ApplyResult } from './apply';

export interface ProcessorHooks {
  /** Called after each message with its final status, for counters and alerts (no message content). */
  processed?(channel: string, message: StoredMessage): void;
  /** An unexpected failure (a bug or the store failing): logged by the caller without message content. */
  failed?(channel: string, error: unknown): void;
}

/** Messages of one channel applied at once (each about another patient). */
const PARALLEL_PER_CHANNEL = 4;

export class InboundProcessor {
  /** The last queued message per channel and patient: the next one of that patient waits for it. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly slots = new Map<string, Slots>();

  constructor(
    private readonly store: MessageStore,
    private readonly services: RepositoryServices,
    private readonly baseUrl: string,
    private readonly hooks: ProcessorHooks = {},
  ) {}

  /**
   * Queues a stored message behind the earlier ones of its channel and patient; resolves once applied. The
   * receiver passes the message it has just parsed, which spares parsing the stored bytes again.
   */
  process(
    channel: InboundChannel,
    message: StoredMessage,
    options: { actor?: string; parsed?: V2Message } = {},
  ): Promise<StoredMessage> {
    const actor = options.actor ?? 'processor';
    const key = chainKey(channel.id, message.patientId);
    const slots = this.slotsOf(channel.id);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const run = previous.then(() => slots.run(() => this.applyAndRecord(channel, message, actor, options.parsed)));
    const settled = run.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return run;
  }

  /** Queues every stored but unapplied message of the channels (after a restart or crash). */
  async resume(channels: readonly InboundChannel[]): Promise<number> {
    let queued = 0;
    for (const channel of channels) {
      for (const message of await this.store.unprocessed(channel.id)) {
        void this.process(channel, message).catch((error: unknown) => this.hooks.failed?.(channel.id, error));
        queued++;
      }
    }
    return queued;
  }

  /** Resolves once every message queued on the channel so far has been applied. */
  async drained(channelId: string): Promise<void> {
    const prefix = chainKey(channelId, undefined);
    await Promise.all([...this.chains].filter(([key]) => key.startsWith(prefix)).map(([, chain]) => chain));
  }

  /** Resolves when every queued message has been applied. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private slotsOf(channelId: string): Slots {
    let slots = this.slots.get(channelId);
    if (!slots) this.slots.set(channelId, (slots = new Slots(PARALLEL_PER_CHANNEL)));
    return slots;
  }

  private apply(channel: InboundChannel, message: StoredMessage, parsed?: V2Message): Promise<ApplyResult> {
    return safely(
      () => applyMessage(this.services, this.baseUrl, channel, message, parsed),
      (error) => this.hooks.failed?.(channel.id, error),
    );
  }

  private async applyAndRecord(
    channel: InboundChannel,
    message: StoredMessage,
    actor: string,
    parsed?: V2Message,
  ): Promise<StoredMessage> {
    const result = await this.apply(channel, message, parsed);
    const updated = await this.store.update(message.id, changeFor(result), {
      at: Date.now(),
      status: result.ok ? 'processed' : 'error',
      actor,
      ...(result.ok ? { detail: summary(result) } : { detail: `${result.error.reason}: ${result.error.text}` }),
    });
    this.hooks.processed?.(channel.id, updated);
    return updated;
  }
}

const chainKey = (channel: string, patientId: string | undefined) => `${channel}\u0000${patientId ?? ''}`;

/** At most `size` pieces of work at a time; the rest wait in arrival order. */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** An unexpected failure puts the message in the error queue (reason store) instead of losing track of it. */
async function safely(work: () => Promise<ApplyResult>, onError: (error: unknown) => void): Promise<ApplyResult> {
  try {
    return await work();
  } catch (error) {
    onError(error);
    return { ok: false, error: { reason: 'store', code: '207', text: 'Internal error while applying the message' } };
  }
}

/**
 * The stages' outputs kept with the message: what it wrote (the versions themselves are in the FHIR store's
 * history), and the mapped Bundle when it failed, to see why. Keeping every applied Bundle too cost a tenth
 * of the bridge's time and doubled the message store.
 */
function changeFor(result: ApplyResult) {
  const mapped = result.bundle ? { mapped: result.bundle } : {};
  if (!result.ok) return { status: 'error' as const, error: result.error, outputs: mapped };
  return {
    status: 'processed' as const,
    error: null,
    outputs: {
      written: result.written,
      ...(result.unmatched.length ? { unmatched: result.unmatched } : {}),
    },
  };
}

function summary(result: Extract<ApplyResult, { ok: true }>): string {
  const orphan = result.unmatched.length > 0 ? '; unmatched links, on the orphan worklist' : '';
  return `${result.written.length} resources written${orphan}`;
}

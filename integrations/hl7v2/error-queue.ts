// What a person does with a message that failed: reprocess it from its stored raw bytes (after fixing a code
// table or registering the patient), edit it and send it again, or discard it with a reason. Each action is
// recorded in the message's history with who did it; the admin API also writes it to the audit trail.
import { createHash } from 'node:crypto';
import type { ChannelSet } from './channel-set';
import type { InboundChannel } from './channels';
import type { InboundProcessor } from './inbound/processor';
import { newControlId } from './message/ack';
import { encodeEdited } from './message/charset';
import { V2Message, V2ParseError, type V2Header } from './message/v2-message';
import type { MessageStore, StoredMessage } from './message-store/port';

export class ErrorQueueError extends Error {
  constructor(
    readonly status: 404 | 409 | 400,
    message: string,
  ) {
    super(message);
  }
}

const REPROCESSABLE = new Set<StoredMessage['status']>(['error', 'conflict', 'processed', 'discarded']);
const DISCARDABLE = new Set<StoredMessage['status']>(['error', 'conflict', 'queued', 'received']);

export class ErrorQueue {
  constructor(
    private readonly store: MessageStore,
    private readonly channels: ChannelSet,
    private readonly processor: InboundProcessor,
    private readonly released: (channel: string) => void,
  ) {}

  /** Inbound: runs the mapping again on the stored raw message. Outbound: queues it again as it is. */
  async reprocess(id: string, actor: string): Promise<StoredMessage> {
    const message = await this.find(id);
    if (message.direction === 'out') return this.requeue(message, actor);
    if (!REPROCESSABLE.has(message.status)) {
      throw new ErrorQueueError(409, `A message that is ${message.status} cannot be reprocessed`);
    }
    const channel = this.inboundChannel(message);
    await this.store.note(id, { at: Date.now(), status: 'reprocessed', actor });
    return this.processor.process(channel, message, { actor });
  }

  /**
   * Stores an edited copy, linked to the original, and applies (inbound) or sends (outbound) it; the original
   * is discarded. An outbound copy gets its own control id, so the receiver does not take it for a duplicate.
   */
  async editAndResend(id: string, raw: string, actor: string): Promise<StoredMessage> {
    const original = await this.find(id);
    if (!raw.startsWith('MSH')) throw new ErrorQueueError(400, 'The edited message must start with MSH');
    if (original.status === 'processed' || original.status === 'sent') {
      throw new ErrorQueueError(409, `A message that is ${original.status} is not edited; reprocess it instead`);
    }
    const inbound = original.direction === 'in' ? this.inboundChannel(original) : undefined;
    const text = (original.direction === 'out' ? replaceControlId(raw, newControlId()) : raw).replace(/\r?\n/g, '\r');
    // In the bytes the receiving side decodes back to this text (MSH-18, else the inbound channel's default).
    const bytes = encodeEdited(text, inbound?.charset ?? 'utf-8');
    const edited = headerOf(text);
    const patientId = edited ? edited.patientId : original.patientId;
    const copy = {
      channel: original.channel,
      direction: original.direction,
      // An outbound copy takes its original's place in the queue (ordered by the time queued).
      receivedAt: original.direction === 'out' ? original.receivedAt : Date.now(),
      status: original.direction === 'out' ? ('queued' as const) : ('received' as const),
      raw: bytes,
      sendingApplication: edited?.header.sendingApplication ?? original.sendingApplication,
      sendingFacility: edited?.header.sendingFacility ?? original.sendingFacility,
      controlId: edited?.header.controlId || (controlIdOf(text) ?? original.controlId),
      type: edited?.header.type || original.type,
      contentHash: createHash('sha256').update(bytes).digest('hex'),
      derivedFrom: original.id,
      ...(patientId ? { patientId } : {}),
    };
    const stored =
      original.direction === 'out'
        ? await this.store.enqueue(copy)
        : (await this.store.receive(copy, Number.MAX_SAFE_INTEGER)).message;
    if (!stored) throw new ErrorQueueError(409, 'The edited copy could not be queued');
    await this.store.update(
      original.id,
      { status: 'discarded' },
      { at: Date.now(), status: 'resent', actor, detail: `edited copy ${stored.id}` },
    );
    if (original.direction === 'out') {
      this.released(original.channel);
      return stored;
    }
    return this.processor.process(inbound as InboundChannel, stored, { actor });
  }

  async discard(id: string, reason: string, actor: string): Promise<StoredMessage> {
    const message = await this.find(id);
    if (!reason.trim()) throw new ErrorQueueError(400, 'A discard needs a reason');
    if (!DISCARDABLE.has(message.status))
      throw new ErrorQueueError(409, `A message that is ${message.status} cannot be discarded`);
    const discarded = await this.store.update(
      id,
      { status: 'discarded' },
      { at: Date.now(), status: 'discarded', actor, detail: reason.slice(0, 500) },
    );
    if (message.direction === 'out') this.released(message.channel);
    return discarded;
  }

  private async requeue(message: StoredMessage, actor: string): Promise<StoredMessage> {
    if (message.status !== 'error')
      throw new ErrorQueueError(409, `A message that is ${message.status} is not in the error queue`);
    const queued = await this.store.update(
      message.id,
      { status: 'queued', attempts: 0, nextAttemptAt: null, error: null },
      { at: Date.now(), status: 'queued', actor, detail: 'resent' },
    );
    this.released(message.channel);
    return queued;
  }

  private async find(id: string): Promise<StoredMessage> {
    const message = await this.store.get(id);
    if (!message) throw new ErrorQueueError(404, `No message ${id}`);
    return message;
  }

  private inboundChannel(message: StoredMessage): InboundChannel {
    const channel = this.channels.inbound().find((c) => c.id === message.channel);
    if (!channel) throw new ErrorQueueError(409, `Channel ${message.channel} no longer exists`);
    return channel;
  }
}

/** What the edited text says of itself (header, PID-3 value); undefined when it does not parse. */
function headerOf(text: string): { header: V2Header; patientId?: string } | undefined {
  try {
    const message = V2Message.parse(text);
    return { header: message.header, patientId: message.segment('PID')?.repetitions(3)[0]?.get(1) || undefined };
  } catch (error) {
    if (error instanceof V2ParseError) return undefined;
    throw error;
  }
}

function controlIdOf(text: string): string | undefined {
  const msh = text.split(/\r|\n/, 1)[0];
  return msh.split(msh[3] ?? '|')[9];
}

function replaceControlId(text: string, controlId: string): string {
  const [msh, ...rest] = text.split(/\r\n|\r|\n/);
  const separator = msh[3] ?? '|';
  const fields = msh.split(separator);
  fields[9] = controlId;
  return [fields.join(separator), ...rest].join('\r');
}

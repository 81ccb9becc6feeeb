// One received frame, start to reply: route to a channel, refuse what the channel does not take (AR),
// store the raw bytes durably (deduplicated on MSH-3, MSH-4, MSH-10), acknowledge, and queue the message for
// processing. An AA or CA goes out only after the store has synced; a store failure is AE/CE (send again).
import { createHash } from 'node:crypto';
import { routeInbound, type InboundChannel } from '../channels';
import { buildAck, ERROR_CODES, type AckCode, type AckError, type AckedHeader } from '../message/ack';
import { decodeFrame } from '../message/charset';
import { V2Message, V2ParseError, type V2Header } from '../message/v2-message';
import type { MessageStore, NewMessage, StoredMessage } from '../message-store/port';
import type { InboundProcessor } from './processor';
import { refusal } from './checks';

export interface ReceiverDeps {
  store: MessageStore;
  processor: InboundProcessor;
  channels(): readonly InboundChannel[];
  /** Sends an enhanced-mode application ACK through an outbound channel. */
  sendApplicationAck?(channelId: string, ack: string, original: StoredMessage): Promise<void>;
  /** Status changes for counters and alerts; never message content. */
  observed?(event: { channel: string; status: StoredMessage['status'] | 'duplicate' | 'store-failed' }): void;
  now?(): number;
}

/** Channel name for what cannot be routed (no MSH, or no channel takes the sender). */
export const UNROUTED = '-';

const DAY_MS = 86_400_000;
/** How long a resend waits for the first copy's outcome (ackAfter 'processing'); senders wait about as long. */
const DUPLICATE_WAIT_MS = 30_000;

export interface Received {
  reply?: string;
  /** Charset the reply is encoded in (the message's own). */
  charset: string;
  message?: StoredMessage;
}

export async function receiveMessage(payload: Buffer, deps: ReceiverDeps): Promise<Received> {
  const now = deps.now?.() ?? Date.now();
  const header = peekHeader(payload);
  if (!header) return rejectUnreadable(payload, deps, now);
  // Never acknowledge an acknowledgment, whichever channel would take (or refuse) its sender.
  if (header.code === 'ACK') return { charset: header.charset };
  const channel = routeInbound(deps.channels(), header);
  if (!channel) {
    const error = {
      code: ERROR_CODES.unsupportedMessageType,
      location: 'MSH^1^3',
      text: 'No channel takes messages from this sender',
    };
    return reject(payload, header, UNROUTED, error, deps, now);
  }
  const decoded = decodeFrame(payload, channel.charset);
  let message: V2Message;
  try {
    message = V2Message.parse(decoded.text);
  } catch (error) {
    if (!(error instanceof V2ParseError)) throw error;
    return reject(payload, header, channel.id, { code: ERROR_CODES.segmentSequence, text: error.message }, deps, now);
  }
  const refused = refusal(channel, message.header);
  if (refused) return reject(payload, message.header, channel.id, refused, deps, now);
  return accept(payload, message, channel, deps, now);
}

async function accept(
  payload: Buffer,
  message: V2Message,
  channel: InboundChannel,
  deps: ReceiverDeps,
  now: number,
): Promise<Received> {
  const header = message.header;
  const enhanced = header.acceptAckType !== '' || header.applicationAckType !== '';
  const afterStore = enhanced || channel.ackAfter === 'store';
  const storedAck = afterStore ? buildAck(header, { code: enhanced ? 'CA' : 'AA' }) : undefined;
  let result;
  try {
    const record = newMessage(payload, header, channel.id, 'received', now, storedAck, patientIdOf(message));
    result = await deps.store.receive(record, now - channel.dedupeDays * DAY_MS);
  } catch {
    deps.observed?.({ channel: channel.id, status: 'store-failed' });
    const error = { code: ERROR_CODES.internalError, text: 'The message could not be stored; send it again' };
    const reply = buildAck(header, { code: enhanced ? 'CE' : 'AE', errors: [error] });
    return { reply: answers(header, false) ? reply : undefined, charset: header.charset };
  }
  const stored = result.message;
  if (result.duplicateOf) {
    deps.observed?.({ channel: channel.id, status: 'duplicate' });
    const ack = stored.ack ?? (await ackOfDuplicate(header, stored, channel, enhanced, deps));
    return {
      reply: enhanced && !wantsAcceptAck(header.acceptAckType, true) ? undefined : ack,
      charset: header.charset,
      message: stored,
    };
  }
  deps.observed?.({ channel: channel.id, status: stored.status });
  if (stored.status === 'conflict') return conflictAck(header, stored, storedAck, deps);
  const processed = deps.processor.process(channel, stored, { parsed: message });
  if (enhanced) {
    void processed.then((done) => applicationAck(done, header, channel, deps)).catch(() => undefined);
    return {
      reply: wantsAcceptAck(header.acceptAckType, true) ? storedAck : undefined,
      charset: header.charset,
      message: stored,
    };
  }
  if (afterStore) {
    void processed.catch(() => undefined);
    return { reply: storedAck, charset: header.charset, message: stored };
  }
  const done = await processed;
  const ack = ackForOutcome(header, done, 'AA', 'AE');
  await deps.store.update(done.id, { ack }, { at: Date.now(), status: done.status, actor: 'mllp', detail: 'ACK sent' });
  return { reply: ack, charset: header.charset, message: done };
}

/**
 * A resend of a message with no ACK stored yet. ACKed after processing, the first copy is still queued or
 * being applied (its sender gave up waiting): the resend waits for and gets that copy's outcome, not an AA
 * of its own. The first copy may not even be queued yet (its store is syncing), hence the loop.
 */
async function ackOfDuplicate(
  header: V2Header,
  stored: StoredMessage,
  channel: InboundChannel,
  enhanced: boolean,
  deps: ReceiverDeps,
): Promise<string> {
  if (enhanced || channel.ackAfter === 'store') return buildAck(header, { code: enhanced ? 'CA' : 'AA' });
  let done = stored;
  const deadline = Date.now() + DUPLICATE_WAIT_MS;
  while (done.status === 'received' && !done.ack && Date.now() < deadline) {
    await deps.processor.drained(channel.id);
    done = (await deps.store.get(stored.id)) ?? done;
    if (done.status === 'received') await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (done.ack) return done.ack;
  if (done.status === 'received') {
    const error = { code: ERROR_CODES.internalError, text: 'The message is still being processed; send it again' };
    return buildAck(header, { code: 'AE', errors: [error] });
  }
  return ackForOutcome(header, done, 'AA', 'AE');
}

/**
 * A conflict is held for a person. ACKed after the store it is an AA/CA like any stored message; ACKed after
 * processing it was not applied, so it is an AE with ERR 205, kept as the message's ACK for any replay.
 */
async function conflictAck(
  header: V2Header,
  stored: StoredMessage,
  storedAck: string | undefined,
  deps: ReceiverDeps,
): Promise<Received> {
  let ack = storedAck;
  if (!ack) {
    ack = ackForOutcome(header, stored, 'AA', 'AE');
    await deps.store.update(
      stored.id,
      { ack },
      { at: Date.now(), status: stored.status, actor: 'mllp', detail: 'ACK sent' },
    );
  }
  return { reply: answers(header, true) ? ack : undefined, charset: header.charset, message: stored };
}

/** Whether the sender gets an (accept) ACK: always in original mode, per MSH-15 in enhanced mode. */
function answers(header: V2Header, success: boolean): boolean {
  const enhanced = header.acceptAckType !== '' || header.applicationAckType !== '';
  return !enhanced || wantsAcceptAck(header.acceptAckType, success);
}

/** Table 0155 condition: AL (or empty) always, SU on success, ER on error, NE never. */
function wantsAcceptAck(condition: string, success: boolean): boolean {
  if (condition === 'NE') return false;
  if (condition === 'SU') return success;
  if (condition === 'ER') return !success;
  return true;
}

async function applicationAck(done: StoredMessage, header: V2Header, channel: InboundChannel, deps: ReceiverDeps) {
  const success = done.status === 'processed';
  if (header.applicationAckType === '' || !wantsAcceptAck(header.applicationAckType, success)) return;
  if (!channel.applicationAckChannel || !deps.sendApplicationAck) {
    await deps.store.note(done.id, {
      at: Date.now(),
      status: done.status,
      actor: 'mllp',
      detail: 'Application ACK requested; the channel has no applicationAckChannel',
    });
    return;
  }
  await deps.sendApplicationAck(channel.applicationAckChannel, ackForOutcome(header, done, 'AA', 'AE'), done);
}

function ackForOutcome(header: AckedHeader, done: StoredMessage, ok: AckCode, failed: AckCode): string {
  if (done.status === 'processed') return buildAck(header, { code: ok });
  const error: AckError = {
    code: done.error?.code ?? ERROR_CODES.internalError,
    ...(done.error?.location ? { location: done.error.location } : {}),
    text: done.error?.text ?? 'The message could not be applied',
  };
  return buildAck(header, { code: failed, errors: [error] });
}

async function reject(
  payload: Buffer,
  header: V2Header,
  channel: string,
  error: AckError,
  deps: ReceiverDeps,
  now: number,
): Promise<Received> {
  const enhanced = header.acceptAckType !== '' || header.applicationAckType !== '';
  const ack = buildAck(header, { code: enhanced ? 'CR' : 'AR', errors: [error] });
  const record = newMessage(payload, header, channel, 'rejected', now, ack);
  const stored = await deps.store
    .receive(
      {
        ...record,
        error: {
          reason: 'parse',
          text: error.text ?? '',
          code: error.code,
          ...(error.location ? { location: error.location } : {}),
        },
      },
      now,
    )
    .catch(() => undefined);
  deps.observed?.({ channel, status: 'rejected' });
  return { reply: answers(header, false) ? ack : undefined, charset: header.charset, message: stored?.message };
}

const EMPTY_HEADER: V2Header = {
  sendingApplication: '',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  time: '',
  code: '',
  trigger: '',
  structure: '',
  type: '',
  controlId: '',
  processingId: 'P',
  version: '2.5.1',
  acceptAckType: '',
  applicationAckType: '',
  charset: '',
  profile: '',
};

function rejectUnreadable(payload: Buffer, deps: ReceiverDeps, now: number): Promise<Received> {
  const error = {
    code: ERROR_CODES.segmentSequence,
    location: 'MSH',
    text: 'The frame does not hold an HL7 message starting with MSH',
  };
  return reject(payload, EMPTY_HEADER, UNROUTED, error, deps, now);
}

/** MSH alone, read as Latin-1 (ASCII in every supported charset) to route before decoding the whole frame. */
function peekHeader(payload: Buffer): V2Header | undefined {
  const text = payload
    .subarray(0, Math.min(payload.length, 4096))
    .toString('latin1')
    .replace(/^[\r\n]+/, '');
  const msh = text.split(/\r|\n/, 1)[0];
  try {
    return V2Message.parse(msh).header;
  } catch {
    return undefined;
  }
}

function patientIdOf(message: V2Message): string | undefined {
  return message.segment('PID')?.repetitions(3)[0]?.get(1) || undefined;
}

export function newMessage(
  payload: Buffer,
  header: V2Header,
  channel: string,
  status: StoredMessage['status'],
  now: number,
  ack?: string,
  patientId?: string,
): NewMessage {
  return {
    channel,
    direction: 'in',
    receivedAt: now,
    status,
    raw: payload,
    sendingApplication: header.sendingApplication,
    sendingFacility: header.sendingFacility,
    controlId: header.controlId,
    type: header.type,
    contentHash: createHash('sha256').update(payload).digest('hex'),
    ...(ack ? { ack } : {}),
    ...(patientId ? { patientId } : {}),
  };
}

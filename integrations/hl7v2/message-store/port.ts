// The HL7 message store: every message received or sent, raw bytes first, with each stage's output, the
// ACK and the status history; the outbound queues; channel settings. SQLite beside the resource store by
// default, a MongoDB collection set with MONGODB_URL. Every write resolves once it is durable.

export type Direction = 'in' | 'out';

/**
 * received: stored, waiting to be processed · processed: applied to the FHIR store · rejected: refused with
 * AR (unsupported type, version, processing id, unreadable) · error: in the error queue · conflict: same
 * control id as an earlier message with other content, held for a person · discarded: dropped by a person
 * from the error queue · queued / sent: outbound, waiting or acknowledged.
 */
export type MessageStatus =
  'received' | 'processed' | 'rejected' | 'error' | 'conflict' | 'discarded' | 'queued' | 'sent';

/** Why a message is in the error queue. */
export type ErrorReason = 'parse' | 'map' | 'validate' | 'store' | 'transport' | 'nak' | 'conflict' | 'orphan';

export interface MessageError {
  reason: ErrorReason;
  /** Table 0357 code and ERR-2 location when known. */
  code?: string;
  location?: string;
  /** What was wrong, without patient data. */
  text: string;
}

export interface StoredMessage {
  id: string;
  channel: string;
  direction: Direction;
  /** When it was stored (received or queued), ms since epoch. */
  receivedAt: number;
  updatedAt: number;
  status: MessageStatus;
  raw: Buffer;
  sendingApplication: string;
  sendingFacility: string;
  controlId: string;
  /** MSH-9 code^trigger. */
  type: string;
  /** The patient identifier value (PID-3) the message is about, for searching. */
  patientId?: string;
  /** sha256 of the raw bytes. */
  contentHash: string;
  /** The ACK we sent (inbound) or received (outbound). */
  ack?: string;
  error?: MessageError;
  /** Each stage's output: the mapped Bundle, what the transaction wrote, ... */
  outputs?: Record<string, unknown>;
  /** Outbound: delivery attempts so far and when the next may start. */
  attempts: number;
  nextAttemptAt?: number;
  /** Outbound: the FHIR version that caused it (`ServiceRequest/1/_history/2`), unique per channel. */
  sourceKey?: string;
  /** A message made from another (edit-and-resend, reprocess copy). */
  derivedFrom?: string;
}

export interface MessageEvent {
  at: number;
  status: MessageStatus | 'duplicate' | 'reprocessed' | 'resent' | 'attempt';
  /** Who: `mllp`, `processor`, `sender`, `user/<id>`, ... */
  actor: string;
  detail?: string;
}

export type NewMessage = Omit<StoredMessage, 'id' | 'updatedAt' | 'attempts'> & { attempts?: number };

export interface ReceiveResult {
  message: StoredMessage;
  /** The earlier message with the same (MSH-3, MSH-4, MSH-10) and the same bytes: nothing new was stored. */
  duplicateOf?: StoredMessage;
  /** An earlier message with the same key and other bytes: this one was stored with status `conflict`. */
  conflictWith?: StoredMessage;
}

export interface MessageChange {
  status?: MessageStatus;
  ack?: string;
  error?: MessageError | null;
  outputs?: Record<string, unknown>;
  attempts?: number;
  nextAttemptAt?: number | null;
  patientId?: string;
}

export interface MessageQuery {
  channel?: string;
  direction?: Direction;
  status?: MessageStatus[];
  type?: string;
  controlId?: string;
  patientId?: string;
  /** Received at or after / before, ms since epoch. */
  since?: number;
  until?: number;
  /** Newest first; page with the last id seen. */
  before?: string;
  count: number;
}

export interface ChannelCounters {
  received: number;
  processed: number;
  errored: number;
  rejected: number;
  queued: number;
  /** receivedAt of the oldest queued (outbound) or received-but-unprocessed (inbound) message. */
  oldestWaitingAt?: number;
  lastMessageAt?: number;
}

export interface MessageStore {
  /**
   * Stores an inbound message unless one with the same (MSH-3, MSH-4, MSH-10) and the same bytes exists
   * within the dedupe window; with the same key and other bytes it is stored as a `conflict` held for a
   * person (usually a sender whose counter restarted). Durable when it resolves.
   */
  receive(message: NewMessage, dedupeSinceMs: number): Promise<ReceiveResult>;
  /** Stores an outbound message unless its channel already has one for the same sourceKey. */
  enqueue(message: NewMessage): Promise<StoredMessage | undefined>;
  update(id: string, change: MessageChange, event: MessageEvent): Promise<StoredMessage>;
  /** Adds to a message's history without changing it (a duplicate seen, an attempt made). */
  note(id: string, event: MessageEvent): Promise<void>;
  get(id: string): Promise<StoredMessage | undefined>;
  history(id: string): Promise<MessageEvent[]>;
  search(query: MessageQuery): Promise<StoredMessage[]>;
  /** Inbound messages stored but not yet processed, oldest first (to resume after a restart). */
  unprocessed(channel: string): Promise<StoredMessage[]>;
  /** The oldest outbound message of a channel that is queued, and due (nextAttemptAt passed) when `dueBy` is given. */
  nextQueued(channel: string, dueBy?: number): Promise<StoredMessage | undefined>;
  counters(channel: string): Promise<ChannelCounters>;
  /** Deletes messages (and their history) received before the time; never queued, unprocessed or errored ones. */
  purge(before: number): Promise<number>;
  getSetting<T>(key: string): Promise<T | undefined>;
  putSetting<T>(key: string, value: T): Promise<void>;
  close(): Promise<void>;
}

/** A message whose control id an earlier one with other content already used: held for a person. */
export function asConflict(message: NewMessage, earlier: StoredMessage): NewMessage {
  const text = `Control id already used by message ${earlier.id} with other content`;
  return { ...message, status: 'conflict', error: { reason: 'conflict', code: '205', text } };
}

/** Messages of one status in a channel: how many, and the oldest and newest receivedAt. */
export interface StatusCount {
  status: string;
  n: number;
  oldest: number | null;
  newest: number | null;
}

/** A channel's counters from its per-status counts (both adapters group by status alike). */
export function countersOf(rows: readonly StatusCount[]): ChannelCounters {
  const by = new Map(rows.map((r) => [r.status, r]));
  const count = (...statuses: MessageStatus[]) => statuses.reduce((sum, s) => sum + (by.get(s)?.n ?? 0), 0);
  const waiting = [by.get('queued')?.oldest, by.get('received')?.oldest].filter((t): t is number => t != null);
  const newest = rows.map((r) => r.newest).filter((t): t is number => t != null);
  return {
    received: rows.reduce((sum, r) => sum + r.n, 0),
    processed: count('processed', 'sent'),
    errored: count('error', 'conflict'),
    rejected: count('rejected'),
    queued: count('queued', 'received'),
    ...(waiting.length ? { oldestWaitingAt: Math.min(...waiting) } : {}),
    ...(newest.length ? { lastMessageAt: Math.max(...newest) } : {}),
  };
}

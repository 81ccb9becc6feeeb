// Channel settings: which senders and message types an inbound channel takes and how it maps them, and
// where an outbound channel sends what. Read from HL7_CHANNELS_FILE and the admin API (stored channels
// override the file's of the same id); checked here so a bad setting is refused with a precise message.
import type { CodeTables } from './mappings/context';
import type { ChannelCharset } from './message/charset';

export type ProcessingId = 'P' | 'T' | 'D';

export interface InboundChannel {
  id: string;
  direction: 'inbound';
  enabled: boolean;
  /** MSH-3 / MSH-4 this channel takes; absent = any sender. */
  sendingApplication?: string;
  sendingFacility?: string;
  /** `ORU^R01`, `ADT^*`, ...: the types the channel accepts (each needs a mapping). */
  messageTypes: string[];
  processingIds: ProcessingId[];
  /** Charset for messages without MSH-18 (or ASCII-declared with 8-bit bytes). */
  charset: ChannelCharset;
  /** Offset for message times sent without one. */
  timezone: string;
  /** Original mode: ACK once the raw message is stored (default) or after it has been applied (AE on failure). */
  ackAfter: 'store' | 'processing';
  tables: CodeTables;
  /** Messages older than this are purged (never before the dedupe window ends). */
  retentionDays: number;
  /** A message repeating (MSH-3, MSH-4, MSH-10) within this window is a duplicate. */
  dedupeDays: number;
  /** Outbound channel that carries enhanced-mode application ACKs back to the sender, if any. */
  applicationAckChannel?: string;
}

/** `application-ack`: carries the enhanced-mode application ACKs of an inbound channel naming this one. */
export type OutboundEvent = 'lab-order' | 'charge' | 'adt' | 'application-ack';

export interface OutboundChannel {
  id: string;
  direction: 'outbound';
  enabled: boolean;
  host: string;
  port: number;
  tls?: { ca?: string; cert?: string; key?: string; servername?: string };
  /** What the channel carries: lab ServiceRequests, ChargeItems, ADT events. */
  events: OutboundEvent[];
  /** Lab orders: ServiceRequest.category codes that go to this lab (empty = every ServiceRequest). */
  orderCategories: string[];
  orderStructure: 'ORM_O01' | 'OML_O21';
  version: '2.3' | '2.4' | '2.5' | '2.5.1';
  processingId: ProcessingId;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  charset: 'UNICODE UTF-8' | '8859/1';
  timezone: string;
  ackTimeoutMs: number;
  /** Attempts before a message goes to the error queue (AE/AR go at once). */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A failed message holds the queue until a person acts, instead of moving to the error queue. */
  strictOrder: boolean;
  retentionDays: number;
}

export type Channel = InboundChannel | OutboundChannel;

export class ChannelError extends Error {}

const INBOUND_DEFAULTS: Omit<InboundChannel, 'id'> = {
  direction: 'inbound',
  enabled: true,
  messageTypes: ['ADT^*', 'ORU^R01', 'ORM^O01', 'OML^O21', 'SIU^*', 'DFT^P03'],
  processingIds: ['P', 'T', 'D'],
  charset: 'utf-8',
  timezone: '+0000',
  ackAfter: 'store',
  tables: {},
  retentionDays: 90,
  dedupeDays: 30,
};

const OUTBOUND_DEFAULTS: Omit<OutboundChannel, 'id' | 'host' | 'port' | 'events'> = {
  direction: 'outbound',
  enabled: true,
  orderCategories: ['108252007', 'LAB', 'laboratory'],
  orderStructure: 'OML_O21',
  version: '2.5.1',
  processingId: 'P',
  sendingApplication: 'HMS',
  sendingFacility: 'HOSPITAL',
  receivingApplication: '',
  receivingFacility: '',
  charset: 'UNICODE UTF-8',
  timezone: '+0000',
  ackTimeoutMs: 30_000,
  maxAttempts: 5,
  retryBaseMs: 1_000,
  retryMaxMs: 300_000,
  strictOrder: false,
  retentionDays: 90,
};

/** The channel used when none is configured: any sender, every supported type, into the FHIR store. */
export const DEFAULT_INBOUND: InboundChannel = { id: 'default', ...INBOUND_DEFAULTS };

export function parseChannel(input: unknown, where = 'channel'): Channel {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ChannelError(`${where} must be an object`);
  }
  const raw = input as Record<string, unknown>;
  if (typeof raw.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw.id)) {
    throw new ChannelError(`${where}.id must be 1-64 letters, digits, '-' or '_'`);
  }
  const channel =
    raw.direction === 'outbound'
      ? { ...OUTBOUND_DEFAULTS, ...raw }
      : raw.direction === 'inbound' || raw.direction === undefined
        ? { ...INBOUND_DEFAULTS, ...raw }
        : undefined;
  if (!channel) throw new ChannelError(`${where}.direction must be inbound or outbound`);
  const checked = channel as Channel;
  (checked.direction === 'outbound' ? checkOutbound : checkInbound)(checked as never, `${where} ${raw.id}`);
  return checked;
}

function checkInbound(c: InboundChannel, where: string): void {
  bool(c.enabled, `${where}: enabled`);
  for (const key of ['sendingApplication', 'sendingFacility', 'applicationAckChannel'] as const) {
    optionalString(c[key], `${where}: ${key}`);
  }
  stringList(c.messageTypes, `${where}: messageTypes`, /^[A-Z0-9]{3}(\^([A-Z0-9]{3}|\*))?$/);
  stringList(c.processingIds, `${where}: processingIds`, /^[PTD]$/);
  oneOf(c.charset, ['utf-8', 'iso-8859-1'], `${where}: charset`);
  oneOf(c.ackAfter, ['store', 'processing'], `${where}: ackAfter`);
  offset(c.timezone, `${where}: timezone`);
  positive(c.retentionDays, `${where}: retentionDays`);
  positive(c.dedupeDays, `${where}: dedupeDays`);
  if (c.retentionDays < c.dedupeDays) throw new ChannelError(`${where}: retentionDays must be at least dedupeDays`);
  record(c.tables, `${where}: tables`);
  for (const key of ['codes', 'units', 'identifierSystems'] as const) {
    if (c.tables[key] !== undefined) record(c.tables[key], `${where}: tables.${key}`);
  }
}

function checkOutbound(c: OutboundChannel, where: string): void {
  if (typeof c.host !== 'string' || c.host === '') throw new ChannelError(`${where}: host is required`);
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535)
    throw new ChannelError(`${where}: port must be 1-65535`);
  bool(c.enabled, `${where}: enabled`);
  bool(c.strictOrder, `${where}: strictOrder`);
  if (c.tls !== undefined) {
    record(c.tls, `${where}: tls`);
    for (const key of ['ca', 'cert', 'key', 'servername'] as const) optionalString(c.tls[key], `${where}: tls.${key}`);
  }
  for (const key of ['sendingApplication', 'sendingFacility', 'receivingApplication', 'receivingFacility'] as const) {
    if (typeof c[key] !== 'string') throw new ChannelError(`${where}: ${key} must be a string`);
  }
  if (!Array.isArray(c.orderCategories) || !c.orderCategories.every((v) => typeof v === 'string')) {
    throw new ChannelError(`${where}: orderCategories must be a list of codes (empty for every ServiceRequest)`);
  }
  stringList(c.events, `${where}: events`, /^(lab-order|charge|adt|application-ack)$/);
  oneOf(c.orderStructure, ['ORM_O01', 'OML_O21'], `${where}: orderStructure`);
  oneOf(c.version, ['2.3', '2.4', '2.5', '2.5.1'], `${where}: version`);
  oneOf(c.processingId, ['P', 'T', 'D'], `${where}: processingId`);
  oneOf(c.charset, ['UNICODE UTF-8', '8859/1'], `${where}: charset`);
  offset(c.timezone, `${where}: timezone`);
  for (const key of ['ackTimeoutMs', 'maxAttempts', 'retryBaseMs', 'retryMaxMs', 'retentionDays'] as const) {
    positive(c[key], `${where}: ${key}`);
  }
  if (!Number.isInteger(c.maxAttempts)) throw new ChannelError(`${where}: maxAttempts must be a positive integer`);
  if (c.retryMaxMs < c.retryBaseMs) throw new ChannelError(`${where}: retryMaxMs must be at least retryBaseMs`);
}

function bool(value: unknown, what: string): void {
  if (typeof value !== 'boolean') throw new ChannelError(`${what} must be true or false`);
}

function optionalString(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'string') throw new ChannelError(`${what} must be a string`);
}

function record(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChannelError(`${what} must be an object`);
  }
}

function stringList(value: unknown, what: string, pattern: RegExp): void {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && pattern.test(v))) {
    throw new ChannelError(`${what} must be a non-empty list matching ${pattern.source}`);
  }
}

function oneOf(value: unknown, allowed: string[], what: string): void {
  if (!allowed.includes(value as string)) throw new ChannelError(`${what} must be one of ${allowed.join(', ')}`);
}

/** A UTC offset `+hhmm` / `-hhmm` (-1200 to +1400). */
function offset(value: unknown, what: string): void {
  const match = typeof value === 'string' ? /^[+-](\d\d)([0-5]\d)$/.exec(value) : null;
  if (!match || Number(match[1]) > 14) throw new ChannelError(`${what} must look like +0100`);
}

function positive(value: unknown, what: string): void {
  if (typeof value !== 'number' || !(value > 0)) throw new ChannelError(`${what} must be a positive number`);
}

/** The inbound channel a message belongs to: the first enabled one whose sender and type match. */
export function routeInbound(
  channels: readonly InboundChannel[],
  header: { sendingApplication: string; sendingFacility: string; type: string; code: string },
): InboundChannel | undefined {
  const fromSender = channels.filter(
    (c) =>
      c.enabled &&
      (c.sendingApplication === undefined || c.sendingApplication === header.sendingApplication) &&
      (c.sendingFacility === undefined || c.sendingFacility === header.sendingFacility),
  );
  return fromSender.find((c) => acceptsType(c, header)) ?? fromSender[0];
}

export function acceptsType(channel: InboundChannel, header: { type: string; code: string }): boolean {
  return channel.messageTypes.some((t) => t === header.type || t === `${header.code}^*` || t === header.code);
}

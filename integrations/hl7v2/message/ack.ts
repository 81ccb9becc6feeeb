// Acknowledgments we send: MSH-3/4 and 5/6 swapped, a fresh MSH-10 of our own, MSA-2 echoing the control
// id, and from v2.4 on ERR segments saying what was wrong and where (table 0357 codes).
import { formatHl7DateTime } from '@medplum/core';
import { randomUUID } from 'node:crypto';
import { escapeValue, type Delimiters } from './escape';
import type { V2Header } from './v2-message';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

/** HL7 table 0357 message error condition codes used by the bridge. */
export const ERROR_CODES = {
  segmentSequence: '100',
  requiredFieldMissing: '101',
  dataType: '102',
  tableValueNotFound: '103',
  unsupportedMessageType: '200',
  unsupportedEvent: '201',
  unsupportedProcessingId: '202',
  unsupportedVersion: '203',
  unknownKey: '204',
  duplicateKey: '205',
  internalError: '207',
} as const;

const ERROR_TEXT: Record<string, string> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '207': 'Application internal error',
};

export interface AckError {
  /** Table 0357 code. */
  code: string;
  /** Where: segment id, sequence, field, component, e.g. `PID^1^3`. */
  location?: string;
  severity?: 'E' | 'W' | 'I';
  /** Human text for ERR-8 (no patient data). */
  text?: string;
}

export interface AckOptions {
  code: AckCode;
  errors?: AckError[];
  /** Text for MSA-3 (receivers before v2.5 show it; the first error's text there by default). */
  text?: string;
  now?: Date;
  controlId?: string;
}

/** What an ACK needs of the message it answers; a frame too broken to parse still has these from MSH. */
export type AckedHeader = Pick<
  V2Header,
  | 'sendingApplication'
  | 'sendingFacility'
  | 'receivingApplication'
  | 'receivingFacility'
  | 'trigger'
  | 'controlId'
  | 'processingId'
  | 'version'
>;

const DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

export function newControlId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase();
}

export function buildAck(original: AckedHeader, options: AckOptions): string {
  const esc = (value: string) => escapeValue(value, DELIMITERS);
  const version = original.version || '2.5.1';
  const messageType = ackMessageType(esc(original.trigger), version);
  const msh = [
    'MSH',
    '^~\\&',
    esc(original.receivingApplication),
    esc(original.receivingFacility),
    esc(original.sendingApplication),
    esc(original.sendingFacility),
    // UTC, and said so: a time without an offset is the sender's local time to the receiver.
    `${formatHl7DateTime(options.now ?? new Date()).replace(/\.\d+/, '')}+0000`,
    '',
    messageType,
    options.controlId ?? newControlId(),
    esc(original.processingId || 'P'),
    esc(version),
  ].join('|');
  // ERR exists from v2.4 on for us (v2.4 knows only ERR-1); MSA-3, deprecated from v2.4, is kept until v2.5.
  const usesErr = !isBefore(version, '2.4');
  const withErr1 = usesErr && isBefore(version, '2.5');
  const msaText = options.text ?? (isBefore(version, '2.5') ? firstErrorText(options.errors) : '');
  const msa = ['MSA', options.code, echoed(original.controlId), esc(msaText)].join('|').replace(/\|+$/, '');
  const segments = [msh, msa];
  if (usesErr) for (const error of options.errors ?? []) segments.push(errSegment(error, esc, withErr1));
  return segments.join('\r');
}

/**
 * MSH-10 as it was sent (escapes kept, so the sender matches MSA-2 to it byte for byte); only what would
 * break the ACK itself (our field separator, line breaks, from a sender with other delimiters) is changed.
 */
function echoed(controlId: string): string {
  return controlId.replace(/[\r\n]/g, '').replace(/\|/g, '\\F\\');
}

function errSegment(error: AckError, esc: (v: string) => string, withErr1: boolean): string {
  const text = error.text ?? ERROR_TEXT[error.code] ?? '';
  const code = `${error.code}^${esc(ERROR_TEXT[error.code] ?? '')}^HL70357`;
  const err1 = withErr1 ? errorLocationAndCode(error, esc) : '';
  return ['ERR', err1, error.location ?? '', code, error.severity ?? 'E', '', '', '', esc(text)].join('|');
}

/** ERR-1 (ELD, v2.4): segment^sequence^field^code&text&HL70357, from the ERR-2 location's first components. */
function errorLocationAndCode(error: AckError, esc: (v: string) => string): string {
  const [segment = '', sequence = '', field = ''] = (error.location ?? '').split('^');
  const code = [error.code, esc(ERROR_TEXT[error.code] ?? ''), 'HL70357'].join('&');
  return [segment, sequence, field, code].join('^');
}

function firstErrorText(errors: AckError[] | undefined): string {
  const first = errors?.[0];
  return first ? (first.text ?? ERROR_TEXT[first.code] ?? '') : '';
}

/** `ACK^<trigger>^ACK` from v2.3.1; `ACK^<trigger>` before; bare `ACK` when there is no trigger. */
function ackMessageType(trigger: string, version: string): string {
  if (!trigger) return 'ACK';
  return isBefore(version, '2.3.1') ? `ACK^${trigger}` : `ACK^${trigger}^ACK`;
}

function isBefore(version: string, than: string): boolean {
  const parts = (v: string) => v.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [a, b] = [parts(version), parts(than)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

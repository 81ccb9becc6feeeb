// Text of a received frame and bytes of a message to send, in the character set MSH-18 names (HL7 table
// 0211). The header is ASCII in every supported charset, so MSH-18 is read before the whole frame is decoded.

/** Table 0211 values and the WHATWG encoding label each decodes with. */
const CHARSETS: Record<string, string> = {
  ASCII: 'ascii',
  '8859/1': 'iso-8859-1',
  '8859/2': 'iso-8859-2',
  '8859/5': 'iso-8859-5',
  '8859/7': 'iso-8859-7',
  '8859/15': 'iso-8859-15',
  'UNICODE UTF-8': 'utf-8',
  'UTF-8': 'utf-8',
  ISO_IR192: 'utf-8',
  ISO_IR100: 'iso-8859-1',
  ISO_IR6: 'ascii',
  'ISO IR192': 'utf-8',
  'ISO IR100': 'iso-8859-1',
  'ISO IR6': 'ascii',
  SJIS: 'shift_jis',
  'BIG-5': 'big5',
  GB18030: 'gb18030',
  'KS X 1001': 'euc-kr',
};

export type ChannelCharset = 'utf-8' | 'iso-8859-1';

export interface DecodedFrame {
  text: string;
  /** MSH-18 as sent (first repetition), empty when absent. */
  declared: string;
  /** Set when the declared charset is unknown; the text was decoded with the channel's default. */
  unsupportedCharset?: string;
}

/**
 * Decodes a frame. Undeclared or ASCII-declared text with bytes above 0x7F, which senders produce often
 * (Latin-1 names without MSH-18), is read with the channel's default charset rather than garbled.
 */
export function decodeFrame(payload: Buffer, channelDefault: ChannelCharset): DecodedFrame {
  const declared = declaredCharset(payload);
  const known = declared ? CHARSETS[declared.toUpperCase()] : undefined;
  if (declared && !known) {
    return { text: decodeWith(payload, channelDefault), declared, unsupportedCharset: declared };
  }
  if (!known || known === 'ascii') {
    const text = isAscii(payload) ? payload.toString('latin1') : decodeWith(payload, channelDefault);
    return { text, declared };
  }
  return { text: decodeWith(payload, known), declared };
}

function decodeWith(payload: Buffer, label: string): string {
  if (label === 'utf-8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(payload);
    } catch {
      return payload.toString('latin1');
    }
  }
  if (label === 'iso-8859-1') return payload.toString('latin1');
  return new TextDecoder(label).decode(payload);
}

function isAscii(payload: Buffer): boolean {
  for (const byte of payload) if (byte > 0x7f) return false;
  return true;
}

/** MSH-18 read from the raw bytes of the first segment. */
function declaredCharset(payload: Buffer): string {
  let end = payload.indexOf(0x0d);
  const lf = payload.indexOf(0x0a);
  if (end < 0 || (lf >= 0 && lf < end)) end = lf;
  const header = payload.subarray(0, end < 0 ? Math.min(payload.length, 2048) : end).toString('latin1');
  if (!header.startsWith('MSH') || header.length < 8) return '';
  const fields = header.split(header[3]);
  const component = header[4];
  const repetition = header[5];
  return (fields[17] ?? '').split(repetition)[0].split(component)[0].trim();
}

/**
 * Bytes of an outgoing message in the charset its MSH-18 names (UTF-8 unless it says Latin-1 or ASCII). A
 * character Latin-1 cannot hold is written as `?`: Buffer's latin1 encoding would keep only its low byte and
 * so write another character (`Ł` as `A`).
 */
export function encodeText(text: string, charset: string): Buffer {
  const label = CHARSETS[charset.trim().toUpperCase()];
  if (label !== 'iso-8859-1' && label !== 'ascii') return Buffer.from(text, 'utf8');
  return Buffer.from(text.replace(/[\u0100-\u{10ffff}]/gu, '?'), 'latin1');
}

/**
 * Bytes of an inbound message a person edited (as text), such that decodeFrame reads back the same text: in
 * the charset MSH-18 declares, else the channel's default. Text that charset cannot hold (a character above
 * U+00FF in Latin-1, or a declared charset Node cannot encode) is sent as UTF-8 with MSH-18 saying so.
 */
export function encodeEdited(text: string, channelDefault: ChannelCharset): Buffer {
  const declared = declaredCharset(Buffer.from(text, 'utf8'));
  const known = declared ? CHARSETS[declared.toUpperCase()] : undefined;
  const target = !known || known === 'ascii' ? channelDefault : known;
  if (target === 'utf-8') return Buffer.from(text, 'utf8');
  if (target === 'iso-8859-1' && !/[\u0100-\uffff]/.test(text)) return Buffer.from(text, 'latin1');
  return Buffer.from(withCharset(text, 'UNICODE UTF-8'), 'utf8');
}

/** The text with MSH-18 set (the MSH fields padded as needed). */
function withCharset(text: string, charset: string): string {
  const end = text.search(/\r|\n/);
  const header = end < 0 ? text : text.slice(0, end);
  const separator = header[3] ?? '|';
  const fields = header.split(separator);
  while (fields.length < 18) fields.push('');
  fields[17] = charset;
  return fields.join(separator) + (end < 0 ? '' : text.slice(end));
}

// HL7 v2 escape sequences (v2.5.1 ch. 2.7): leaf values are unescaped after splitting and escaped before
// joining. @medplum/core returns values raw (`DOE\S\X`), so the bridge does this itself.

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** v2.7+ truncation character, when MSH-2 has five characters. */
  truncation?: string;
}

export const DEFAULT_DELIMITERS: Delimiters = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
};

/** Formatting escapes of FT/TX text that end a line (`.ce` also centres the next one, which is dropped). */
const LINE_BREAKS = new Set(['.br', '.sp', '.ce']);

/**
 * Decodes a leaf value. Delimiter escapes become the delimiter, `\Xhh..\` the bytes it names (read as
 * Latin-1 when not valid UTF-8), `\.br\`/`\.sp\`/`\.ce\` a newline, `\.sk n\` n spaces; highlighting,
 * charset switches, `\Z..\` local escapes and other formatting are dropped. An unterminated escape is kept
 * as it stands.
 */
export function unescapeValue(value: string, d: Delimiters = DEFAULT_DELIMITERS): string {
  if (!value.includes(d.escape)) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf(d.escape, i);
    if (start < 0) break;
    const end = value.indexOf(d.escape, start + 1);
    if (end < 0) break;
    out += value.slice(i, start) + decodeEscape(value.slice(start + 1, end), d);
    i = end + 1;
  }
  return out + value.slice(i);
}

function decodeEscape(code: string, d: Delimiters): string {
  switch (code) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation ?? '';
  }
  if (code.startsWith('X')) return decodeHex(code.slice(1));
  // `.sp 2`, `.sk3`, `.in+4`: a formatting command and its optional (signed) number.
  const [, command, count] = /^(\.[a-z]{2})\s*([+-]?\d+)?$/.exec(code) ?? [];
  if (LINE_BREAKS.has(command)) return '\n';
  // `.sk <n>`: skip n spaces to the right (one when absent).
  if (command === '.sk') return ' '.repeat(Math.min(Math.max(Number(count ?? 1), 1), 100));
  return '';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeHex(hex: string): string {
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) return '';
  const bytes = Buffer.from(hex, 'hex');
  try {
    return UTF8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * Encodes a leaf value: delimiters escaped, line breaks (CRLF, LF or a lone CR) as `\.br\`, other control
 * characters as `\Xhh\`.
 */
export function escapeValue(value: string, d: Delimiters = DEFAULT_DELIMITERS): string {
  let out = '';
  for (const char of value.replace(/\r\n?/g, '\n')) out += escapeChar(char, d);
  return out;
}

function escapeChar(char: string, d: Delimiters): string {
  const e = d.escape;
  if (char === e) return `${e}E${e}`;
  if (char === d.field) return `${e}F${e}`;
  if (char === d.component) return `${e}S${e}`;
  if (char === d.subcomponent) return `${e}T${e}`;
  if (char === d.repetition) return `${e}R${e}`;
  if (d.truncation && char === d.truncation) return `${e}P${e}`;
  if (char === '\n') return `${e}.br${e}`;
  const code = char.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `${e}X${code.toString(16).padStart(2, '0').toUpperCase()}${e}`;
  return char;
}

/**
 * The delimiters a message declares in MSH-1 and MSH-2. MSH-2 ends at the next field separator (never read
 * into MSH-3); characters it leaves out keep their defaults.
 */
export function delimitersOf(text: string): Delimiters {
  const field = text.charAt(3) || DEFAULT_DELIMITERS.field;
  const end = text.indexOf(field, 4);
  const msh2 = text.slice(4, end < 0 ? Math.min(text.length, 9) : Math.min(end, 9)).replace(/[\r\n].*$/s, '');
  const [component, repetition, escape, subcomponent, truncation] = [...msh2];
  return {
    field,
    component: component ?? DEFAULT_DELIMITERS.component,
    repetition: repetition ?? DEFAULT_DELIMITERS.repetition,
    escape: escape ?? DEFAULT_DELIMITERS.escape,
    subcomponent: subcomponent ?? DEFAULT_DELIMITERS.subcomponent,
    ...(truncation ? { truncation } : {}),
  };
}

// Frame bytes to text by MSH-18 (and the channel's default for undeclared 8-bit text), and text to bytes.
import { decodeFrame, encodeText } from '../../../../integrations/hl7v2/message/charset';

/** A frame whose MSH-18 is `charset` and whose PID-5 is `name`, encoded with `encoding`. */
function frame(charset: string, name: string, encoding: BufferEncoding, terminator = '\r'): Buffer {
  const msh = `MSH|^~\\&|LAB|FAC|HMS|HOSP|20240101120000||ADT^A01|1|P|2.5|||||${charset ? `|${charset}` : ''}`;
  return Buffer.from(`${msh}${terminator}PID|1||123||${name}^ANNA${terminator}`, encoding);
}

const NAME = 'Müller-Ærø';

describe('decodeFrame', () => {
  test('MSH-18 8859/1: Latin-1 bytes, whatever the channel default', () => {
    for (const channelDefault of ['utf-8', 'iso-8859-1'] as const) {
      const decoded = decodeFrame(frame('8859/1', NAME, 'latin1'), channelDefault);
      expect(decoded.text).toContain(`PID|1||123||${NAME}^ANNA`);
      expect(decoded.declared).toBe('8859/1');
      expect(decoded.unsupportedCharset).toBeUndefined();
    }
  });

  test('MSH-18 UNICODE UTF-8: UTF-8 bytes, whatever the channel default', () => {
    const name = `${NAME} 李 😀`;
    for (const channelDefault of ['utf-8', 'iso-8859-1'] as const) {
      const decoded = decodeFrame(frame('UNICODE UTF-8', name, 'utf8'), channelDefault);
      expect(decoded.text).toContain(`||${name}^ANNA`);
      expect(decoded.declared).toBe('UNICODE UTF-8');
    }
  });

  test('MSH-18 is matched without regard to case', () => {
    expect(decodeFrame(frame('unicode utf-8', NAME, 'utf8'), 'iso-8859-1').text).toContain(NAME);
  });

  test('ASCII declared but 8-bit bytes sent: the channel default is used', () => {
    expect(decodeFrame(frame('ASCII', NAME, 'latin1'), 'iso-8859-1').text).toContain(NAME);
    expect(decodeFrame(frame('ASCII', NAME, 'utf8'), 'utf-8').text).toContain(NAME);
    expect(decodeFrame(frame('ASCII', 'SMITH', 'latin1'), 'utf-8')).toMatchObject({ declared: 'ASCII' });
  });

  test('empty MSH-18 with each channel default', () => {
    expect(decodeFrame(frame('', NAME, 'utf8'), 'utf-8')).toMatchObject({ declared: '' });
    expect(decodeFrame(frame('', NAME, 'utf8'), 'utf-8').text).toContain(NAME);
    expect(decodeFrame(frame('', NAME, 'latin1'), 'iso-8859-1').text).toContain(NAME);
    // A Latin-1 channel reads UTF-8 bytes as Latin-1, as configured.
    expect(decodeFrame(frame('', 'Mü', 'utf8'), 'iso-8859-1').text).toContain('MÃ¼^ANNA');
    // A UTF-8 channel given Latin-1 bytes (not valid UTF-8) falls back to Latin-1.
    expect(decodeFrame(frame('', NAME, 'latin1'), 'utf-8').text).toContain(NAME);
  });

  test('invalid UTF-8 declared as UTF-8 is read as Latin-1, never with U+FFFD', () => {
    const decoded = decodeFrame(frame('UNICODE UTF-8', NAME, 'latin1'), 'utf-8');
    expect(decoded.text).toContain(NAME);
    expect(decoded.text).not.toContain('\uFFFD');
    expect(decoded.declared).toBe('UNICODE UTF-8');
  });

  test('a UTF-8 byte order mark is not kept in the text', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), frame('UNICODE UTF-8', NAME, 'utf8')]);
    expect(decodeFrame(bom, 'utf-8').text.startsWith('MSH|')).toBe(true);
  });

  test('an unknown charset is reported and the text read with the channel default', () => {
    const decoded = decodeFrame(frame('KOI8-R', NAME, 'latin1'), 'iso-8859-1');
    expect(decoded).toMatchObject({ declared: 'KOI8-R', unsupportedCharset: 'KOI8-R' });
    expect(decoded.text).toContain(NAME);
  });

  test('other table 0211 charsets decode with their own tables', () => {
    const euro = Buffer.concat([frame('8859/15', 'X', 'latin1'), Buffer.from([0xa4])]);
    expect(decodeFrame(euro, 'utf-8').text.endsWith('€')).toBe(true);
    const greek = Buffer.concat([frame('8859/7', 'X', 'latin1'), Buffer.from([0xe1])]);
    expect(decodeFrame(greek, 'utf-8').text.endsWith('α')).toBe(true);
  });

  test('MSH-18 repetitions and components: the first repetition, first component counts', () => {
    const repeated = decodeFrame(frame('UNICODE UTF-8~8859/1', NAME, 'utf8'), 'iso-8859-1');
    expect(repeated.declared).toBe('UNICODE UTF-8');
    expect(repeated.text).toContain(NAME);
    const component = decodeFrame(frame('8859/1^ISO', NAME, 'latin1'), 'utf-8');
    expect(component.declared).toBe('8859/1');
    expect(component.text).toContain(NAME);
  });

  test('a header ended by LF (or CRLF) still has its MSH-18 read', () => {
    for (const terminator of ['\n', '\r\n']) {
      const decoded = decodeFrame(frame('8859/1', NAME, 'latin1', terminator), 'utf-8');
      expect(decoded.declared).toBe('8859/1');
      expect(decoded.text).toContain(NAME);
    }
  });

  test('a single-segment frame and a custom field separator', () => {
    const single = Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5||||||8859/1', 'latin1');
    expect(decodeFrame(single, 'utf-8').declared).toBe('8859/1');
    const custom = Buffer.from(`MSH#^~\\&#A#B#C#D#20240101##ADT^A01#1#P#2.5######8859/1\rPID#1##${NAME}`, 'latin1');
    expect(decodeFrame(custom, 'utf-8')).toMatchObject({ declared: '8859/1' });
    expect(decodeFrame(custom, 'utf-8').text).toContain(NAME);
  });

  test('a frame that is not HL7 has no declared charset', () => {
    expect(decodeFrame(Buffer.from('hello'), 'utf-8')).toEqual({ text: 'hello', declared: '' });
  });
});

describe('encodeText', () => {
  test('8859/1 and ASCII are written as Latin-1 bytes', () => {
    expect(encodeText(`A|${NAME}`, '8859/1')).toEqual(Buffer.from(`A|${NAME}`, 'latin1'));
    expect(encodeText('é', 'ASCII')).toEqual(Buffer.from([0xe9]));
  });

  test('UTF-8, unset and unsupported charsets are written as UTF-8', () => {
    for (const charset of ['UNICODE UTF-8', 'unicode utf-8', '', 'KOI8-R']) {
      expect(encodeText(`${NAME} 李`, charset)).toEqual(Buffer.from(`${NAME} 李`, 'utf8'));
    }
  });

  test('characters Latin-1 cannot hold become "?" rather than other characters', () => {
    // Buffer.from('Ł', 'latin1') would keep the low byte: 'A'.
    expect(encodeText('Łódź €5', '8859/1').toString('latin1')).toBe('?ód? ?5');
  });

  test('decoding what encodeText wrote gives the text back', () => {
    const text = `MSH|^~\\&|A|B|C|D|20240101||ACK|1|P|2.5||||||8859/1\rMSA|AA|1|${NAME}`;
    expect(decodeFrame(encodeText(text, '8859/1'), 'utf-8').text).toBe(text);
  });
});

// HL7 v2 escape sequences: unescaping leaf values (delimiters, hex, formatting, dropped escapes), escaping
// them back, and the delimiters a message declares in MSH-1/MSH-2.
import {
  DEFAULT_DELIMITERS,
  delimitersOf,
  escapeValue,
  unescapeValue,
  type Delimiters,
} from '../../../../integrations/hl7v2/message/escape';

describe('unescapeValue', () => {
  test.each([
    ['DOE\\F\\X', 'DOE|X'],
    ['DOE\\S\\X', 'DOE^X'],
    ['R\\T\\D', 'R&D'],
    ['A\\R\\B', 'A~B'],
    ['C:\\E\\temp', 'C:\\temp'],
    ['\\F\\\\S\\\\T\\\\R\\\\E\\', '|^&~\\'],
  ])('delimiter escape %j -> %j', (raw, expected) => {
    expect(unescapeValue(raw)).toBe(expected);
  });

  test('a value without the escape character is returned as it is', () => {
    const value = 'plain text ^ with & no escapes';
    expect(unescapeValue(value)).toBe(value);
  });

  test('\\Xhh..\\ decodes UTF-8 multi-byte sequences', () => {
    expect(unescapeValue('Ren\\XC3A9\\e')).toBe('Renée');
    expect(unescapeValue('\\XE282AC\\ 5')).toBe('€ 5');
    expect(unescapeValue('\\X0D0A\\')).toBe('\r\n');
  });

  test('\\Xhh\\ that is not valid UTF-8 is read as Latin-1', () => {
    expect(unescapeValue('Ren\\XE9\\e')).toBe('Renée');
    expect(unescapeValue('\\XC3\\')).toBe('Ã');
  });

  test('\\X..\\ naming U+FFFD itself is kept as U+FFFD, not read as Latin-1', () => {
    expect(unescapeValue('\\XEFBFBD\\')).toBe('\uFFFD');
  });

  test('malformed hex (odd length, not hex, empty) is dropped', () => {
    expect(unescapeValue('a\\XABC\\b')).toBe('ab');
    expect(unescapeValue('a\\XZZ\\b')).toBe('ab');
    expect(unescapeValue('a\\X\\b')).toBe('ab');
  });

  test('\\.br\\ and \\.sp\\ become a newline', () => {
    expect(unescapeValue('line 1\\.br\\line 2')).toBe('line 1\nline 2');
    expect(unescapeValue('para 1\\.sp\\para 2')).toBe('para 1\npara 2');
    expect(unescapeValue('para 1\\.sp2\\para 2')).toBe('para 1\npara 2');
    expect(unescapeValue('para 1\\.sp 2\\para 2')).toBe('para 1\npara 2');
  });

  test('\\.sk n\\ skips spaces to the right rather than breaking the line', () => {
    expect(unescapeValue('A\\.sk\\B')).toBe('A B');
    expect(unescapeValue('A\\.sk 3\\B')).toBe('A   B');
  });

  test('highlighting \\H\\ \\N\\, local \\Z..\\, charset switches and other formatting are dropped', () => {
    expect(unescapeValue('\\H\\HIGH\\N\\ normal')).toBe('HIGH normal');
    expect(unescapeValue('a\\Zlocal1\\b')).toBe('ab');
    expect(unescapeValue('a\\C2842\\b\\M248442\\c')).toBe('abc');
    expect(unescapeValue('\\.in+4\\indented\\.fi\\')).toBe('indented');
  });

  test('an unterminated escape is kept as it stands', () => {
    expect(unescapeValue('C:\\temp')).toBe('C:\\temp');
    expect(unescapeValue('A\\S\\B\\C')).toBe('A^B\\C');
    expect(unescapeValue('\\')).toBe('\\');
  });

  test('\\P\\ is the truncation character when the message declares one', () => {
    const d = delimitersOf('MSH|^~\\&#|APP|');
    expect(unescapeValue('A\\P\\B', d)).toBe('A#B');
    expect(unescapeValue('A\\P\\B')).toBe('AB');
  });

  test('custom delimiters: the message escape character and separators are used', () => {
    const d = delimitersOf('MSH|$~\\@|APP|');
    expect(unescapeValue('A\\S\\B\\T\\C', d)).toBe('A$B@C');
    const bang = delimitersOf('MSH#^~!&#APP#');
    expect(unescapeValue('A!F!B!E!C', bang)).toBe('A#B!C');
    expect(unescapeValue('A\\F\\B', bang)).toBe('A\\F\\B');
  });
});

describe('escapeValue', () => {
  test('delimiters and the escape character are escaped', () => {
    expect(escapeValue('A|B^C&D~E\\F')).toBe('A\\F\\B\\S\\C\\T\\D\\R\\E\\E\\F');
  });

  test('line breaks become \\.br\\ (CRLF, LF and a lone CR alike); other controls \\Xhh\\', () => {
    expect(escapeValue('a\nb')).toBe('a\\.br\\b');
    expect(escapeValue('a\r\nb')).toBe('a\\.br\\b');
    expect(escapeValue('a\rb')).toBe('a\\.br\\b');
    expect(escapeValue('a\tb\x01c\x7f')).toBe('a\\X09\\b\\X01\\c\\X7F\\');
  });

  test('non-ASCII text is kept as it is', () => {
    expect(escapeValue('Müller Ærø 李 😀')).toBe('Müller Ærø 李 😀');
  });

  test.each<[string, Delimiters]>([
    ['default', DEFAULT_DELIMITERS],
    ['with truncation', delimitersOf('MSH|^~\\&#|')],
    ['custom', delimitersOf('MSH|$~\\@|')],
  ])('round trip with %s delimiters', (_, d) => {
    const value = 'a|b^c&d~e\\f#g$h@i\nj\tk\x00l\x1bm\x7fn é 😀';
    const escaped = escapeValue(value, d);
    for (const special of [d.field, d.component, d.subcomponent, d.repetition, '\n', '\t', '\x00', '\x7f']) {
      expect(escaped).not.toContain(special);
    }
    if (d.truncation) expect(escaped).not.toContain(d.truncation);
    expect(unescapeValue(escaped, d)).toBe(value);
  });

  test('CRLF round trips as a newline', () => {
    expect(unescapeValue(escapeValue('one\r\ntwo'))).toBe('one\ntwo');
  });
});

describe('delimitersOf', () => {
  test('standard header', () => {
    expect(delimitersOf('MSH|^~\\&|APP|FAC')).toEqual(DEFAULT_DELIMITERS);
  });

  test('v2.7 truncation character', () => {
    expect(delimitersOf('MSH|^~\\&#|APP|')).toEqual({ ...DEFAULT_DELIMITERS, truncation: '#' });
  });

  test('non-standard characters', () => {
    expect(delimitersOf('MSH|$~\\@|APP|')).toEqual({
      field: '|',
      component: '$',
      repetition: '~',
      escape: '\\',
      subcomponent: '@',
    });
    expect(delimitersOf('MSH#^~!&#APP#')).toEqual({
      field: '#',
      component: '^',
      repetition: '~',
      escape: '!',
      subcomponent: '&',
    });
  });

  test('a short MSH-2 never takes characters of MSH-3; the missing ones keep their defaults', () => {
    expect(delimitersOf('MSH|^~\\|APP|')).toEqual(DEFAULT_DELIMITERS);
    expect(delimitersOf('MSH|^~|APP|')).toEqual(DEFAULT_DELIMITERS);
    expect(delimitersOf('MSH|^~\\&')).toEqual(DEFAULT_DELIMITERS);
  });
});

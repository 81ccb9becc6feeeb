// V2Message.parse: segment terminators, header fields read once, 1-based unescaped accessors, parse errors.
import { V2Message, V2ParseError } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture } from '../../../support/hl7';

const MSH = 'MSH|^~\\&|LAB|LABFAC|HMS|HOSP|20240102030405+0100||ORU^R01^ORU_R01|CTRL-1|P|2.5.1|||AL|NE||UNICODE UTF-8';
const SEGMENTS = [
  MSH,
  'PID|1||MRN1^^^HOSP^MR~~""~SSN9^^^SSA^SS||DOE\\S\\X^JANE\\T\\ANN^^^DR',
  'OBR|1|PL1|FL1|GLU^Glucose^LN',
  'OBX|1|NM|GLU^Glucose^LN||5.5|mmol/L&&UCUM^^LOCAL|||||F',
];

describe('parse: segment terminators', () => {
  test.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['LFCR', '\n\r'],
  ])('%s between segments', (_, terminator) => {
    const message = V2Message.parse(SEGMENTS.join(terminator));
    expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'PID', 'OBR', 'OBX']);
    expect(message.segments.map((s) => s.position)).toEqual([0, 1, 2, 3]);
    expect(message.segment('OBX')?.get(5)).toBe('5.5');
  });

  test('leading and trailing terminators and blank lines are ignored', () => {
    const text = `\r\n\r${SEGMENTS[0]}\r\r\n${SEGMENTS[1]}\n\n  \r${SEGMENTS.slice(2).join('\r')}\r\n\r\n`;
    const message = V2Message.parse(text);
    expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'PID', 'OBR', 'OBX']);
    expect(message.toString()).toBe(SEGMENTS.join('\r'));
  });
});

describe('header', () => {
  test('fields of MSH, unescaped and trimmed', () => {
    expect(V2Message.parse(SEGMENTS.join('\r')).header).toEqual({
      sendingApplication: 'LAB',
      sendingFacility: 'LABFAC',
      receivingApplication: 'HMS',
      receivingFacility: 'HOSP',
      time: '20240102030405+0100',
      code: 'ORU',
      trigger: 'R01',
      structure: 'ORU_R01',
      type: 'ORU^R01',
      controlId: 'CTRL-1',
      processingId: 'P',
      version: '2.5.1',
      acceptAckType: 'AL',
      applicationAckType: 'NE',
      charset: 'UNICODE UTF-8',
      profile: '',
    });
  });

  test.each([
    ['ADT^A04', 'ADT_A01'],
    ['ADT^A08', 'ADT_A01'],
    ['ADT^A13', 'ADT_A01'],
    ['ADT^A03', 'ADT_A03'],
    ['SIU^S12', 'SIU_S12'],
    ['ADT^A08^ADT_A08', 'ADT_A08'],
    ['ACK', 'ACK'],
  ])('MSH-9 %s has the structure %s', (type, structure) => {
    const { header } = V2Message.parse(`MSH|^~\\&|A|B|C|D|20240101||${type}|1|P|2.5`);
    expect(header.structure).toBe(structure);
  });

  test('type with and without a trigger', () => {
    expect(V2Message.parse('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.3').header).toMatchObject({
      code: 'ADT',
      trigger: 'A04',
      type: 'ADT^A04',
    });
    expect(V2Message.parse('MSH|^~\\&|A|B|C|D|20240101||ACK|1|P|2.3').header).toMatchObject({
      code: 'ACK',
      trigger: '',
      type: 'ACK',
    });
  });

  test('control id as sent (escapes kept), version and processing id first components', () => {
    const { header } = V2Message.parse('MSH|^~\\&|A|B|C|D|20240101||ADT^A01| A\\S\\1 |T^I|2.4^USA&x|||ER|AL');
    expect(header).toMatchObject({
      controlId: 'A\\S\\1',
      processingId: 'T',
      version: '2.4',
      acceptAckType: 'ER',
      applicationAckType: 'AL',
      charset: '',
    });
  });

  test('the fixtures: ASCII, 8859/1 and v2.3 headers', () => {
    expect(V2Message.parse(hl7Fixture('adt_a08_01.hl7')).header).toMatchObject({
      charset: '8859/1',
      structure: 'ADT_A01',
      controlId: 'Q2043855220T2330403781X928163',
      version: '2.3',
    });
    expect(V2Message.parse(hl7Fixture('oru_r01_08.hl7')).header).toMatchObject({
      charset: 'ASCII',
      acceptAckType: 'AL',
      version: '2.3.1',
    });
  });

  test('custom delimiters in MSH-2 are honoured', () => {
    const message = V2Message.parse('MSH|$~\\@|A$X|B|C|D|20240101||ADT$A04|1|P|2.5\rPID|1||M1$$$H@x||DOE\\S\\Y$ANN');
    expect(message.delimiters.component).toBe('$');
    expect(message.header).toMatchObject({ sendingApplication: 'A', type: 'ADT^A04', structure: 'ADT_A01' });
    expect(message.segment('PID')?.get(5)).toBe('DOE$Y');
    expect(message.segment('PID')?.get(3, 4, 2)).toBe('x');
  });
});

describe('accessors', () => {
  const message = V2Message.parse(SEGMENTS.join('\r'));
  const pid = message.segment('PID')!;

  test('get unescapes components and sub-components', () => {
    expect(pid.get(5)).toBe('DOE^X');
    expect(pid.get(5, 2)).toBe('JANE&ANN');
    expect(pid.get(5, 5)).toBe('DR');
    expect(pid.get(3, 4)).toBe('HOSP');
    const obx = message.segment('OBX')!;
    expect(obx.get(6, 1)).toBe('mmol/L&&UCUM');
    expect(obx.get(6, 1, 1)).toBe('mmol/L');
    expect(obx.get(6, 1, 3)).toBe('UCUM');
    expect(obx.get(6, 1, 4)).toBe('');
    expect(obx.field(6).subcomponents(1)).toEqual(['mmol/L', '', 'UCUM']);
  });

  test('MSH numbering follows the standard', () => {
    const msh = message.segments[0];
    expect(msh.get(1)).toBe('|');
    expect(msh.get(3)).toBe('LAB');
    expect(msh.get(9, 2)).toBe('R01');
    expect(msh.get(10)).toBe('CTRL-1');
  });

  test('a field, component or sub-component beyond what was sent is empty', () => {
    expect(pid.get(40)).toBe('');
    expect(pid.get(5, 12)).toBe('');
    expect(pid.field(40).isEmpty).toBe(true);
    expect(pid.field(40).size).toBe(1);
    expect(message.segments[0].get(30)).toBe('');
    expect(pid.repetitions(40)).toEqual([]);
  });

  test('repetitions skip empty ones and HL7 null', () => {
    const repetitions = pid.repetitions(3);
    expect(repetitions.map((r) => r.get(1))).toEqual(['MRN1', 'SSN9']);
    expect(repetitions.map((r) => r.repetition)).toEqual([0, 3]);
    expect(repetitions[1].get(4)).toBe('SSA');
    expect(repetitions[1].toString()).toBe('SSN9^^^SSA^SS');
  });

  test('field(n) is the first repetition; toString keeps escapes', () => {
    expect(pid.field(3).get(1)).toBe('MRN1');
    expect(pid.field(5).toString()).toBe('DOE\\S\\X^JANE\\T\\ANN^^^DR');
    expect(pid.field(5).size).toBe(5);
  });

  test('segment() finds the first, all() every segment of a name', () => {
    const text = `${SEGMENTS.join('\r')}\rOBX|2|NM|K^Potassium^LN||4.1`;
    const parsed = V2Message.parse(text);
    expect(parsed.segment('OBX')?.get(1)).toBe('1');
    expect(parsed.all('OBX').map((s) => s.get(5))).toEqual(['5.5', '4.1']);
    expect(parsed.segment('ZZZ')).toBeUndefined();
  });
});

describe('parse errors', () => {
  test.each([['PID|1||123'], ['FHS|^~\\&|A'], [''], ['\r\n'], ['hello world'], [' MSH|^~\\&|A|B']])(
    'text not starting with MSH: %j',
    (text) => {
      expect(() => V2Message.parse(text)).toThrow(V2ParseError);
    },
  );

  test.each([['MSH'], ['MSH|'], ['MSH|^~\\&']])('too short: %j', (text) => {
    expect(() => V2Message.parse(text)).toThrow(V2ParseError);
  });

  test('the shortest header parses', () => {
    expect(V2Message.parse('MSH|^~\\&|').segments).toHaveLength(1);
  });
});

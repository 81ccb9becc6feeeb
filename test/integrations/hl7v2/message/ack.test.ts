// ACKs we send: header swapped, fresh MSH-10, MSH-9 per version, MSA-2 echoing MSH-10 as sent, ERR segments
// (table 0357) from v2.4 on and MSA-3 text before v2.5.
import { buildAck, ERROR_CODES, newControlId, type AckedHeader } from '../../../../integrations/hl7v2/message/ack';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';

const NOW = new Date('2024-01-02T03:04:05.678Z');

const header = (overrides: Partial<AckedHeader> = {}): AckedHeader => ({
  sendingApplication: 'LAB',
  sendingFacility: 'LABFAC',
  receivingApplication: 'HMS',
  receivingFacility: 'HOSP',
  trigger: 'R01',
  controlId: 'CTRL-1',
  processingId: 'P',
  version: '2.5.1',
  ...overrides,
});

const missingPid3 = { code: ERROR_CODES.requiredFieldMissing, location: 'PID^1^3', text: 'PID-3 is empty' };

describe('buildAck', () => {
  test('v2.5.1: ACK^R01^ACK, swapped header, ERR with location, code, severity and text; MSA-3 empty', () => {
    const ack = buildAck(header(), { code: 'AE', errors: [missingPid3], now: NOW, controlId: 'ACK1' });
    expect(ack.split('\r')).toEqual([
      'MSH|^~\\&|HMS|HOSP|LAB|LABFAC|20240102030405+0000||ACK^R01^ACK|ACK1|P|2.5.1',
      'MSA|AE|CTRL-1',
      'ERR||PID^1^3|101^Required field missing^HL70357|E||||PID-3 is empty',
    ]);
  });

  test('MSH-7 says it is UTC, so that no receiver reads it as its own local time', () => {
    const ack = V2Message.parse(buildAck(header(), { code: 'AA', now: NOW }));
    expect(ack.header.time).toBe('20240102030405+0000');
  });

  test('the ACK parses back with our own V2Message', () => {
    const ack = V2Message.parse(buildAck(header({ processingId: 'T' }), { code: 'AA', now: NOW }));
    expect(ack.header).toMatchObject({
      code: 'ACK',
      trigger: 'R01',
      structure: 'ACK',
      sendingApplication: 'HMS',
      receivingFacility: 'LABFAC',
      processingId: 'T',
      version: '2.5.1',
    });
    expect(ack.segment('MSA')?.get(1)).toBe('AA');
    expect(ack.segment('MSA')?.get(2)).toBe('CTRL-1');
    expect(ack.all('ERR')).toHaveLength(0);
  });

  test('several errors, each severity, default text from table 0357, warning severity kept', () => {
    const ack = buildAck(header(), {
      code: 'AR',
      errors: [
        { code: ERROR_CODES.unsupportedVersion, location: 'MSH^1^12' },
        { code: ERROR_CODES.tableValueNotFound, location: 'OBX^2^2', severity: 'W', text: 'Unknown type' },
      ],
      now: NOW,
    });
    const errs = ack.split('\r').filter((s) => s.startsWith('ERR|'));
    expect(errs).toEqual([
      'ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||Unsupported version id',
      'ERR||OBX^2^2|103^Table value not found^HL70357|W||||Unknown type',
    ]);
  });

  test('v2.3: ACK^R01, no ERR, the first error text in MSA-3', () => {
    const ack = buildAck(header({ version: '2.3' }), { code: 'AE', errors: [missingPid3], now: NOW });
    const segments = ack.split('\r');
    expect(segments[0].split('|')[8]).toBe('ACK^R01');
    expect(segments[1]).toBe('MSA|AE|CTRL-1|PID-3 is empty');
    expect(segments).toHaveLength(2);
    const defaultText = buildAck(header({ version: '2.3' }), { code: 'AR', errors: [{ code: '200' }], now: NOW });
    expect(defaultText.split('\r')[1]).toBe('MSA|AR|CTRL-1|Unsupported message type');
  });

  test('v2.3.1 has the structure component; v2.2 does not', () => {
    expect(buildAck(header({ version: '2.3.1' }), { code: 'AA' }).split('|')[8]).toBe('ACK^R01^ACK');
    expect(buildAck(header({ version: '2.2' }), { code: 'AA' }).split('|')[8]).toBe('ACK^R01');
  });

  test('v2.4: ERR-1 (the only ERR field a v2.4 receiver knows) and MSA-3 carry the error', () => {
    const ack = buildAck(header({ version: '2.4' }), { code: 'AE', errors: [missingPid3], now: NOW });
    const [, msa, err] = ack.split('\r');
    expect(msa).toBe('MSA|AE|CTRL-1|PID-3 is empty');
    const fields = err.split('|');
    expect(fields[1]).toBe('PID^1^3^101&Required field missing&HL70357');
    expect(fields.slice(2, 5)).toEqual(['PID^1^3', '101^Required field missing^HL70357', 'E']);
    const noLocation = buildAck(header({ version: '2.4' }), { code: 'AR', errors: [{ code: '203' }] });
    expect(noLocation.split('\r')[2].split('|')[1]).toBe('^^^203&Unsupported version id&HL70357');
  });

  test('no trigger: bare ACK; no version: 2.5.1; no processing id: P', () => {
    const ack = buildAck(header({ trigger: '', version: '', processingId: '' }), { code: 'AA', now: NOW });
    const msh = ack.split('\r')[0].split('|');
    expect(msh[8]).toBe('ACK');
    expect(msh.slice(10, 12)).toEqual(['P', '2.5.1']);
  });

  test('options.text goes to MSA-3 in any version', () => {
    const ack = buildAck(header(), { code: 'AA', text: 'Stored', now: NOW });
    expect(ack.split('\r')[1]).toBe('MSA|AA|CTRL-1|Stored');
  });

  test.each(['CA', 'CE', 'CR', 'AA', 'AE', 'AR'] as const)('MSA-1 %s', (code) => {
    const ack = V2Message.parse(buildAck(header(), { code, now: NOW }));
    expect(ack.segment('MSA')?.get(1)).toBe(code);
  });

  test('sender and receiver names with delimiters are escaped', () => {
    const ack = buildAck(
      header({
        sendingApplication: 'LAB|1',
        sendingFacility: 'A^B&C',
        receivingApplication: 'H~MS',
        receivingFacility: 'x\\y',
      }),
      { code: 'AE', errors: [{ ...missingPid3, text: 'bad | value ^ here\nnext' }], now: NOW },
    );
    const parsed = V2Message.parse(ack);
    expect(parsed.header).toMatchObject({
      sendingApplication: 'H~MS',
      sendingFacility: 'x\\y',
      receivingApplication: 'LAB|1',
      receivingFacility: 'A^B&C',
    });
    expect(parsed.segment('ERR')?.get(8)).toBe('bad | value ^ here\nnext');
    expect(ack.split('\r')).toHaveLength(3);
  });

  test('MSA-2 echoes MSH-10 exactly as it was sent, escapes and all', () => {
    const original = V2Message.parse('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|ID\\S\\7|P|2.5.1');
    expect(original.header.controlId).toBe('ID\\S\\7');
    const ack = buildAck(original.header, { code: 'AA', now: NOW });
    expect(ack.split('\r')[1]).toBe('MSA|AA|ID\\S\\7');
  });

  test('a control id that would break the ACK (a field separator, a line break) is made safe', () => {
    const ack = buildAck(header({ controlId: 'A|B\rC' }), { code: 'AA', now: NOW });
    expect(ack.split('\r')).toHaveLength(2);
    expect(ack.split('\r')[1]).toBe('MSA|AA|A\\F\\BC');
  });

  test('MSH-10 is fresh unless given', () => {
    const ids = new Set(Array.from({ length: 50 }, () => buildAck(header(), { code: 'AA' }).split('|')[9]));
    expect(ids.size).toBe(50);
    expect(ids.has('CTRL-1')).toBe(false);
    expect(buildAck(header(), { code: 'AA', controlId: 'MINE' }).split('|')[9]).toBe('MINE');
  });
});

describe('newControlId', () => {
  test('unique, at most 20 characters (ST in MSH-10), no delimiters', () => {
    const ids = Array.from({ length: 2000 }, newControlId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id.length).toBeGreaterThan(0);
      expect(id.length).toBeLessThanOrEqual(20);
      expect(id).toMatch(/^[0-9A-Z]+$/);
    }
  });
});

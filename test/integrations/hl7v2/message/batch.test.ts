// Batch files: split only where a segment starts with a header, BTS/FTS counts checked, and field values
// that are exactly `MSH` or `BTS` never split a message (the node-hl7-client trap).
import { isBatch, splitBatch } from '../../../../integrations/hl7v2/message/batch';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture } from '../../../support/hl7';

const msh = (id: string) => `MSH|^~\\&|LAB|FAC|HMS|HOSP|20240101||ORU^R01|${id}|P|2.5.1`;
const message = (id: string) => [msh(id), `PID|1||${id}`, `OBX|1|ST|BTS^Blood transfusion service||x`].join('\r');

function batchText(parts: { bts?: string; fts?: string; batches: string[][] }): string {
  const lines = ['FHS|^~\\&|LAB|FAC'];
  for (const ids of parts.batches) {
    lines.push('BHS|^~\\&|LAB|FAC', ...ids.map(message), `BTS|${parts.bts ?? ids.length}`);
  }
  lines.push(`FTS|${parts.fts ?? parts.batches.length}`);
  return lines.join('\r');
}

describe('splitBatch', () => {
  test('adt_a04_batch_01: three messages in two batches, consistent counts', () => {
    const { messages, problems } = splitBatch(hl7Fixture('adt_a04_batch_01.hl7'));
    expect(problems).toEqual([]);
    expect(messages).toHaveLength(3);
    const parsed = messages.map((m) => V2Message.parse(m));
    expect(parsed.map((m) => m.header.controlId)).toEqual(['12334456778890', '12334456778891', '12334456778890']);
    expect(parsed.map((m) => m.segments.map((s) => s.name).join(','))).toEqual(
      Array(3).fill('MSH,EVN,PID,PD1,NK1,PV1'),
    );
    for (const text of messages) {
      expect(text).not.toMatch(/^(FHS|BHS|BTS|FTS)|\r(FHS|BHS|BTS|FTS)/);
      expect(text.endsWith('\r')).toBe(false);
    }
  });

  test('messages are joined with CR whatever terminators the file used', () => {
    const crlf = batchText({ batches: [['A1', 'A2']] }).replace(/\r/g, '\r\n');
    const { messages, problems } = splitBatch(`${crlf}\r\n`);
    expect(problems).toEqual([]);
    expect(messages).toEqual([message('A1'), message('A2')]);
  });

  test('BTS-1 count mismatch is reported', () => {
    const { messages, problems } = splitBatch(batchText({ bts: '3', batches: [['A1', 'A2']] }));
    expect(messages).toHaveLength(2);
    expect(problems).toEqual(['BTS-1 message count says 3, the batch holds 2']);
  });

  test('FTS-1 count mismatch is reported', () => {
    const { problems } = splitBatch(batchText({ fts: '1', batches: [['A1'], ['B1', 'B2']] }));
    expect(problems).toEqual(['FTS-1 batch count says 1, the file holds 2']);
  });

  test('each batch is counted on its own, even when the next one lacks its BHS', () => {
    const text = ['FHS|^~\\&', 'BHS|^~\\&', message('A1'), 'BTS|1', message('B1'), 'BTS|1', 'FTS|2'].join('\r');
    expect(splitBatch(text)).toEqual({ messages: [message('A1'), message('B1')], problems: [] });
  });

  test('a non-numeric count is a mismatch; an empty count is not checked', () => {
    expect(splitBatch(batchText({ bts: 'two', batches: [['A1', 'A2']] })).problems).toEqual([
      'BTS-1 message count says two, the batch holds 2',
    ]);
    expect(splitBatch(batchText({ bts: '', fts: '', batches: [['A1', 'A2']] })).problems).toEqual([]);
    expect(splitBatch('FHS|^~\\&\rBHS|^~\\&\r' + message('A1') + '\rBTS\rFTS').problems).toEqual([]);
  });

  test('a segment outside any message is reported', () => {
    const text = ['BHS|^~\\&', 'PID|1||X', message('A1'), 'BTS|1'].join('\r');
    const { messages, problems } = splitBatch(text);
    expect(messages).toEqual([message('A1')]);
    expect(problems).toEqual(['A PID segment stands outside any message']);
  });

  test('field values exactly MSH or BTS never split a message', () => {
    const tricky = [
      msh('T1'),
      'PID|1||123|||||M|||||||||S|MSH|999',
      'OBX|1|CWE|BTS^Blood transfusion service^L||MSH',
      'OBX|2|ST|FTS||BHS|FHS',
      'NTE|1||text\\.br\\MSH|BTS',
    ].join('\r');
    const text = ['BHS|^~\\&', tricky, message('T2'), 'BTS|2'].join('\r');
    const { messages, problems } = splitBatch(text);
    expect(problems).toEqual([]);
    expect(messages).toEqual([tricky, message('T2')]);
  });

  test('adt_a04_02 (a PID and PV1 holding the value MSH) stays one message', () => {
    const { messages, problems } = splitBatch(`BHS|^~\\&\r${hl7Fixture('adt_a04_02.hl7')}\rBTS|1`);
    expect(problems).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(V2Message.parse(messages[0]).segments.map((s) => s.name)).toEqual(
      V2Message.parse(hl7Fixture('adt_a04_02.hl7')).segments.map((s) => s.name),
    );
  });
});

describe('isBatch', () => {
  test.each([
    ['FHS|^~\\&|A', true],
    ['BHS|^~\\&|A', true],
    ['\r\nFHS|^~\\&', true],
    ['MSH|^~\\&|A|B', false],
    ['PID|1', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    expect(isBatch(text)).toBe(expected);
  });

  test('a single message whose fields hold FHS or BHS is not a batch', () => {
    expect(isBatch(`${msh('1')}\rOBX|1|ST|FHS||BHS`)).toBe(false);
    expect(isBatch(hl7Fixture('adt_a04_02.hl7'))).toBe(false);
    expect(isBatch(hl7Fixture('adt_a04_batch_01.hl7'))).toBe(true);
  });
});

// Acknowledgments over a real MLLP socket from the real server: ACK structure, AR/CR with ERR (table 0357)
// for what a channel refuses, enhanced mode per MSH-15/16, never an ACK to an ACK, and ackAfter 'processing'
// (AE with ERR for a message that fails mapping, AA once its resources are searchable).
import type { Observation } from '@medplum/fhirtypes';
import { adt, errOf, eventually, hl7, msh, oru, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;

beforeAll(async () => {
  server = await startInbound();
  // Stored channels replace the default one: a strict-environment lab, a synchronous one, then a catch-all.
  await server.saveChannel('lab', { sendingApplication: 'LABP', processingIds: ['P'] });
  await server.saveChannel('sync', { sendingApplication: 'SYNC', ackAfter: 'processing' });
  await server.saveChannel('main', {});
});
afterAll(() => server.close());

describe('ACK structure', () => {
  test('v2.5.1: MSH-3/4 and 5/6 swapped, ACK^A04^ACK, fresh MSH-10, MSH-11/12 copied, MSA-2 echoed', async () => {
    const id = uid();
    const message = adt(uid('MRN'), 'DOE^JANE', { id, processing: 'T' });
    const first = parseAck(await server.send(message));
    expect(first.code).toBe('AA');
    expect(first.controlId).toBe(id);
    expect(first.errors).toEqual([]);
    expect(first.msh.slice(2, 6)).toEqual(['HMS', 'HOSP', 'LAB', 'LABFAC']);
    expect(first.msh[6]).toMatch(/^\d{14}/);
    expect(first.msh[8]).toBe('ACK^A04^ACK');
    expect(first.msh.slice(10, 12)).toEqual(['T', '2.5.1']);
    const second = parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { processing: 'T' })));
    expect(first.msh[9]).toMatch(/^\S+$/);
    expect(new Set([first.msh[9], second.msh[9], id]).size).toBe(3);
  });

  test('ORU: ACK^R01^ACK in v2.5.1, ACK^R01 (no structure component) in v2.3', async () => {
    const id = uid();
    const ack = parseAck(await server.send(oru(uid('MRN'), uid('F'), '5.4', { version: '2.3', id })));
    expect(ack).toMatchObject({ code: 'AA', controlId: id });
    expect(ack.msh[8]).toBe('ACK^R01');
    expect(ack.msh[11]).toBe('2.3');
    expect(parseAck(await server.send(oru(uid('MRN'), uid('F')))).msh[8]).toBe('ACK^R01^ACK');
  });
});

describe('refusals: AR with ERR, stored as rejected', () => {
  const rejected: string[] = [];
  const refuse = async (text: string) => {
    const ack = parseAck(await server.send(text));
    rejected.push(ack.controlId);
    expect(ack.code).toBe('AR');
    expect(ack.errors).toHaveLength(1);
    return errOf(ack.errors[0]);
  };

  test.each([
    ['an unsupported message type', { type: 'MFN^M02' }, '200', 'MSH^1^9^1'],
    ['an unsupported event', { type: 'ADT^A99' }, '201', 'MSH^1^9^2'],
    ['a processing id the channel refuses', { from: 'LABP', processing: 'T' }, '202', 'MSH^1^11'],
    ['an unsupported version', { version: '2.9.9' }, '203', 'MSH^1^12'],
  ])('%s', async (_what, options, code, location) => {
    const err = await refuse(adt(uid('MRN'), 'DOE^JANE', options));
    expect(err).toMatchObject({ code, location, severity: 'E' });
    expect(err.text).not.toBe('');
  });

  test('the refusing channel takes its own environment', async () => {
    expect(parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { from: 'LABP' }))).code).toBe('AA');
  });

  test('an empty MSH-10: 101', async () => {
    const ack = parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { id: '' })));
    expect(ack.code).toBe('AR');
    expect(errOf(ack.errors[0])).toMatchObject({ code: '101', location: 'MSH^1^10' });
  });

  test('a frame without MSH gets AR 100 and the connection stays usable', async () => {
    const client = await server.connect();
    try {
      const garbage = parseAck(
        (await client.send(Buffer.from('hello, is this the lab?'), { timeoutMs: 5000 })).toString(),
      );
      expect(garbage.code).toBe('AR');
      expect(errOf(garbage.errors[0])).toMatchObject({ code: '100' });
      const id = uid();
      const next = parseAck(
        (await client.send(Buffer.from(adt(uid('MRN'), 'DOE^JANE', { id })), { timeoutMs: 5000 })).toString(),
      );
      expect(next).toMatchObject({ code: 'AA', controlId: id });
    } finally {
      client.close();
    }
  });

  test('v2.3: the reason is in MSA-3 and there is no ERR', async () => {
    const id = uid();
    const ack = await server.send(adt(uid('MRN'), 'DOE^JANE', { type: 'MFN^M02', version: '2.3', id }));
    rejected.push(id);
    expect(parseAck(ack)).toMatchObject({ code: 'AR', controlId: id, errors: [] });
    const msa = ack.split('\r').find((s) => s.startsWith('MSA|')) as string;
    expect(msa.split('|')[3]).toMatch(/MFN.*not supported/);
  });

  test('each rejected message is stored with status rejected, its ACK and reason', async () => {
    const stored = await server.messages('status=rejected');
    const ids = stored.map((m) => m.controlId);
    for (const id of rejected) expect(ids).toContain(id);
    expect(ids).toContain(''); // the empty MSH-10 and the garbage frame
    expect(stored.every((m) => m.status === 'rejected' && m.error?.code)).toBe(true);
    const detail = await server.message(stored.find((m) => m.controlId === rejected[0])!.id);
    expect(parseAck(detail.ack ?? '').code).toBe('AR');
  });
});

describe('enhanced mode', () => {
  test('MSH-15 AL: CA once stored, and the message is processed', async () => {
    const id = uid();
    const ack = parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { id, acceptAck: 'AL', appAck: 'NE' })));
    expect(ack).toMatchObject({ code: 'CA', controlId: id, errors: [] });
    await server.bridge.idle();
    expect((await server.byControlId(id)).status).toBe('processed');
  });

  test('MSH-15 NE: no reply, yet stored and processed', async () => {
    const id = uid();
    await server.expectNoReply(adt(uid('MRN'), 'DOE^JANE', { id, acceptAck: 'NE', appAck: 'NE' }));
    await server.bridge.idle();
    expect((await server.byControlId(id)).status).toBe('processed');
  });

  test('MSH-15 ER: no reply on success, CR with ERR on a refusal', async () => {
    await server.expectNoReply(adt(uid('MRN'), 'DOE^JANE', { acceptAck: 'ER', appAck: 'NE' }));
    const ack = parseAck(await server.send(adt(uid('MRN'), 'X^Y', { type: 'ADT^A99', acceptAck: 'ER', appAck: 'NE' })));
    expect(ack.code).toBe('CR');
    expect(errOf(ack.errors[0]).code).toBe('201');
  });

  test('MSH-15 NE or SU: a refusal is not answered either (the sender reads no reply)', async () => {
    const [ne, su] = [uid(), uid()];
    await server.expectNoReply(adt(uid('MRN'), 'X^Y', { id: ne, type: 'ADT^A99', acceptAck: 'NE', appAck: 'NE' }));
    await server.expectNoReply(adt(uid('MRN'), 'X^Y', { id: su, version: '2.9.9', acceptAck: 'SU', appAck: 'NE' }));
    expect((await server.byControlId(ne)).status).toBe('rejected');
    expect((await server.byControlId(su)).error?.code).toBe('203');
  });

  test('MSH-16 AL without an applicationAckChannel: noted in the history', async () => {
    const id = uid();
    expect(parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { id, acceptAck: 'AL', appAck: 'AL' }))).code).toBe(
      'CA',
    );
    const stored = await server.byControlId(id);
    const note = await eventually(async () =>
      (await server.message(stored.id)).history.find((e) => /applicationAckChannel/.test(e.detail ?? '')),
    );
    expect(note.detail).toMatch(/Application ACK requested/);
  });
});

describe('never an ACK to an ACK', () => {
  test('an ACK sent to us gets no reply and is not stored', async () => {
    const id = uid();
    const ack = hl7(msh({ type: 'ACK^R01^ACK', id }), `MSA|AA|${uid()}`);
    await server.expectNoReply(ack);
    expect(await server.messages(`controlId=${id}`)).toEqual([]);
  });

  test('not even from a sender no channel takes', async () => {
    await server.saveChannel('main', { sendingApplication: 'ONLY-THIS' });
    try {
      await server.expectNoReply(hl7(msh({ type: 'ACK', from: 'STRANGER' }), `MSA|AA|${uid()}`));
      // A message of that sender is refused, as no channel takes it.
      expect(parseAck(await server.send(adt(uid('MRN'), 'DOE^JANE', { from: 'STRANGER' }))).code).toBe('AR');
    } finally {
      await server.saveChannel('main', {});
    }
  });
});

describe("ackAfter 'processing'", () => {
  test.each([
    ['OBR-4 empty', (mrn: string) => oru(mrn, uid('F'), '5.4', { from: 'SYNC' }, ''), 'OBR^1^4'],
    ['PID-3 empty', () => oru('', uid('F'), '5.4', { from: 'SYNC' }), 'PID^1^3'],
  ])('%s: AE with ERR 101 and its location, in the error queue', async (_what, build, location) => {
    const text = build(uid('MRN'));
    const id = /^MSH(?:\|[^|]*){8}\|([^|]*)/.exec(text)?.[1] as string;
    const ack = parseAck(await server.send(text));
    expect(ack).toMatchObject({ code: 'AE', controlId: id });
    expect(errOf(ack.errors[0])).toMatchObject({ code: '101', location });
    const stored = await server.byControlId(id);
    expect(stored).toMatchObject({ channel: 'sync', status: 'error', error: { reason: 'map', code: '101', location } });
    expect((await server.messages('status=error')).map((m) => m.id)).toContain(stored.id);
    expect(parseAck((await server.message(stored.id)).ack ?? '').code).toBe('AE');
  });

  test('a good message gets AA once its resources are searchable', async () => {
    const filler = uid('F');
    await server.send(adt('SYNC-1', 'DOE^JANE', { from: 'SYNC' }));
    const ack = parseAck(await server.send(oru('SYNC-1', filler, '6.1', { from: 'SYNC' })));
    expect(ack.code).toBe('AA');
    // No idle(): the AA itself says the results are in.
    const found = await server.search<Observation>(
      `Observation?identifier=${encodeURIComponent(`urn:hms:v2:result:LIS|${filler}\\|2345-7`)}`,
    );
    expect(found).toHaveLength(1);
    expect(found[0].valueQuantity?.value).toBe(6.1);
    expect(found[0].meta?.source).toMatch(/^hl7v2:sync#\d+$/);
  });
});

describe("ackAfter 'processing': a resend while the first copy is still waiting", () => {
  /** A result with many OBX: applying it takes a while, so what is queued behind it waits. */
  const bigOru = (mrn: string, n: number) =>
    hl7(
      msh({ type: 'ORU^R01^ORU_R01', from: 'SYNC' }),
      `PID|1||${mrn}^^^HOSP^MR||DOE^JANE`,
      `OBR|1||${uid('F')}^LIS|24317-0^Hemogram^LN|||20240301080000+0100||||||||||||||||||F`,
      ...Array.from({ length: n }, (_, i) => `OBX|${i + 1}|NM|X${i}^Test ${i}^L||${i}|mmol/L|||||F`),
    );

  test('gets the outcome of that copy (AE), not an AA of its own', async () => {
    const slow = await Promise.all([server.connect(), server.connect()]);
    try {
      const pending = slow.map((c) => c.send(Buffer.from(bigOru('SYNC-1', 300)), { timeoutMs: 60_000 }));
      // The same patient: it queues behind the slow ones (messages about other patients would not wait).
      const text = oru('SYNC-1', uid('F'), '5.4', { from: 'SYNC' }, '');
      const id = /^MSH(?:\|[^|]*){8}\|([^|]*)/.exec(text)?.[1] as string;
      const first = server.send(text, 60_000);
      const stored = await eventually(async () => (await server.messages(`controlId=${id}`))[0]);
      expect(stored.status).toBe('received'); // still behind the slow ones: the resend below races it
      const second = parseAck(await server.send(text, 60_000));
      expect(parseAck(await first).code).toBe('AE');
      expect(second).toMatchObject({ code: 'AE', controlId: id });
      expect(second.errors[0].split('|')[2]).toBe('OBR^1^4');
      for (const ack of await Promise.all(pending)) expect(parseAck(ack.toString()).code).toBe('AA');
    } finally {
      for (const client of slow) client.close();
    }
  });
});

// Enhanced-mode application acknowledgments (MSH-16) over real sockets: the CA comes back on the sender's
// connection at once; the application ACK (AA once applied, AE with the ERR of the failure) goes to the
// sender's own listener through the outbound channel the inbound channel names, and gets no reply.
import { FakeHl7System } from '../../../support/fake-hl7-system';
import { adt, eventually, oru, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;
let sender: FakeHl7System;

beforeAll(async () => {
  server = await startInbound();
  // The sender's listener never answers: an ACK must not wait for an ACK of its own.
  sender = await FakeHl7System.start({ reply: 'silent' });
  await server.saveChannel('enh-acks', {
    direction: 'outbound',
    host: '127.0.0.1',
    port: sender.port,
    events: ['application-ack'],
    ackTimeoutMs: 500,
  });
  await server.saveChannel('enh', { sendingApplication: 'ENH', applicationAckChannel: 'enh-acks' });
  await server.saveChannel('lost', { sendingApplication: 'LOST', applicationAckChannel: 'nowhere' });
  await server.saveChannel('main', {});
});
afterAll(async () => {
  await server.close();
  await sender.close();
});

const msa = (message: string) => (message.split('\r').find((s) => s.startsWith('MSA|')) ?? '').split('|');

test('MSH-16 AL: CA on the connection, then AA to the sender with MSA-2 the original control id', async () => {
  const id = uid();
  const ack = parseAck(
    await server.send(adt(uid('MRN'), 'DOE^JANE', { id, from: 'ENH', acceptAck: 'AL', appAck: 'AL' })),
  );
  expect(ack).toMatchObject({ code: 'CA', controlId: id });
  const before = sender.received.length;
  await sender.waitFor(before + 1);
  const appAck = sender.received.find((m) => msa(m)[2] === id) as string;
  expect(msa(appAck)[1]).toBe('AA');
  expect(appAck.split('|').slice(2, 6)).toEqual(['HMS', 'HOSP', 'ENH', 'LABFAC']);
  const original = await server.byControlId(id);
  expect(original.status).toBe('processed');
  const queued = await eventually(async () => {
    const found = (await server.messages('channel=enh-acks&direction=out')) as {
      derivedFrom?: string;
      status: string;
    }[];
    return found.find((m) => m.derivedFrom === original.id && m.status === 'sent');
  });
  expect(queued).toMatchObject({ type: 'ACK', status: 'sent', attempts: 1 });
});

test('MSH-16 ER: no application ACK for a message applied, AE with the ERR for one that failed', async () => {
  const [good, bad] = [uid(), uid()];
  await server.send(oru(uid('MRN'), uid('F'), '5.4', { id: good, from: 'ENH', acceptAck: 'AL', appAck: 'ER' }));
  const failed = oru(uid('MRN'), uid('F'), '5.4', { id: bad, from: 'ENH', acceptAck: 'AL', appAck: 'ER' }, '');
  expect(parseAck(await server.send(failed)).code).toBe('CA');
  const appAck = await eventually(async () => sender.received.find((m) => msa(m)[2] === bad));
  expect(msa(appAck)[1]).toBe('AE');
  const err = appAck.split('\r').find((s) => s.startsWith('ERR|')) as string;
  expect(err.split('|')[2]).toBe('OBR^1^4');
  await server.bridge.idle();
  expect(sender.received.some((m) => msa(m)[2] === good)).toBe(false);
});

test('a channel naming a missing ACK channel: noted in the history, nothing sent', async () => {
  const id = uid();
  await server.send(adt(uid('MRN'), 'DOE^JANE', { id, from: 'LOST', acceptAck: 'AL', appAck: 'AL' }));
  const stored = await server.byControlId(id);
  const note = await eventually(async () =>
    (await server.message(stored.id)).history.find((e) => /Application ACK not sent/.test(e.detail ?? '')),
  );
  expect(note.detail).toMatch(/no outbound channel nowhere with the application-ack event/);
});

// Delivery of an outbound queue to a fake lab that misbehaves: AE/AR go to the error queue (the queue moves on,
// or holds under strictOrder), silence and dropped connections are retried with the same MSH-10, an ACK for
// another control id is ignored, order is kept, and a person can resend a failed message as it is or edited.
import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import { mshField, segmentField } from '../../../support/fake-hl7-system';
import {
  channelState,
  create,
  detail,
  labOrder,
  outbound,
  useLabChannels,
  waitForOutbound,
  type OutSummary,
} from './harness';

const env = useLabChannels('delivery');

const order = (note: string) => create(env.server, labOrder(env.parties, { note: [{ text: note }] }));
const placer = (request: ServiceRequest) => `${request.id}^HMS`;
const placers = () => env.lab.received.map((m) => segmentField(m, 'ORC', 2));
const until = (check: (m: OutSummary[]) => boolean, what: string) =>
  waitForOutbound(env.server, env.channel, check, what);
const post = async (path: string, body: object = {}) => {
  const res = await env.server.call('POST', path, body);
  expect(res.status).toBe(200);
  return res.body as OutSummary;
};

test('an AE goes to the error queue with the lab error text, and the next message is still delivered', async () => {
  await env.labChannel();
  env.lab.next({ code: 'AE', text: 'Test 24317-0 not orderable here', errorCode: '103' });
  const first = await order('first');
  const second = await order('second');
  const [failed, sent] = await until((m) => m.length === 2 && m[1].status === 'sent', 'the second delivered');
  expect(failed).toMatchObject({ status: 'error', attempts: 1, error: { reason: 'nak', code: '103' } });
  expect(failed.error?.text).toContain('Test 24317-0 not orderable here');
  expect(failed.error?.text).toContain('AE');
  expect(sent.status).toBe('sent');
  // The AE is final: the first order was not retried.
  expect(placers()).toEqual([placer(first), placer(second)]);
  expect((await detail(env.server, failed.id)).ack).toMatch(/MSA\|AE\|/);
});

test('an AR is final too', async () => {
  await env.labChannel();
  env.lab.next('AR');
  await order('rejected');
  const [failed] = await until((m) => m[0]?.status === 'error', 'the AR in the error queue');
  expect(failed.error).toMatchObject({ reason: 'nak', code: '103' });
  expect(failed.error?.text).toMatch(/AR.*Unknown test code/);
  expect(env.lab.received).toHaveLength(1);
});

test('under strictOrder a failed message holds the queue until it is discarded', async () => {
  await env.labChannel({ strictOrder: true });
  env.lab.next('AE');
  const first = await order('first');
  const second = await order('second');
  const [failed] = await until((m) => m.length === 2 && m[0].status === 'error', 'the first in the error queue');
  expect(await channelState(env.server, env.channel)).toBe('held');
  expect((await outbound(env.server, env.channel))[1].status).toBe('queued');
  expect(placers()).toEqual([placer(first)]);

  await post(`/admin/hl7/messages/${failed.id}/discard`, { reason: 'lab does not do this test' });
  const [discarded, sent] = await until((m) => m[1].status === 'sent', 'the second delivered after the discard');
  expect(discarded.status).toBe('discarded');
  expect(sent.status).toBe('sent');
  expect(placers()).toEqual([placer(first), placer(second)]);
  expect(await channelState(env.server, env.channel)).not.toBe('held');
});

test('a silent lab gets the same MSH-10 on every retry, then the message goes to the error queue', async () => {
  await env.labChannel({ ackTimeoutMs: 200, maxAttempts: 3 });
  env.lab.reply = 'silent';
  await order('unanswered');
  const [failed] = await until((m) => m[0]?.status === 'error', 'the message in the error queue');
  expect(failed).toMatchObject({ attempts: 3, error: { reason: 'transport' } });
  expect(failed.error?.text).toMatch(/No ACK after 3 attempts/);
  expect(env.lab.controlIds()).toEqual([failed.controlId, failed.controlId, failed.controlId]);
  const history = (await detail(env.server, failed.id)).history.map((h) => h.status);
  expect(history).toEqual(['queued', 'attempt', 'attempt', 'error']);
});

test('a connection dropped by the lab is retried and the message delivered once the lab answers', async () => {
  await env.labChannel({ maxAttempts: 5 });
  env.lab.next('drop', 'drop');
  await order('dropped twice');
  const [sent] = await until((m) => m[0]?.status === 'sent', 'the message delivered');
  expect(sent.attempts).toBe(3);
  expect(env.lab.controlIds()).toEqual([sent.controlId, sent.controlId, sent.controlId]);
});

test('an ACK naming another control id is ignored: the message times out and is sent again', async () => {
  await env.labChannel({ ackTimeoutMs: 300 });
  env.lab.next('wrong-id');
  await order('misacknowledged');
  const [sent] = await until((m) => m[0]?.status === 'sent', 'the message delivered');
  expect(sent.attempts).toBe(2);
  expect(env.lab.controlIds()).toEqual([sent.controlId, sent.controlId]);
  const message = await detail(env.server, sent.id);
  expect(message.ack).toContain(`MSA|AA|${sent.controlId}`);
  expect(message.history.find((h) => h.status === 'attempt')?.detail).toMatch(/No MLLP reply/);
});

test('orders created one after another arrive in creation order', async () => {
  await env.labChannel();
  // A slow lab, so the later orders wait in the queue behind the one in flight.
  env.lab.reply = { delayMs: 40, then: 'AA' };
  const requests: ServiceRequest[] = [];
  for (let i = 0; i < 5; i++) requests.push(await order(`order ${i}`));
  await env.lab.waitFor(5);
  expect(placers()).toEqual(requests.map(placer));
  await until((m) => m.length === 5 && m.every((x) => x.status === 'sent'), 'all five sent');
});

test('reprocessing an outbound error queues it again as it was, and it is delivered', async () => {
  await env.labChannel();
  env.lab.next('AE');
  await order('retry me');
  const [failed] = await until((m) => m[0]?.status === 'error', 'the AE in the error queue');
  const queued = await post(`/admin/hl7/messages/${failed.id}/reprocess`);
  expect(queued).toMatchObject({ id: failed.id, attempts: 0 });
  const [sent] = await until((m) => m[0]?.status === 'sent', 'the message delivered');
  expect(sent.error).toBeUndefined();
  const [before, after] = await env.lab.waitFor(2);
  expect(after).toBe(before);
  expect(await outbound(env.server, env.channel)).toHaveLength(1);
});

test('edit and resend sends a corrected copy with a new control id; the original is discarded', async () => {
  await env.labChannel();
  env.lab.next({ code: 'AE', text: 'Unknown test code 24317-0' });
  await order('wrong code');
  const [failed] = await until((m) => m[0]?.status === 'error', 'the AE in the error queue');
  const edited = (await detail(env.server, failed.id)).raw.replace('24317-0^Hemogram^LN', '58410-2^CBC panel^LN');
  const copy = await post(`/admin/hl7/messages/${failed.id}/resend`, { message: edited });
  expect(copy).toMatchObject({ derivedFrom: failed.id, type: 'OML^O21' });
  expect(copy.controlId).not.toBe(failed.controlId);

  const [original, sent] = await until((m) => m.length === 2 && m[1].status === 'sent', 'the copy delivered');
  expect(original.status).toBe('discarded');
  expect(sent.id).toBe(copy.id);
  const [, resent] = await env.lab.waitFor(2);
  expect(mshField(resent, 10)).toBe(copy.controlId);
  expect(segmentField(resent, 'OBR', 4)).toBe('58410-2^CBC panel^LN');
  expect(resent.split('\r')).toHaveLength(env.lab.received[0].split('\r').length);
});

test('a Latin-1 lab gets 8859/1 bytes, and an edited copy keeps them', async () => {
  await env.labChannel({ charset: '8859/1' });
  env.lab.next('AE');
  const patient = await create<Patient>(env.server, {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hms:v2:HOSP', value: 'LATIN-1' }],
    name: [{ family: 'Núñez', given: ['Zoë'] }],
  });
  await create(env.server, labOrder({ patient, practitioner: env.parties.practitioner }));
  const [failed] = await until((m) => m[0]?.status === 'error', 'the AE in the error queue');
  expect(mshField(env.lab.received[0], 18)).toBe('8859/1');
  expect(segmentField(env.lab.received[0], 'PID', 5)).toBe('Núñez^Zoë');

  const raw = (await detail(env.server, failed.id)).raw;
  expect(raw).toContain('Núñez^Zoë');
  await post(`/admin/hl7/messages/${failed.id}/resend`, { message: raw.replace('Zoë', 'Zoé') });
  await until((m) => m[1]?.status === 'sent', 'the copy delivered');
  expect(segmentField(env.lab.received[1], 'PID', 5)).toBe('Núñez^Zoé');
});

// Under strictOrder an edited copy takes its original's place: a CA must not reach the lab before the NW it cancels.
test('under strictOrder an edited copy is sent in its original place, before the waiting ones', async () => {
  await env.labChannel({ strictOrder: true });
  env.lab.next('AE');
  const first = await order('first');
  const second = await order('second');
  const [failed] = await until((m) => m.length === 2 && m[0].status === 'error', 'the first in the error queue');
  const raw = (await detail(env.server, failed.id)).raw;
  await post(`/admin/hl7/messages/${failed.id}/resend`, { message: raw.replace('Hemogram', 'Hemogram (edited)') });
  await until((m) => m.length === 3 && m[1].status === 'sent' && m[2].status === 'sent', 'both delivered');
  expect(placers()).toEqual([placer(first), placer(first), placer(second)]);
});

// Duplicates and conflicts on (MSH-3, MSH-4, MSH-10) over the socket: a replay gets the stored ACK and
// changes nothing; the same key with other content is held as a conflict (not applied, in the error queue,
// alerted without patient data) until a person discards or reprocesses it.
import type { Encounter, Patient } from '@medplum/fhirtypes';
import { adt, hl7, msh, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;

beforeAll(async () => {
  server = await startInbound();
  await server.saveChannel('sync', { sendingApplication: 'SYNC', ackAfter: 'processing' });
  await server.saveChannel('default', {});
});
afterAll(() => server.close());

const COUNTED = ['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'Task'];
const counts = async () => Object.fromEntries(await Promise.all(COUNTED.map(async (t) => [t, await server.count(t)])));

const patientByMrn = async (mrn: string) => {
  const found = await server.search<Patient>(`Patient?identifier=urn:hms:v2:HOSP|${mrn}`);
  expect(found).toHaveLength(1);
  return found[0];
};

/** An A01 that also opens an Encounter (visit number `<mrn>-V`), so a replay would show up in two types. */
const admit = (mrn: string, family: string, id: string, from = 'LAB') =>
  hl7(
    msh({ type: 'ADT^A01^ADT_A01', id, from }),
    'EVN|A01|20240301120000',
    `PID|1||${mrn}^^^HOSP^MR||${family}^JANE||19800101|F`,
    ['PV1', '1', 'I', 'WARD^1^1', ...Array<string>(15).fill(''), `${mrn}-V^^^HOSP^VN`].join('|'),
  );

describe('a replay of the same bytes', () => {
  const mrn = uid('MRN');
  const id = uid();
  const text = admit(mrn, 'REPLAY', id);
  let firstAck: string;

  test('gets the stored ACK (same MSA-2, same MSH-10) and applies nothing twice', async () => {
    firstAck = await server.send(text);
    expect(parseAck(firstAck)).toMatchObject({ code: 'AA', controlId: id });
    await server.bridge.idle();
    const patient = await patientByMrn(mrn);
    const [encounter] = await server.search<Encounter>(`Encounter?subject=Patient/${patient.id}`);
    const before = await counts();

    for (let i = 0; i < 3; i++) expect(await server.send(text)).toBe(firstAck);
    await server.bridge.idle();
    expect(await counts()).toEqual(before);
    expect((await patientByMrn(mrn)).meta?.versionId).toBe(patient.meta?.versionId);
    const [again] = await server.search<Encounter>(`Encounter?subject=Patient/${patient.id}`);
    expect(again.meta?.versionId).toBe(encounter.meta?.versionId);
  });

  test('is one stored message whose history shows the duplicates', async () => {
    const stored = await server.byControlId(id);
    expect(stored.status).toBe('processed');
    const { history } = await server.message(stored.id);
    expect(history.filter((e) => e.status === 'duplicate')).toHaveLength(3);
    expect(history.filter((e) => e.status === 'processed')).toHaveLength(1);
  });
});

describe('the same key with other content', () => {
  const mrn = uid('MRN');
  const id = uid();
  let conflictId: string;

  test('is stored as a conflict and not applied', async () => {
    await server.send(admit(mrn, 'ORIGINAL', id));
    await server.bridge.idle();
    const before = await counts();
    const patient = await patientByMrn(mrn);

    const ack = parseAck(await server.send(admit(mrn, 'CHANGED', id)));
    expect(ack).toMatchObject({ controlId: id, errors: [] });
    await server.bridge.idle();
    const stored = (await server.messages(`controlId=${id}`)).find((m) => m.status !== 'processed');
    expect(stored).toMatchObject({ status: 'conflict', error: { reason: 'conflict', code: '205' } });
    conflictId = stored!.id;
    expect(await counts()).toEqual(before);
    const unchanged = await patientByMrn(mrn);
    expect(unchanged.name?.[0].family).toBe('ORIGINAL');
    expect(unchanged.meta?.versionId).toBe(patient.meta?.versionId);
  });

  test('is in the error queue (status=error,conflict)', async () => {
    const queue = await server.messages('status=error,conflict');
    expect(queue.find((m) => m.id === conflictId)?.status).toBe('conflict');
    expect((await server.messages('status=error')).map((m) => m.id)).not.toContain(conflictId);
  });

  test('raises a conflict alert that carries no patient data', async () => {
    const alerts = server.bridge.alerts.sent.filter((a) => a.kind === 'conflict');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ channel: 'default', count: 1 });
    const { body } = await server.call('GET', '/admin/hl7/status');
    const json = JSON.stringify([alerts, body.alerts]);
    expect(json).toContain('conflict');
    for (const phi of [mrn, 'CHANGED', 'ORIGINAL', 'JANE', '19800101', id]) expect(json).not.toContain(phi);
  });

  test('is counted as errored by the channel status', async () => {
    const { body } = await server.call('GET', '/admin/hl7/status');
    const channel = (body.channels as { id: string; errored: number }[]).find((c) => c.id === 'default');
    expect(channel?.errored).toBeGreaterThanOrEqual(1);
  });

  test('a discard needs a reason, then it is discarded and stays unapplied', async () => {
    expect((await server.call('POST', `/admin/hl7/messages/${conflictId}/discard`, {})).status).toBe(400);
    const res = await server.call('POST', `/admin/hl7/messages/${conflictId}/discard`, {
      reason: 'sender counter reset, same visit',
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('discarded');
    const detail = await server.message(conflictId);
    expect(detail.status).toBe('discarded');
    expect(detail.history.at(-1)).toMatchObject({ status: 'discarded', detail: 'sender counter reset, same visit' });
    expect((await server.messages('status=error,conflict')).map((m) => m.id)).not.toContain(conflictId);
    expect((await patientByMrn(mrn)).name?.[0].family).toBe('ORIGINAL');
  });

  test('a replay of the conflicting bytes is a duplicate of the conflict, not a new message', async () => {
    const before = (await server.messages(`controlId=${id}`)).length;
    await server.send(admit(mrn, 'CHANGED', id));
    expect(await server.messages(`controlId=${id}`)).toHaveLength(before);
  });

  test('reprocessing a conflict applies it', async () => {
    await server.send(admit(mrn, 'REVISED', id));
    await server.bridge.idle();
    const conflict = (await server.messages(`controlId=${id}&status=conflict`))[0];
    expect(conflict).toBeDefined();
    expect((await patientByMrn(mrn)).name?.[0].family).toBe('ORIGINAL');
    const res = await server.call('POST', `/admin/hl7/messages/${conflict.id}/reprocess`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed' });
    expect(res.body.error).toBeUndefined();
    const patient = await patientByMrn(mrn);
    expect(patient.name?.[0].family).toBe('REVISED');
    expect(patient.meta?.source).toBe(`hl7v2:default#${conflict.id}`);
    const { history } = await server.message(conflict.id);
    expect(history.map((e) => e.status)).toEqual(['conflict', 'reprocessed', 'processed']);
  });
});

test('the same control id from another facility is another message', async () => {
  const id = uid();
  const [mrnA, mrnB] = [uid('MRN'), uid('MRN')];
  expect(parseAck(await server.send(adt(mrnA, 'DOE^ANN', { id, facility: 'SITE-A' }))).code).toBe('AA');
  expect(parseAck(await server.send(adt(mrnB, 'DOE^BEA', { id, facility: 'SITE-B' }))).code).toBe('AA');
  await server.bridge.idle();
  const stored = await server.messages(`controlId=${id}`);
  expect(stored.map((m) => m.status)).toEqual(['processed', 'processed']);
  await patientByMrn(mrnA);
  await patientByMrn(mrnB);
});

test("ackAfter 'processing': a conflict was not applied, so it is AE 205, and so is its replay", async () => {
  const [mrn, id] = [uid('MRN'), uid()];
  expect(parseAck(await server.send(admit(mrn, 'FIRST', id, 'SYNC'))).code).toBe('AA');
  const conflict = admit(mrn, 'SECOND', id, 'SYNC');
  const ack = await server.send(conflict);
  expect(parseAck(ack)).toMatchObject({ code: 'AE', controlId: id });
  expect(parseAck(ack).errors[0].split('|')[3]).toMatch(/^205\^/);
  expect(await server.send(conflict)).toBe(ack);
  expect((await patientByMrn(mrn)).name?.[0].family).toBe('FIRST');
});

// Charges and ADT out: a billable ChargeItem reaches a fake billing system as DFT^P03 (FT1-6 CG, FT1-11
// `100&USD`) and its reversal as FT1-6 CD; patients and visits reach an ADT subscriber as A04 / A08 and
// A01 / A03.
import type { ChargeItem, Encounter, Patient } from '@medplum/fhirtypes';
import { FakeHl7System, mshField, segmentField } from '../../../support/fake-hl7-system';
import type { Hl7TestServer } from '../../../support/hl7-server';
import {
  V2_0203,
  channelSettings,
  closeServer,
  create,
  outbound,
  removeChannel,
  saveChannel,
  startHl7Server,
  update,
  waitForOutbound,
} from './harness';

let server: Hl7TestServer;
let system: FakeHl7System;
let channel: string;
let channels = 0;

beforeAll(async () => {
  server = await startHl7Server();
});
afterAll(() => closeServer(server));

async function channelFor(events: string[]): Promise<void> {
  system = await FakeHl7System.start({ application: 'BILLING' });
  channel = `${events[0]}-${++channels}`;
  await saveChannel(server, channel, channelSettings(system.port, { events }));
}

afterEach(async () => {
  await removeChannel(server, channel);
  await system.close();
});

const newPatient = (mrn: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:hms:v2:HOSP', value: mrn, type: { coding: [{ system: V2_0203, code: 'MR' }] } }],
  name: [{ family: 'Roe', given: ['Richard'] }],
  birthDate: '1975-06-07',
  gender: 'male',
});

const types = () => system.received.map((m) => mshField(m, 9));
const allSent = (count: number) => (m: { status: string }[]) =>
  m.length === count && m.every((x) => x.status === 'sent');

test('a billable charge goes out as DFT^P03, and entered-in-error reverses it with a credit', async () => {
  await channelFor(['charge']);
  const patient = await create(server, newPatient('CHG-1'));
  const charge = await create<ChargeItem>(server, {
    resourceType: 'ChargeItem',
    status: 'billable',
    identifier: [{ system: 'urn:hms:charge', value: 'CH-1001' }],
    code: { coding: [{ system: 'urn:hms:cdm', code: 'LAB-CBC', display: 'Complete blood count' }] },
    subject: { reference: `Patient/${patient.id}` },
    occurrenceDateTime: '2024-03-05T10:00:00Z',
    quantity: { value: 1 },
    priceOverride: { value: 100, currency: 'USD' },
  });
  const [posted] = await system.waitFor(1);
  expect(mshField(posted, 9)).toBe('DFT^P03^DFT_P03');
  expect(segmentField(posted, 'EVN', 1)).toBe('P03');
  expect(segmentField(posted, 'PID', 3).split('~')[0]).toBe('CHG-1^^^HOSP^MR');
  expect(segmentField(posted, 'FT1', 2)).toBe('CH-1001');
  expect(segmentField(posted, 'FT1', 6)).toBe('CG');
  expect(segmentField(posted, 'FT1', 7)).toMatch(/^LAB-CBC\^Complete blood count\^/);
  expect(segmentField(posted, 'FT1', 11)).toBe('100&USD');
  await waitForOutbound(server, channel, allSent(1), 'the charge sent');

  await update(server, { ...charge, status: 'entered-in-error' });
  const [, reversed] = await system.waitFor(2);
  expect(mshField(reversed, 9)).toBe('DFT^P03^DFT_P03');
  expect(segmentField(reversed, 'FT1', 2)).toBe('CH-1001');
  expect(segmentField(reversed, 'FT1', 6)).toBe('CD');
  expect(segmentField(reversed, 'FT1', 11)).toBe('100&USD');
  const sent = await waitForOutbound(server, channel, allSent(2), 'the reversal sent');
  expect(sent.map((m) => m.type)).toEqual(['DFT^P03', 'DFT^P03']);
});

test('a planned charge is not posted until it becomes billable', async () => {
  await channelFor(['charge']);
  const patient = await create(server, newPatient('CHG-2'));
  const planned = await create<ChargeItem>(server, {
    resourceType: 'ChargeItem',
    status: 'planned',
    code: { coding: [{ system: 'urn:hms:cdm', code: 'LAB-BMP' }] },
    subject: { reference: `Patient/${patient.id}` },
    priceOverride: { value: 42.5, currency: 'USD' },
  });
  await update(server, { ...planned, status: 'billable' });
  const [posted] = await system.waitFor(1);
  // The planned version made no message: the first one is the billable version's, keyed by its own id.
  expect(segmentField(posted, 'FT1', 2)).toBe(planned.id);
  expect(segmentField(posted, 'FT1', 11)).toBe('42.5&USD');
  const [only] = await waitForOutbound(server, channel, allSent(1), 'the charge sent');
  expect(only.type).toBe('DFT^P03');
});

test('a patient registered then updated goes out as ADT^A04 then ADT^A08', async () => {
  await channelFor(['adt']);
  const patient = await create(server, newPatient('ADT-1'));
  await update(server, { ...patient, name: [{ family: 'Roe', given: ['Rick'] }] });
  const [registered, updated] = await system.waitFor(2);
  expect(types()).toEqual(['ADT^A04^ADT_A01', 'ADT^A08^ADT_A01']);
  expect(segmentField(registered, 'EVN', 1)).toBe('A04');
  expect(segmentField(registered, 'PID', 5)).toBe('Roe^Richard');
  expect(segmentField(updated, 'PID', 5)).toBe('Roe^Rick');
  expect(segmentField(updated, 'PID', 3).split('~')).toContain(`${patient.id}^^^HMS^PI`);
  expect(segmentField(registered, 'PV1', 2)).toBe('N');
  await waitForOutbound(server, channel, allSent(2), 'both sent');
});

test('a visit in progress goes out as ADT^A01 and its end as ADT^A03', async () => {
  await channelFor(['adt']);
  const patient = await create(server, newPatient('ADT-2'));
  await system.waitFor(1);
  const encounter = await create<Encounter>(server, {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    identifier: [{ system: 'urn:hms:v2:HOSP', value: 'V-2001', type: { coding: [{ system: V2_0203, code: 'VN' }] } }],
    subject: { reference: `Patient/${patient.id}` },
    period: { start: '2024-03-05T08:00:00Z' },
  });
  const [, admitted] = await system.waitFor(2);
  expect(mshField(admitted, 9)).toBe('ADT^A01^ADT_A01');
  expect(segmentField(admitted, 'PV1', 2)).toBe('I');
  expect(segmentField(admitted, 'PV1', 19)).toMatch(/^V-2001\^/);
  expect(segmentField(admitted, 'PID', 3).split('~')[0]).toBe('ADT-2^^^HOSP^MR');

  await update(server, {
    ...encounter,
    status: 'finished',
    period: { ...encounter.period, end: '2024-03-06T12:00:00Z' },
  });
  const [, , discharged] = await system.waitFor(3);
  expect(mshField(discharged, 9)).toBe('ADT^A03^ADT_A03');
  expect(segmentField(discharged, 'PV1', 45)).toMatch(/^20240306/);
  const sent = await waitForOutbound(server, channel, allSent(3), 'all sent');
  expect(sent.map((m) => m.type)).toEqual(['ADT^A04', 'ADT^A01', 'ADT^A03']);
  expect(await outbound(server, channel)).toHaveLength(3);
});

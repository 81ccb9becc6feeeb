// SIU^S12..S26 -> Appointment: field by field for siu_s12_01, statuses by SCH-25 and by event, the start/end
// fallbacks (TQ1, SCH-11, resource segments), durations, participants and errors.
import type { Appointment, Bundle, Location, Practitioner } from '@medplum/fhirtypes';
import { addMinutes, siuToBundle } from '../../../../integrations/hl7v2/mappings/siu';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture, hl7FixtureNames, testMappingContext } from '../../../support/hl7';
import { entriesOf, mappingError } from './helpers';

const SIU_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('siu_'));
const context = testMappingContext({ sender: 'GHHSFacility' });
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const mapFixture = (name: string, edit: (text: string) => string = (t) => t): Bundle =>
  siuToBundle(V2Message.parse(edit(hl7Fixture(name))), context);
const appointmentOf = (bundle: Bundle): Appointment => {
  const found = entriesOf(bundle, 'Appointment');
  expect(found).toHaveLength(1);
  return found[0].resource as Appointment;
};
/** siu_s12_01 with segments edited by a function over its lines. */
const editLines = (edit: (lines: string[]) => string[]) => (text: string) =>
  `${edit(text.split('\r').filter(Boolean)).join('\r')}\r`;
const withEvent = (event: string) => (text: string) => text.replace('|SIU^S12^SIU_S12|', `|SIU^${event}^SIU_${event}|`);

describe('siu_s12_01 (v2.8 S12 with TQ1, AIS, AIG, AIL, AIP)', () => {
  const bundle = mapFixture('siu_s12_01.hl7');
  const appointment = appointmentOf(bundle);

  it('upserts the Appointment on the filler id SCH-2, listing placer and filler ids', () => {
    expect(entriesOf(bundle, 'Appointment')[0].request).toEqual({
      method: 'PUT',
      url: `Appointment?identifier=${encodeURIComponent('urn:hms:v2:GHHSFacility|36996')}`,
    });
    expect(appointment.identifier).toEqual([
      { type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: 'urn:hms:v2:GHHSFacility', value: '12345' },
      { type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: 'urn:hms:v2:GHHSFacility', value: '36996' },
    ]);
  });

  it('maps status, times (TQ1-7/8), duration (60 s -> 1 min), type, reason, service and comment', () => {
    expect(appointment.status).toBe('booked');
    expect(appointment.start).toBe('2021-09-24T09:30:00+02:15');
    expect(appointment.end).toBe('2021-09-24T10:20:00+02:15');
    expect(appointment.minutesDuration).toBe(1);
    expect(appointment.appointmentType).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0277', code: 'Normal' }],
    });
    expect(appointment.reasonCode).toEqual([
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'EMERGENCY' }] },
    ]);
    expect(appointment.serviceType).toEqual([
      {
        coding: [
          { system: 'http://snomed.info/sct', code: '76164006', display: 'Biopsy of colon (procedure)' },
          { code: '1212', display: 'Biopsy' },
        ],
      },
    ]);
    expect(appointment.comment).toBe('Appointment booked for emergency procedure');
  });

  it('has the patient (conditional reference, accepted) and the AIG, AIL and AIP resources as participants', () => {
    const period = { start: '2021-09-24T09:30:00+02:15', end: '2021-09-24T10:20:00+02:15' };
    const [patient, equipment, room, doctor] = appointment.participant;
    expect(appointment.participant).toHaveLength(4);
    expect(patient).toEqual({
      actor: {
        reference: `Patient?identifier=${encodeURIComponent('urn:hms:v2:test1|PATID1234')}`,
        display: 'ADAM A EVERYMAN',
      },
      status: 'accepted',
    });
    expect(equipment).toEqual({
      actor: {
        identifier: { system: 'urn:hms:v2:resource:GHHSFacility', value: '5001' },
        display: 'EVIS X12 Video Colonoscope',
      },
      type: [{ coding: [{ system: 'urn:hms:v2:codesystem:L', code: '101', display: 'Equipment' }] }],
      status: 'accepted',
      period,
    });
    const location = entriesOf(bundle, 'Location');
    expect(location).toHaveLength(1);
    expect(location[0].request?.url).toBe(
      `Location?identifier=${encodeURIComponent('urn:hms:v2:location:GHHSFacility|GH Clinic^055^Room01^')}`,
    );
    expect((location[0].resource as Location).name).toBe('055 Room01');
    expect(room).toEqual({
      actor: { reference: location[0].fullUrl, display: '055 Room01' },
      status: 'accepted',
      period,
    });
    const practitioner = entriesOf(bundle, 'Practitioner');
    expect(practitioner).toHaveLength(1);
    expect((practitioner[0].resource as Practitioner).identifier).toEqual([
      { system: 'urn:hms:v2:GHHSFacility', value: '1210' },
    ]);
    expect(doctor).toEqual({
      actor: { reference: practitioner[0].fullUrl, display: 'Robert C GE' },
      type: [{ coding: [{ system: 'urn:hms:v2:codesystem:L', code: '010', display: 'Gastroenterologist' }] }],
      status: 'accepted',
      period,
    });
  });

  it('never writes the patient', () => {
    expect(entriesOf(bundle, 'Patient')).toHaveLength(0);
  });
});

describe('every SIU sample', () => {
  test.each(SIU_FIXTURES)('%s maps to a timed Appointment with the patient as participant', (name) => {
    const appointment = appointmentOf(mapFixture(name));
    expect(appointment.start).toBeTruthy();
    expect(appointment.end).toBeTruthy();
    expect(appointment.participant[0].actor?.reference).toMatch(/^Patient\?identifier=/);
  });

  it('siu_s12_02: three resource groups -> three Practitioners and Locations, two services, 70 min', () => {
    const bundle = mapFixture('siu_s12_02.hl7');
    const appointment = appointmentOf(bundle);
    expect(entriesOf(bundle, 'Practitioner')).toHaveLength(3);
    expect(entriesOf(bundle, 'Location')).toHaveLength(3);
    expect(appointment.serviceType?.map((s) => s.coding?.[0]?.code)).toEqual(['58410-2', '42272-5']);
    expect(appointment.minutesDuration).toBe(70);
    expect(appointment.participant).toHaveLength(9);
    expect(appointment.start).toBe('2021-08-18T11:30:00+02:15');
  });
});

describe('status', () => {
  it.each([
    ['S13', 'booked'],
    ['S14', 'booked'],
    ['S15', 'cancelled'],
    ['S17', 'entered-in-error'],
    ['S26', 'noshow'],
  ])('event %s -> %s, on the same Appointment', (event, status) => {
    const bundle = mapFixture('siu_s12_01.hl7', withEvent(event));
    expect(appointmentOf(bundle).status).toBe(status);
    expect(entriesOf(bundle, 'Appointment')[0].request?.url).toBe(
      entriesOf(mapFixture('siu_s12_01.hl7'), 'Appointment')[0].request?.url,
    );
  });

  it.each([
    ['Pending', 'pending'],
    ['Waitlist', 'waitlist'],
    ['Booked', 'booked'],
    ['Started', 'checked-in'],
    ['Complete', 'fulfilled'],
    ['Cancelled', 'cancelled'],
    ['Deleted', 'entered-in-error'],
    ['Noshow', 'noshow'],
    ['', 'booked'],
    ['Whatever', 'booked'],
  ])('SCH-25 %s -> %s', (code, status) => {
    const bundle = mapFixture('siu_s12_01.hl7', (t) => t.replace('|||Booked|\r', `|||${code}|\r`));
    expect(appointmentOf(bundle).status).toBe(status);
  });

  it('an AIP cancelled declines its participant', () => {
    const bundle = mapFixture('siu_s12_01.hl7', (t) => t.replace(/(AIP\|.*)\|Booked\|/, '$1|Cancelled|'));
    expect(appointmentOf(bundle).participant[3].status).toBe('declined');
  });
});

describe('start, end and duration', () => {
  const withoutTq1 = editLines((lines) => lines.filter((l) => !l.startsWith('TQ1|')));

  it('falls back to SCH-11 TQ.4/TQ.5 without TQ1', () => {
    const appointment = appointmentOf(mapFixture('siu_s12_01.hl7', withoutTq1));
    expect(appointment.start).toBe('2020-10-01T11:26:00+02:15');
    expect(appointment.end).toBe('2020-10-09T11:26:00+02:15');
  });

  it('falls back to the resources start + duration without TQ1 and SCH-11', () => {
    const edit = (t: string) => withoutTq1(t).replace('|2^^2 hours^202010011126+0215^202010091126+0215^R|', '||');
    const appointment = appointmentOf(mapFixture('siu_s12_01.hl7', edit));
    expect(appointment.start).toBe('2021-09-24T09:30:00+02:15');
    expect(appointment.end).toBe('2021-09-24T10:20:00+02:15');
  });

  it('computes the end from SCH-9/10 when only a start is sent (hours)', () => {
    const edit = (t: string) => t.replace('|60|s|', '|2|h|').replace('|20210924102000+0215|A', '||A');
    const appointment = appointmentOf(mapFixture('siu_s12_01.hl7', edit));
    expect(appointment.minutesDuration).toBe(120);
    expect(appointment.end).toBe('2021-09-24T11:30:00+02:15');
  });

  it('a booked appointment without any time is a missing SCH-11; a cancelled one is accepted', () => {
    const untimed = editLines((lines) =>
      lines
        .filter((l) => !/^(TQ1|AIS|AIG|AIL|AIP)\|/.test(l))
        .map((l) => l.replace('|2^^2 hours^202010011126+0215^202010091126+0215^R|', '||')),
    );
    expect(mappingError(() => mapFixture('siu_s12_01.hl7', untimed)).location).toBe('SCH^1^11');
    const cancelled = appointmentOf(mapFixture('siu_s12_01.hl7', (t) => withEvent('S15')(untimed(t))));
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.start).toBeUndefined();
  });

  it('addMinutes keeps the offset and crosses midnight', () => {
    expect(addMinutes('2021-12-31T23:30:00+02:15', 45)).toBe('2022-01-01T00:15:00+02:15');
    expect(addMinutes('2021-06-01T08:00:00Z', 90)).toBe('2021-06-01T09:30:00Z');
    expect(addMinutes('2021-06-01', 90)).toBeUndefined();
  });
});

describe('errors', () => {
  it('an SCH without placer or filler id is a missing SCH-2', () => {
    const error = mappingError(() => mapFixture('siu_s12_01.hl7', (t) => t.replace('\rSCH|12345|36996|', '\rSCH|||')));
    expect(error.location).toBe('SCH^1^2');
  });

  it('a message without SCH is a segment sequence error', () => {
    const error = mappingError(() =>
      mapFixture(
        'siu_s12_01.hl7',
        editLines((lines) => lines.filter((l) => !l.startsWith('SCH|'))),
      ),
    );
    expect(error.code).toBe('100');
  });

  it('an appointment with neither patient nor resources has no participant', () => {
    const bare = editLines((lines) => lines.filter((l) => !/^(PID|AIG|AIL|AIP)\|/.test(l)));
    expect(mappingError(() => mapFixture('siu_s12_01.hl7', bare)).location).toBe('PID^1^3');
  });
});

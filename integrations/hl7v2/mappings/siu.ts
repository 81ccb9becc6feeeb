// SIU^S12-S26 -> Appointment upserted on the filler (else placer) appointment id (v2-to-FHIR IG, reference §2.4),
// with AIP Practitioners and AIL Locations as participants. The patient is only referenced, never created.
import type {
  Appointment,
  AppointmentParticipant,
  CodeableConcept,
  Identifier,
  Patient,
  Period,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import type { V2Field, V2Message, V2Segment } from '../message/v2-message';
import { transactionBuilder } from './bundle';
import type { MappingContext } from './context';
import { codeableConcept, decimal, entityIdentifier, instant } from './datatypes';
import { senderSystem } from './orm';
import { codedWithTable } from './pid';
import { partyResolver, type PartyResolver } from './pv1';
import { patientReference } from './patient-key';
import { MappingError, type InboundMapping } from './types';

/** SCH-25 filler status (table 0278, case as sent varies) -> Appointment.status. */
const FILLER_STATUS: Record<string, Appointment['status']> = {
  pending: 'pending',
  waitlist: 'waitlist',
  booked: 'booked',
  overbook: 'booked',
  started: 'checked-in',
  complete: 'fulfilled',
  cancelled: 'cancelled',
  dc: 'cancelled',
  deleted: 'entered-in-error',
  noshow: 'noshow',
};

/** Trigger events whose meaning is the status, whatever SCH-25 says. */
const EVENT_STATUS: Record<string, Appointment['status']> = {
  S15: 'cancelled',
  S16: 'cancelled',
  S17: 'entered-in-error',
  S26: 'noshow',
};

/** AIx filler status (table 0278) -> participant status. */
const PARTICIPANT_STATUS: Record<string, AppointmentParticipant['status']> = {
  pending: 'tentative',
  waitlist: 'tentative',
  cancelled: 'declined',
  dc: 'declined',
  deleted: 'declined',
  noshow: 'declined',
};

/** Statuses an Appointment may have without start and end (R4 invariant app-3). */
const UNTIMED_STATUSES = new Set<Appointment['status']>(['proposed', 'cancelled', 'waitlist']);

/** Duration units (SCH-10, AIx duration units; ISO+ / ANSI / free text) -> minutes per unit; default minutes. */
const MINUTES_PER_UNIT: Record<string, number> = {
  s: 1 / 60,
  sec: 1 / 60,
  second: 1 / 60,
  seconds: 1 / 60,
  min: 1,
  minute: 1,
  minutes: 1,
  h: 60,
  hr: 60,
  hour: 60,
  hours: 60,
  d: 1440,
  day: 1440,
  days: 1440,
};

/** Where each resource segment keeps its start, duration, duration units and filler status. */
const RESOURCE_FIELDS: Record<string, { start: number; duration: number; units: number; status: number }> = {
  AIS: { start: 4, duration: 7, units: 8, status: 10 },
  AIG: { start: 8, duration: 11, units: 12, status: 14 },
  AIL: { start: 6, duration: 9, units: 10, status: 12 },
  AIP: { start: 6, duration: 9, units: 10, status: 12 },
};

/** A duration in whole minutes (positiveInt), or undefined for none / zero. */
function minutes(amount: string, units: V2Field): number | undefined {
  const value = decimal(amount);
  if (value === undefined) return undefined;
  const factor = MINUTES_PER_UNIT[units.get(1).toLowerCase()] ?? MINUTES_PER_UNIT[units.get(2).toLowerCase()] ?? 1;
  const result = Math.round(value * factor);
  return result > 0 ? result : undefined;
}

/** An instant plus minutes, in the instant's own offset (pure arithmetic on the wall time). */
export function addMinutes(start: string, amount: number): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(start);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, zone] = match;
  const wall = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + amount * 60_000);
  return `${wall.toISOString().slice(0, 19)}${zone}`;
}

const epoch = (value: string) => Date.parse(value);

interface ResourceTiming {
  period?: Period;
  status: AppointmentParticipant['status'];
}

function resourceTiming(segment: V2Segment, context: MappingContext): ResourceTiming {
  const fields = RESOURCE_FIELDS[segment.name];
  const start = instant(segment.get(fields.start, 1), context);
  const duration = minutes(segment.get(fields.duration), segment.field(fields.units));
  const end = start && duration ? addMinutes(start, duration) : undefined;
  const status = PARTICIPANT_STATUS[segment.get(fields.status).toLowerCase()] ?? 'accepted';
  return { ...(start ? { period: { start, ...(end ? { end } : {}) } } : {}), status };
}

type ParticipantMapper = (
  segment: V2Segment,
  parties: PartyResolver,
  context: MappingContext,
) => AppointmentParticipant[];

/** AIP / AIL / AIG -> participants (AIS is the service, not a participant). */
const PARTICIPANTS: Record<string, ParticipantMapper> = {
  AIP: (segment, parties, context) => {
    const actor = parties.practitioner(segment.field(3)) as Reference<Practitioner> | undefined;
    const type = codeableConcept(segment.field(4), context);
    if (!actor && !type) return [];
    return [participant(segment, context, { ...(actor ? { actor } : {}), ...(type ? { type: [type] } : {}) })];
  },
  AIL: (segment, parties, context) => {
    // The same Location key as PV1 locations (pv1.ts), so a booked room is the room the ADT feed names.
    const actor = parties.location(segment.field(3));
    return actor ? [participant(segment, context, { actor })] : [];
  },
  AIG: (segment, _parties, context) => {
    // A general resource (equipment, room set ...) has no resource of its own: a logical reference and a type.
    const resource = segment.field(3);
    const type = codeableConcept(segment.field(4), context) ?? codeableConcept(resource, context);
    const id = resource.get(1);
    const display = resource.get(2) || id;
    const actor = id
      ? { identifier: { system: senderSystem('resource', context), value: id }, ...(display ? { display } : {}) }
      : undefined;
    if (!actor && !type) return [];
    return [participant(segment, context, { ...(actor ? { actor } : {}), ...(type ? { type: [type] } : {}) })];
  },
};

function participant(
  segment: V2Segment,
  context: MappingContext,
  who: Pick<AppointmentParticipant, 'actor' | 'type'>,
): AppointmentParticipant {
  const { period, status } = resourceTiming(segment, context);
  return { ...who, status, ...(period ? { period } : {}) };
}

/** Start and end: TQ1-7/8, else SCH-11 TQ.4/TQ.5, else the resources' earliest start and latest end. */
function appointmentTimes(message: V2Message, sch: V2Segment, duration: number | undefined, context: MappingContext) {
  const tq1 = message.all('TQ1').find((t) => t.get(7) !== '');
  const resourceTimes = message.segments
    .filter((s) => RESOURCE_FIELDS[s.name])
    .map((s) => resourceTiming(s, context).period)
    .filter((p): p is Period => p?.start !== undefined);
  const candidates: { start?: string; end?: string }[] = [
    { start: tq1 && instant(tq1.get(7, 1), context), end: tq1 && instant(tq1.get(8, 1), context) },
    { start: instant(sch.get(11, 4, 1), context), end: instant(sch.get(11, 5, 1), context) },
    {
      start: resourceTimes.map((p) => p.start).sort((a, b) => epoch(a ?? '') - epoch(b ?? ''))[0],
      end: resourceTimes
        .map((p) => p.end)
        .filter((e): e is string => e !== undefined)
        .sort((a, b) => epoch(b) - epoch(a))[0],
    },
  ];
  const chosen = candidates.find((c) => c.start) ?? {};
  const start = chosen.start;
  const end = chosen.end ?? (start && duration ? addMinutes(start, duration) : undefined);
  return start && end ? { start, end } : {};
}

/** NTE right after SCH (before PID or a resource group): comments on the appointment. */
function appointmentComment(message: V2Message): string | undefined {
  const comments: string[] = [];
  for (const segment of message.segments.slice(message.segments.findIndex((s) => s.name === 'SCH') + 1)) {
    if (segment.name === 'NTE') comments.push(...segment.repetitions(3).map((f) => f.get(1)));
    else if (segment.name !== 'TQ1') break;
  }
  const text = comments.filter(Boolean).join('\n');
  return text || undefined;
}

function appointmentKeys(sch: V2Segment, context: MappingContext) {
  const placer = entityIdentifier(sch.field(1), context, 'PLAC');
  const filler = entityIdentifier(sch.field(2), context, 'FILL');
  const key = filler ?? placer;
  if (!key) throw new MappingError('The appointment has no filler or placer id', 'SCH^1^2');
  return { identifiers: [placer, filler].filter((i): i is Identifier => i !== undefined), key };
}

function serviceTypes(message: V2Message, context: MappingContext): CodeableConcept[] {
  const all = message
    .all('AIS')
    .map((ais) => codeableConcept(ais.field(3), context))
    .filter((c): c is CodeableConcept => c !== undefined);
  return all.filter((c, i) => all.findIndex((o) => JSON.stringify(o) === JSON.stringify(c)) === i);
}

export const siuToBundle: InboundMapping = (message, context) => {
  const sch = message.segment('SCH');
  if (!sch) throw new MappingError('The message has no SCH segment', 'SCH', '100');
  const { identifiers, key } = appointmentKeys(sch, context);
  const builder = transactionBuilder(context);
  const parties = partyResolver(builder, context);

  const status =
    EVENT_STATUS[message.header.trigger] ?? FILLER_STATUS[sch.get(25).toLowerCase()] ?? ('booked' as const);
  const minutesDuration = minutes(sch.get(9), sch.field(10));
  const times = appointmentTimes(message, sch, minutesDuration, context);
  if (!times.start && !UNTIMED_STATUSES.has(status)) {
    throw new MappingError(`A ${status} appointment needs its start and end`, 'SCH^1^11');
  }

  const patient = patientReference(message.segment('PID'), context) as Reference<Patient> | undefined;
  const participants: AppointmentParticipant[] = [
    ...(patient ? [{ actor: patient, status: 'accepted' as const }] : []),
    ...message.segments.flatMap((s) => PARTICIPANTS[s.name]?.(s, parties, context) ?? []),
  ];
  if (participants.length === 0) throw new MappingError('The appointment has no patient or resource', 'PID^1^3');

  const appointmentType = codedWithTable(sch.field(8), '0277', context);
  const reason = codedWithTable(sch.field(7), '0276', context);
  const serviceType = serviceTypes(message, context);
  const comment = appointmentComment(message);
  const appointment: Appointment = {
    resourceType: 'Appointment',
    identifier: identifiers,
    status,
    ...(appointmentType ? { appointmentType } : {}),
    ...(reason ? { reasonCode: [reason] } : {}),
    ...(serviceType.length > 0 ? { serviceType } : {}),
    ...times,
    ...(minutesDuration ? { minutesDuration } : {}),
    ...(comment ? { comment } : {}),
    participant: participants,
  };
  builder.upsert(appointment, key);
  return builder.bundle();
};

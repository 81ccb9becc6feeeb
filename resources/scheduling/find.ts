// `Appointment/$find` (IHE ITI Scheduling, ITI-115): proposed Appointments for the earliest available slots of
// the schedules that fit the request. Within a kind of criterion the values are alternatives (specialty A or
// B); different kinds must all hold (a cardiologist at this location). A schedule fits a practitioner, location
// or organization through its actor, or through the PractitionerRole that is its actor; a specialty through the
// Schedule's own specialty or its PractitionerRole's. Slots held by a hold that ran out count as free; slots
// overlapping the patient's own booked or held appointments (those the caller may search) are left out.
// Nothing is stored: `$hold` or `$book` take a proposed Appointment as `appointment-resource`.
import type { Appointment, AppointmentParticipant, Schedule, Slot } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { Repository } from '../repository';
import type { SearchParamPairs } from '../search/parse';
import { overlaps, type Interval } from './availability';
import { isFree } from './booking';

export interface FindInput {
  window: Interval;
  /** `system|code` tokens */
  specialty: string[];
  visitType: string[];
  /** `Type/id` references */
  practitioner: string[];
  organization: string[];
  location: string[];
  patient?: string;
  count: number;
}

export const DEFAULT_FIND_COUNT = 20;
export const MAX_FIND_COUNT = 200;
/** The longest window searched at once. */
export const MAX_FIND_DAYS = 366;
/** Schedules one request may cover. */
const MAX_SCHEDULES = 1000;
/** Schedules per Slot search. */
const SCHEDULES_PER_SEARCH = 100;

export interface Proposal {
  appointment: Appointment;
  slot: Slot & { id: string };
}

export async function findAppointments(repo: Repository, input: FindInput, now = Date.now()): Promise<Proposal[]> {
  const schedules = await candidateSchedules(repo, input);
  if (schedules.size === 0) return [];
  const busy = input.patient ? await patientBusy(repo, input.patient, input.window) : [];
  const ids = [...schedules.keys()];
  const found: (Slot & { id: string })[] = [];
  for (let i = 0; i < ids.length; i += SCHEDULES_PER_SEARCH) {
    found.push(...(await earliestSlots(repo, ids.slice(i, i + SCHEDULES_PER_SEARCH), input, busy, now)));
  }
  found.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.id.localeCompare(b.id));
  return found.slice(0, input.count).map((slot) => ({
    slot,
    appointment: proposal(slot, schedules.get(slotScheduleId(slot)) as Schedule, input.patient),
  }));
}

/** The ids of the active schedules that meet every kind of criterion given. */
async function candidateSchedules(repo: Repository, input: FindInput): Promise<Map<string, Schedule>> {
  // Each group: the alternative Schedule searches for one kind of criterion (on the Schedule, or its role).
  const groups: SearchParamPairs[][] = [];
  const own = (param: string, values: string[]): SearchParamPairs => [[param, values.join(',')]];
  const ofRole = (param: string, values: string[]) => own(`actor:PractitionerRole.${param}`, values);
  const { specialty, practitioner, location, organization, visitType } = input;
  if (specialty.length) groups.push([own('specialty', specialty), ofRole('specialty', specialty)]);
  if (practitioner.length) groups.push([own('actor', practitioner), ofRole('practitioner', practitioner)]);
  if (location.length) groups.push([own('actor', location), ofRole('location', location)]);
  if (organization.length) groups.push([ofRole('organization', organization)]);
  if (visitType.length) groups.push([own('service-type', visitType)]);
  if (groups.length === 0) groups.push([[]]);
  let result: Map<string, Schedule> | undefined;
  for (const alternatives of groups) {
    const matched = new Map<string, Schedule>();
    for (const criteria of alternatives) {
      const { page } = await repo.search(
        ['Schedule'],
        [...criteria, ['active:not', 'false'], ['_count', String(MAX_SCHEDULES + 1)]],
      );
      if (page.entries.length > MAX_SCHEDULES) {
        throw badRequest(
          `More than ${MAX_SCHEDULES} schedules fit: narrow the search (specialty, practitioner, location)`,
        );
      }
      for (const stored of page.entries) matched.set(stored.id, JSON.parse(stored.json as string) as Schedule);
    }
    result = result ? new Map([...result].filter(([id]) => matched.has(id))) : matched;
  }
  return result ?? new Map();
}

/** The first `count` available slots of these schedules in the window, earliest first. */
async function earliestSlots(
  repo: Repository,
  scheduleIds: string[],
  input: FindInput,
  busy: readonly Interval[],
  now: number,
): Promise<(Slot & { id: string })[]> {
  const slots: (Slot & { id: string })[] = [];
  let cursor: string | undefined;
  do {
    const { page } = await repo.search(
      ['Slot'],
      [
        ['schedule', scheduleIds.map((id) => `Schedule/${id}`).join(',')],
        ['status', 'free,busy-tentative'],
        ['start', `ge${new Date(input.window.start).toISOString()}`],
        ['start', `lt${new Date(input.window.end).toISOString()}`],
        ['_sort', 'start'],
        ['_count', String(input.count)],
        ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
      ],
    );
    for (const stored of page.entries) {
      const slot = JSON.parse(stored.json as string) as Slot & { id: string };
      const time = { start: Date.parse(slot.start), end: Date.parse(slot.end) };
      if (isFree(slot, now) && !busy.some((b) => overlaps(b, time))) slots.push(slot);
    }
    cursor = page.next;
  } while (cursor && slots.length < input.count);
  return slots.slice(0, input.count);
}

/** When the patient is already booked or held in the window, as far as the caller may search their appointments. */
async function patientBusy(repo: Repository, patient: string, window: Interval): Promise<Interval[]> {
  const { page } = await repo.searchIfPermitted('Appointment', [
    ['patient', patient],
    ['status', 'booked,pending,arrived,checked-in'],
    ['date', `ge${new Date(window.start - 86_400_000).toISOString()}`],
    ['date', `lt${new Date(window.end).toISOString()}`],
    ['_count', '1000'],
  ]);
  return page.entries.flatMap((stored) => {
    const appointment = JSON.parse(stored.json as string) as Appointment;
    return appointment.start && appointment.end
      ? [{ start: Date.parse(appointment.start), end: Date.parse(appointment.end) }]
      : [];
  });
}

function proposal(slot: Slot & { id: string }, schedule: Schedule, patient: string | undefined): Appointment {
  const participant: AppointmentParticipant[] = (schedule.actor ?? []).map((actor) => ({
    actor,
    required: 'required',
    status: 'needs-action',
  }));
  if (patient) participant.push({ actor: { reference: patient }, required: 'required', status: 'needs-action' });
  const start = Date.parse(slot.start);
  const end = Date.parse(slot.end);
  const serviceType = slot.serviceType ?? schedule.serviceType;
  const specialty = slot.specialty ?? schedule.specialty;
  return {
    resourceType: 'Appointment',
    status: 'proposed',
    ...(serviceType ? { serviceType } : {}),
    ...(specialty ? { specialty } : {}),
    start: slot.start,
    end: slot.end,
    minutesDuration: Math.round((end - start) / 60_000),
    slot: [{ reference: `Slot/${slot.id}` }],
    participant,
  };
}

function slotScheduleId(slot: Slot): string {
  return (slot.schedule.reference ?? '').replace(/^.*Schedule\//, '');
}

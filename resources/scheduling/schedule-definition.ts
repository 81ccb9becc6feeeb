// What slot generation needs to know of a Schedule: its actor's availability (the first actor that has
// hours: a PractitionerRole or HealthcareService with `availableTime`, or a Location with `hoursOfOperation`),
// its time zone, slot length and buffer (extensions on the Schedule), its planning horizon, and what its slots
// carry (service type, specialty).
import type {
  CodeableConcept,
  HealthcareService,
  Location,
  Period,
  PractitionerRole,
  Reference,
  Schedule,
} from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { Repository } from '../repository';
import { isTimeZone, isWeekday, type Availability, type Interval, type WeeklyHours } from './availability';

export const SLOT_MINUTES_URL = 'http://hms.local/fhir/StructureDefinition/schedule-slot-minutes';
export const BUFFER_MINUTES_URL = 'http://hms.local/fhir/StructureDefinition/schedule-buffer-minutes';
export const TIME_ZONE_URL = 'http://hms.local/fhir/StructureDefinition/schedule-timezone';

export const DEFAULT_SLOT_MINUTES = 15;
const MAX_SLOT_MINUTES = 24 * 60;

export interface ScheduleDefinition {
  id: string;
  schedule: Schedule;
  zone: string;
  slotMinutes: number;
  bufferMinutes: number;
  horizon?: Interval;
  availability: Availability;
  serviceType?: CodeableConcept[];
  specialty?: CodeableConcept[];
}

/** The server's own time zone, for schedules that name none. */
export function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export async function readScheduleDefinition(repo: Repository, id: string): Promise<ScheduleDefinition> {
  const schedule = JSON.parse((await repo.read('Schedule', id)).json as string) as Schedule;
  const zone = extensionValue(schedule, TIME_ZONE_URL, 'valueCode') ?? serverTimeZone();
  if (typeof zone !== 'string' || !isTimeZone(zone)) {
    throw badRequest(`Schedule/${id}: "${String(zone)}" is not an IANA time zone`, 'Schedule.extension');
  }
  const slotMinutes = minutes(schedule, SLOT_MINUTES_URL, DEFAULT_SLOT_MINUTES, 1);
  const bufferMinutes = minutes(schedule, BUFFER_MINUTES_URL, 0, 0);
  const availability = await actorAvailability(repo, schedule);
  return {
    id,
    schedule,
    zone,
    slotMinutes,
    bufferMinutes,
    ...(schedule.planningHorizon ? { horizon: interval(schedule.planningHorizon) } : {}),
    availability,
    ...(schedule.serviceType ? { serviceType: schedule.serviceType } : {}),
    ...(schedule.specialty ? { specialty: schedule.specialty } : {}),
  };
}

async function actorAvailability(repo: Repository, schedule: Schedule): Promise<Availability> {
  for (const actor of schedule.actor ?? []) {
    const [type, id] = localReference(actor);
    if (type === 'PractitionerRole' || type === 'HealthcareService') {
      const found = JSON.parse((await repo.read(type, id)).json as string) as PractitionerRole | HealthcareService;
      if (found.availableTime?.length) {
        return {
          weekly: found.availableTime.map((t) =>
            weekly(t.daysOfWeek, t.allDay, t.availableStartTime, t.availableEndTime),
          ),
          leave: (found.notAvailable ?? []).flatMap((n) => (n.during ? [interval(n.during)] : [])),
        };
      }
    } else if (type === 'Location') {
      const location = JSON.parse((await repo.read(type, id)).json as string) as Location;
      if (location.hoursOfOperation?.length) {
        return {
          weekly: location.hoursOfOperation.map((h) => weekly(h.daysOfWeek, h.allDay, h.openingTime, h.closingTime)),
          leave: [],
        };
      }
    }
  }
  throw badRequest(
    `Schedule/${schedule.id}: none of its actors has hours (PractitionerRole or HealthcareService availableTime, Location hoursOfOperation)`,
    'Schedule.actor',
  );
}

function weekly(days: string[] | undefined, allDay?: boolean, start?: string, end?: string): WeeklyHours {
  const valid = (days ?? []).filter(isWeekday);
  return { days: valid, ...(allDay ? { allDay } : {}), ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

function localReference(reference: Reference): [string, string] {
  const match = /^([A-Za-z]+)\/([A-Za-z0-9.-]{1,64})$/.exec(reference.reference ?? '');
  return match ? [match[1], match[2]] : ['', ''];
}

function interval(period: Period): Interval {
  return {
    start: period.start ? Date.parse(period.start) : -8.64e15,
    end: period.end ? Date.parse(period.end) : 8.64e15,
  };
}

function minutes(schedule: Schedule, url: string, fallback: number, min: number): number {
  const value = extensionValue(schedule, url, 'valueInteger') ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_SLOT_MINUTES) {
    throw badRequest(`Schedule/${schedule.id}: ${url} must be a whole number of minutes`, 'Schedule.extension');
  }
  return value;
}

function extensionValue(schedule: Schedule, url: string, key: 'valueCode' | 'valueInteger'): unknown {
  return schedule.extension?.find((e) => e.url === url)?.[key];
}

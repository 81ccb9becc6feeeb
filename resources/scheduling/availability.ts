// When a schedule's actor is available, from FHIR's own availability elements: PractitionerRole and
// HealthcareService `availableTime` (days of the week, all day or from a start to an end time) and
// `notAvailable` (leave, as periods), Location `hoursOfOperation`. Times are wall-clock times in the schedule's
// time zone, so a clinic that opens at 09:00 opens at 09:00 on both sides of a daylight-saving change.
import { DateTime } from 'luxon';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** One recurring opening: on these days, from `start` to `end` (`HH:MM[:SS]`), or all day. */
export interface WeeklyHours {
  days: readonly Weekday[];
  allDay?: boolean;
  start?: string;
  end?: string;
}

/** A stretch of time, epoch milliseconds, end exclusive. */
export interface Interval {
  start: number;
  end: number;
}

/** The availability of one actor: its weekly hours, less its leave. */
export interface Availability {
  weekly: readonly WeeklyHours[];
  leave: readonly Interval[];
}

export function isWeekday(value: unknown): value is Weekday {
  return typeof value === 'string' && (WEEKDAYS as readonly string[]).includes(value);
}

export function isTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/**
 * The open intervals of `availability` within `window`, in the time zone `zone`, in time order; leave is cut
 * out of them. Overlapping weekly hours are merged.
 */
export function openIntervals(availability: Availability, window: Interval, zone: string): Interval[] {
  const open: Interval[] = [];
  let day = DateTime.fromMillis(window.start, { zone }).startOf('day');
  while (day.toMillis() < window.end) {
    const weekday = WEEKDAYS[day.weekday - 1];
    for (const hours of availability.weekly) {
      if (!hours.days.includes(weekday)) continue;
      const interval = dayInterval(day, hours);
      if (interval) open.push(clip(interval, window));
    }
    day = day.plus({ days: 1 });
  }
  return subtract(merge(open.filter((i) => i.end > i.start)), availability.leave);
}

/**
 * Slot start and end times filling each interval: `slotMinutes` long, `bufferMinutes` apart; a slot that would
 * run past the end of its interval is left out.
 */
export function slotTimes(intervals: readonly Interval[], slotMinutes: number, bufferMinutes: number): Interval[] {
  const length = slotMinutes * 60_000;
  const step = length + bufferMinutes * 60_000;
  const slots: Interval[] = [];
  for (const interval of intervals) {
    for (let start = interval.start; start + length <= interval.end; start += step) {
      slots.push({ start, end: start + length });
    }
  }
  return slots;
}

/** Whether two intervals share any time. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

function dayInterval(day: DateTime, hours: WeeklyHours): Interval | undefined {
  if (hours.allDay || (!hours.start && !hours.end)) {
    return { start: day.toMillis(), end: day.plus({ days: 1 }).toMillis() };
  }
  const start = atTime(day, hours.start ?? '00:00');
  const end = hours.end ? atTime(day, hours.end) : day.plus({ days: 1 }).toMillis();
  return end > start ? { start, end } : undefined;
}

/** The instant of a wall-clock time on a day, in the day's zone (a time skipped by a clock change moves on). */
function atTime(day: DateTime, time: string): number {
  const [hour, minute, second] = time.split(':').map(Number);
  return day.set({ hour, minute, second: second ?? 0, millisecond: 0 }).toMillis();
}

function clip(interval: Interval, window: Interval): Interval {
  return { start: Math.max(interval.start, window.start), end: Math.min(interval.end, window.end) };
}

function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}

function subtract(intervals: Interval[], removed: readonly Interval[]): Interval[] {
  let rest = intervals;
  for (const cut of removed) {
    rest = rest.flatMap((i) => {
      if (!overlaps(i, cut)) return [i];
      const parts: Interval[] = [];
      if (i.start < cut.start) parts.push({ start: i.start, end: cut.start });
      if (cut.end < i.end) parts.push({ start: cut.end, end: i.end });
      return parts;
    });
  }
  return rest;
}

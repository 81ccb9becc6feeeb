// Date parameters: every date-like value becomes the range of instants it covers (epoch ms, both ends inclusive).
// A partial date covers its whole year/month/day; a time covers its whole second (or minute, or fraction).
// Values without a time zone (dates, and lenient date-times) are read as UTC: the server has no better zone.
import { MAX_INSTANT, MIN_INSTANT, type DateEntry } from '../index-entry';
import { isObject, list, type JsonObject, type TypedValue } from './value';

export interface InstantRange {
  low: number;
  high: number;
}

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Epoch ms of a UTC calendar time; years 0-99 are taken literally (Date.UTC would map them to 19xx). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

function offsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') {
    return 0;
  }
  const sign = zone.startsWith('-') ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * MINUTE;
}

/** How long the last written unit lasts, minus one ms: `.5` covers 100 ms, `.123` (or finer) 1 ms. */
function fractionWidth(fraction: string): number {
  return fraction.length >= 3 ? 0 : 10 ** (3 - fraction.length) - 1;
}

const inRange = (value: number, min: number, max: number): boolean => value >= min && value <= max;

function validTime(hour: number, minute: number, second: number, zone: string | undefined): boolean {
  const zoneHours = zone && zone !== 'Z' ? Number(zone.slice(1, 3)) : 0;
  return inRange(hour, 0, 23) && inRange(minute, 0, 59) && inRange(second, 0, 60) && zoneHours <= 14;
}

/**
 * The instants a FHIR date, dateTime or instant covers: `2020` -> the whole of 2020, `2020-03-01T10:00:00+01:00`
 * -> that second. Undefined for anything else (including impossible dates such as 2021-02-30).
 */
export function dateRange(value: string): InstantRange | undefined {
  const match = DATE_TIME.exec(value.trim());
  if (!match) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (!inRange(month, 0, 11) || new Date(utc(year, month, day)).getUTCDate() !== day) {
    return undefined;
  }
  if (!d) {
    const low = utc(year, month, 1);
    return { low, high: (mo ? utc(year, month + 1, 1) : utc(year + 1, 0, 1)) - 1 };
  }
  if (h === undefined) {
    const low = utc(year, month, day);
    return { low, high: low + DAY - 1 };
  }
  const [hour, minute, second] = [Number(h), Number(mi), Number(s ?? 0)];
  if (!validTime(hour, minute, second, zone)) {
    return undefined;
  }
  const ms = fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
  const low = utc(year, month, day, hour, minute, second, ms) - offsetMs(zone);
  const width = fraction !== undefined ? fractionWidth(fraction) : s !== undefined ? 999 : MINUTE - 1;
  return { low, high: low + width };
}

/** A Period: open ends reach MIN_INSTANT / MAX_INSTANT; an unreadable end means no range at all. */
function periodRange(period: JsonObject): InstantRange | undefined {
  const start = typeof period.start === 'string' ? dateRange(period.start) : undefined;
  const end = typeof period.end === 'string' ? dateRange(period.end) : undefined;
  const unreadable = (period.start !== undefined && !start) || (period.end !== undefined && !end);
  if (unreadable || (!start && !end)) {
    return undefined;
  }
  return { low: start?.low ?? MIN_INSTANT, high: end?.high ?? MAX_INSTANT };
}

/** A Timing's outer limits (its events and repeat.boundsPeriod): the spec ignores the schedule in between. */
function timingRange(timing: JsonObject): InstantRange | undefined {
  const events = list(timing.event).map((event) => (typeof event === 'string' ? dateRange(event) : undefined));
  const bounds = isObject(timing.repeat) && isObject(timing.repeat.boundsPeriod) ? timing.repeat.boundsPeriod : {};
  const ranges = [...events, periodRange(bounds)].filter((range): range is InstantRange => range !== undefined);
  if (ranges.length === 0) {
    return undefined;
  }
  return { low: Math.min(...ranges.map((r) => r.low)), high: Math.max(...ranges.map((r) => r.high)) };
}

const RANGE_BY_TYPE: Record<string, ((data: JsonObject) => InstantRange | undefined) | undefined> = {
  Period: periodRange,
  Timing: timingRange,
};

function valueRange(value: TypedValue): InstantRange | undefined {
  if (typeof value.data === 'string') {
    return dateRange(value.data);
  }
  const range = RANGE_BY_TYPE[value.type];
  return range && isObject(value.data) ? range(value.data) : undefined;
}

export function dateEntries(value: TypedValue, param: string): DateEntry[] {
  const range = valueRange(value);
  return range ? [{ type: 'date', param, low: range.low, high: range.high }] : [];
}

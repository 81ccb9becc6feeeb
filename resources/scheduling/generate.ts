// Slot generation (`Schedule/[id]/$generate-slots`): free Slots over a window, from the schedule's
// availability, its slot length and buffer. Any time an existing Slot of the schedule covers is left alone,
// whatever its status: running it again adds nothing, booked slots stay, and leave entered as a
// `busy-unavailable` Slot keeps its time free of new slots. Each Slot carries the identifier
// `urn:hms:slot|[schedule id]/[start]` and is created only if none has it, so two runs at once cannot double it.
import type { Slot } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { openIntervals, overlaps, slotTimes, type Interval } from './availability';
import { readScheduleDefinition, type ScheduleDefinition } from './schedule-definition';

export const SLOT_IDENTIFIER_SYSTEM = 'urn:hms:slot';
/** The longest window one call generates: a year. */
export const MAX_WINDOW_DAYS = 366;
const DAY_MS = 86_400_000;
/** Slots written per transaction. */
const SLOTS_PER_TRANSACTION = 500;
const PAGE = 1000;

export interface GenerationResult {
  /** the window slots were generated for (the request's, cut to the planning horizon) */
  window: Interval;
  created: number;
  /** slot times an existing Slot already covered */
  kept: number;
}

export async function generateSlots(
  repo: Repository,
  scheduleId: string,
  requested: Interval,
): Promise<GenerationResult> {
  if (!(requested.end > requested.start)) throw badRequest('end must be after start', 'end');
  if (requested.end - requested.start > MAX_WINDOW_DAYS * DAY_MS) {
    throw badRequest(`A window of at most ${MAX_WINDOW_DAYS} days is generated at once`, 'end');
  }
  const definition = await readScheduleDefinition(repo, scheduleId);
  const window = definition.horizon ? intersection(requested, definition.horizon) : requested;
  if (!window) return { window: requested, created: 0, kept: 0 };
  const times = slotTimes(
    openIntervals(definition.availability, window, definition.zone),
    definition.slotMinutes,
    definition.bufferMinutes,
  );
  const existing = await slotsOverlapping(repo, scheduleId, window);
  const fresh = times.filter((time) => !coveredBy(existing, time));
  let created = 0;
  for (let i = 0; i < fresh.length; i += SLOTS_PER_TRANSACTION) {
    const chunk = fresh.slice(i, i + SLOTS_PER_TRANSACTION);
    created += await repo.withTransaction(async (tx) => {
      let made = 0;
      for (const time of chunk) {
        const slot = freeSlot(definition, time);
        const identifier = `${SLOT_IDENTIFIER_SYSTEM}|${slot.identifier![0].value}`;
        const result = await tx.create('Slot', slot, { ifNoneExist: [['identifier', identifier]] });
        if (result.created) made++;
      }
      return made;
    });
  }
  return { window, created, kept: times.length - fresh.length };
}

function freeSlot(definition: ScheduleDefinition, time: Interval): Slot {
  const start = new Date(time.start).toISOString();
  return {
    resourceType: 'Slot',
    identifier: [{ system: SLOT_IDENTIFIER_SYSTEM, value: `${definition.id}/${start}` }],
    schedule: { reference: `Schedule/${definition.id}` },
    status: 'free',
    start,
    end: new Date(time.end).toISOString(),
    ...(definition.serviceType ? { serviceType: definition.serviceType } : {}),
    ...(definition.specialty ? { specialty: definition.specialty } : {}),
  };
}

/** The schedule's Slots that could overlap the window (a slot is at most a day long), as intervals. */
export async function slotsOverlapping(repo: Repository, scheduleId: string, window: Interval): Promise<Interval[]> {
  const found: Interval[] = [];
  let cursor: string | undefined;
  do {
    const { page } = await repo.search(
      ['Slot'],
      [
        ['schedule', `Schedule/${scheduleId}`],
        ['start', `ge${new Date(window.start - DAY_MS).toISOString()}`],
        ['start', `lt${new Date(window.end).toISOString()}`],
        ['_count', String(PAGE)],
        ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
      ],
    );
    for (const stored of page.entries) found.push(slotInterval(stored));
    cursor = page.next;
  } while (cursor);
  return found.sort((a, b) => a.start - b.start);
}

function slotInterval(stored: StoredVersion): Interval {
  const slot = JSON.parse(stored.json as string) as Slot;
  return { start: Date.parse(slot.start), end: Date.parse(slot.end) };
}

/** Whether an existing slot (sorted by start) overlaps the time. */
function coveredBy(existing: readonly Interval[], time: Interval): boolean {
  let low = 0;
  let high = existing.length;
  // The first slot starting at or after the time's end cannot overlap, nor can any after it.
  while (low < high) {
    const mid = (low + high) >> 1;
    if (existing[mid].start < time.end) low = mid + 1;
    else high = mid;
  }
  for (let i = low - 1; i >= 0 && time.start - existing[i].start < DAY_MS; i--) {
    if (overlaps(existing[i], time)) return true;
  }
  return false;
}

function intersection(a: Interval, b: Interval): Interval | undefined {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return end > start ? { start, end } : undefined;
}

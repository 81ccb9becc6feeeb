// Holding and booking appointments (IHE ITI Scheduling `$hold` and `$book`), each one store transaction: the
// Appointment and the Slots it takes change together or not at all. A slot is available when it is free, or
// held (`busy-tentative`) by this very appointment, or held by another whose hold has run out; anything else is
// a 409 naming the slot, so of two clerks booking one slot at once exactly one succeeds. The Slots are written
// by the server on the caller's behalf: a patient booking in the portal may not write Slots, yet takes one.
import type { Appointment, Extension, Reference, Slot } from '@medplum/fhirtypes';
import { badRequest, conflict } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';

export const HOLD_EXPIRES_URL = 'http://hms.local/fhir/StructureDefinition/hold-expires';
export const HELD_FOR_URL = 'http://hms.local/fhir/StructureDefinition/held-for';
/** How long a hold keeps its slots. */
export const HOLD_MINUTES = 10;
/** Slots one appointment may take. */
const MAX_SLOTS = 20;

/** What `$hold` or `$book` is given: a proposed Appointment (from `$find`), or one the server holds. */
export type AppointmentInput = { resource: Appointment } | { reference: string };

/** An Appointment or Slot as read from the store: with its id and version. */
export type StoredAppointment = Appointment & { id: string; meta?: { versionId?: string } };
type StoredSlot = Slot & { id: string; meta: { versionId: string } };

export interface BookingResult {
  appointment: StoredVersion;
  /** Slots this call released (a cancellation or a move), free again. */
  released: string[];
}

/** `$hold`: the appointment becomes `pending` and its slots `busy-tentative` until the hold runs out. */
export async function holdAppointment(
  repo: Repository,
  input: AppointmentInput,
  now = Date.now(),
): Promise<BookingResult> {
  return repo.withTransaction(async (tx) => {
    const { appointment, existing } = await appointmentOf(tx, input);
    if (existing && !['proposed', 'pending'].includes(existing.status)) {
      throw badRequest(`Appointment/${existing.id} is ${existing.status}: only a proposed or pending one is held`);
    }
    const expires = new Date(now + HOLD_MINUTES * 60_000).toISOString();
    const slots = await takeSlots(tx, appointment, existing, now);
    const held = withSlotTimes(
      extended({ ...appointment, status: 'pending' }, withExtension(appointment.extension, holdExpires(expires))),
      slots,
    );
    const stored = await save(tx, held, existing);
    const holder = heldFor(stored.id);
    for (const slot of slots) {
      const extension = withExtension(withExtension(slot.extension, holdExpires(expires)), holder);
      await writeSlot(tx, extended({ ...slot, status: 'busy-tentative' }, extension));
    }
    return { appointment: stored, released: [] };
  });
}

/**
 * `$book`: books a proposed or held appointment with its slots `busy`; given an existing appointment with
 * other slots, moves it (the old slots are freed); given one with status `cancelled`, cancels it and frees its
 * slots.
 */
export async function bookAppointment(
  repo: Repository,
  input: AppointmentInput,
  now = Date.now(),
): Promise<BookingResult> {
  return repo.withTransaction(async (tx) => {
    const { appointment, existing } = await appointmentOf(tx, input);
    if (existing && ['cancelled', 'fulfilled', 'noshow', 'entered-in-error'].includes(existing.status)) {
      throw badRequest(`Appointment/${existing.id} is ${existing.status}: it cannot be booked or changed`);
    }
    if (appointment.status === 'cancelled') {
      if (!existing) throw badRequest('Only an existing appointment can be cancelled', 'appointment-resource');
      const released = await releaseSlots(tx, existing, []);
      const cancelled = extended(appointment, withoutExtension(appointment.extension, HOLD_EXPIRES_URL));
      return { appointment: await save(tx, cancelled, existing), released };
    }
    const slots = await takeSlots(tx, appointment, existing, now);
    const released = existing ? await releaseSlots(tx, existing, slotIds(appointment)) : [];
    const booked = withSlotTimes(
      extended({ ...appointment, status: 'booked' }, withoutExtension(appointment.extension, HOLD_EXPIRES_URL)),
      slots,
    );
    const stored = await save(tx, booked, existing);
    for (const slot of slots) {
      await writeSlot(tx, extended({ ...slot, status: 'busy' }, withoutHold(slot.extension)));
    }
    return { appointment: stored, released };
  });
}

async function appointmentOf(
  tx: Repository,
  input: AppointmentInput,
): Promise<{ appointment: Appointment; existing?: StoredAppointment }> {
  if ('reference' in input) {
    const existing = await readAppointment(tx, localId(input.reference, 'Appointment', 'appointment-reference'));
    return { appointment: existing, existing };
  }
  const appointment = input.resource;
  if (appointment.resourceType !== 'Appointment') {
    throw badRequest('appointment-resource must be an Appointment', 'appointment-resource');
  }
  if (appointment.id === undefined) return { appointment };
  return { appointment, existing: await readAppointment(tx, appointment.id) };
}

async function readAppointment(repo: Repository, id: string): Promise<StoredAppointment> {
  return JSON.parse((await repo.read('Appointment', id)).json as string) as StoredAppointment;
}

/** Slots are read by the server (the caller may not read them), not disclosed, so not audited as reads. */
async function readSlot(server: Repository, id: string): Promise<StoredSlot> {
  return JSON.parse((await server.read('Slot', id, { internal: true })).json as string) as StoredSlot;
}

/** Reads the appointment's slots, each of which must be available to it; stale holds of others are cancelled. */
async function takeSlots(
  tx: Repository,
  appointment: Appointment,
  existing: StoredAppointment | undefined,
  now: number,
): Promise<StoredSlot[]> {
  const ids = slotIds(appointment);
  if (ids.length === 0) throw badRequest('The appointment names no slot', 'Appointment.slot');
  if (ids.length > MAX_SLOTS) throw badRequest(`An appointment takes at most ${MAX_SLOTS} slots`, 'Appointment.slot');
  const server = tx.asServer();
  const own = new Set(existing?.status === 'booked' ? slotIds(existing) : []);
  const slots = [];
  for (const id of ids) {
    let slot = await readSlot(server, id);
    const holder = holderOf(slot);
    const mine = own.has(id) || (existing !== undefined && holder === `Appointment/${existing.id}`);
    if (!mine && !isFree(slot, now)) {
      throw conflict(`Slot/${id} (${slot.start}) is no longer available: find another time`, 'Appointment.slot');
    }
    if (!mine && slot.status === 'busy-tentative' && holder) {
      // Cancelling the lapsed appointment frees the slot (release-on-cancel.ts): take the slot as it is now.
      await cancelLapsedHold(server, holder);
      slot = await readSlot(server, id);
    }
    slots.push(slot);
  }
  return slots;
}

/** Free, or held by a hold that has run out. */
export function isFree(slot: Slot, now: number): boolean {
  if (slot.status === 'free') return true;
  if (slot.status !== 'busy-tentative') return false;
  const expires = slot.extension?.find((e) => e.url === HOLD_EXPIRES_URL)?.valueInstant;
  return expires !== undefined && Date.parse(expires) <= now;
}

/** The appointment whose hold ran out loses it: it is cancelled unless it was booked meanwhile. */
async function cancelLapsedHold(server: Repository, holder: string): Promise<void> {
  const id = localId(holder, 'Appointment', 'held-for');
  const stored = await server.read('Appointment', id, { internal: true }).catch(() => undefined);
  if (!stored?.json) return;
  const appointment = JSON.parse(stored.json) as Appointment;
  if (appointment.status !== 'pending') return;
  const cancelled = extended<Appointment>(
    { ...appointment, status: 'cancelled', cancelationReason: { text: 'The hold on its slots ran out' } },
    withoutExtension(appointment.extension, HOLD_EXPIRES_URL),
  );
  await server.update('Appointment', id, cancelled, { ifMatch: stored.versionId });
}

/** Frees the slots the existing appointment held or had booked, except those in `keep`. */
export async function releaseSlots(tx: Repository, existing: StoredAppointment, keep: string[]): Promise<string[]> {
  if (!['booked', 'pending', 'arrived', 'checked-in'].includes(existing.status)) return [];
  const server = tx.asServer();
  const released: string[] = [];
  for (const id of slotIds(existing).filter((s) => !keep.includes(s))) {
    const slot = await readSlot(server, id).catch(() => undefined);
    if (!slot) continue;
    const taken = slot.status === 'busy' || holderOf(slot) === `Appointment/${existing.id}`;
    if (!taken) continue;
    await writeSlot(tx, extended({ ...slot, status: 'free' }, withoutHold(slot.extension)));
    released.push(id);
  }
  return released;
}

async function writeSlot(tx: Repository, slot: StoredSlot): Promise<void> {
  const { meta: _meta, ...rest } = slot;
  await tx.asServer().update('Slot', slot.id, rest as Slot, { ifMatch: Number(slot.meta.versionId) });
}

async function save(
  tx: Repository,
  appointment: Appointment,
  existing: StoredAppointment | undefined,
): Promise<StoredVersion> {
  const { meta, ...rest } = appointment;
  if (!existing) {
    const { id: _id, ...fresh } = rest;
    return (await tx.create('Appointment', fresh as Appointment)).stored;
  }
  // The version the client changed, when it says: a move or cancel of a stale copy is a 412, not a lost update.
  const ifMatch = Number(meta?.versionId ?? existing.meta?.versionId);
  const update = { ...rest, id: existing.id } as Appointment;
  return (await tx.update('Appointment', existing.id, update, Number.isFinite(ifMatch) ? { ifMatch } : {})).stored;
}

/** The appointment's start and end are its slots' (earliest start, latest end). */
function withSlotTimes(appointment: Appointment, slots: Slot[]): Appointment {
  const start = Math.min(...slots.map((s) => Date.parse(s.start)));
  const end = Math.max(...slots.map((s) => Date.parse(s.end)));
  return {
    ...appointment,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    minutesDuration: Math.round((end - start) / 60_000),
  };
}

function slotIds(appointment: Appointment): string[] {
  return [...new Set((appointment.slot ?? []).map((s: Reference) => localId(s.reference, 'Slot', 'Appointment.slot')))];
}

function holderOf(slot: Slot): string | undefined {
  return slot.extension?.find((e) => e.url === HELD_FOR_URL)?.valueReference?.reference;
}

const holdExpires = (instant: string): Extension => ({ url: HOLD_EXPIRES_URL, valueInstant: instant });
const heldFor = (appointmentId: string): Extension => ({
  url: HELD_FOR_URL,
  valueReference: { reference: `Appointment/${appointmentId}` },
});

/** The resource with these extensions (none: without the element, which may not be an empty array). */
function extended<T extends { extension?: Extension[] }>(resource: T, extensions: Extension[]): T {
  const { extension: _old, ...rest } = resource;
  return (extensions.length > 0 ? { ...rest, extension: extensions } : rest) as T;
}

function withoutHold(extensions: Extension[] | undefined): Extension[] {
  return withoutExtension(withoutExtension(extensions, HOLD_EXPIRES_URL), HELD_FOR_URL);
}

function withExtension(extensions: Extension[] | undefined, added: Extension): Extension[] {
  return [...withoutExtension(extensions, added.url), added];
}

function withoutExtension(extensions: Extension[] | undefined, url: string): Extension[] {
  return (extensions ?? []).filter((e) => e.url !== url);
}

/** `Type/id`, or an absolute URL ending so, to the id; 400 otherwise. */
function localId(reference: string | undefined, type: string, where: string): string {
  const match = new RegExp(`(?:^|/)${type}/([A-Za-z0-9.-]{1,64})$`).exec(reference ?? '');
  if (!match) throw badRequest(`${where} must reference a ${type} (${type}/[id])`, where);
  return match[1];
}

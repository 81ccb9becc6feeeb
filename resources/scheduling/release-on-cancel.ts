// An Appointment cancelled by a plain write (PUT, PATCH, a transaction entry; the portal's "cancel") frees the
// Slots it had booked or held, in the same transaction, as `$book` does. Only a change from booked or pending
// counts: writing an already cancelled appointment again frees nothing another booking may have taken since.
import type { Appointment, Resource } from '@medplum/fhirtypes';
import type { WriteEffect } from '../repository';
import { releaseSlots, type StoredAppointment } from './booking';

const CANCELLED = new Set(['cancelled', 'entered-in-error']);

export const releaseSlotsOnCancel: WriteEffect = {
  resourceType: 'Appointment',
  async apply(server, resource: Resource, id) {
    if (!CANCELLED.has((resource as Appointment).status)) return;
    const before = await server.read('Appointment', id, { internal: true }).catch(() => undefined);
    if (!before?.json || before.deleted) return;
    const previous = JSON.parse(before.json) as StoredAppointment;
    await releaseSlots(server, previous, []);
  },
};

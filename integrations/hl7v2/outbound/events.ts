// Which HL7 event a FHIR change is, decided from the previous and the current version: a lab order placed,
// changed or cancelled; a charge posted or reversed; a patient registered or updated, a visit started or ended.
import type { ChargeItem, Encounter, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { AdtInput, OrderInput } from './builders/segments';

const LIVE_ORDER = new Set(['active', 'on-hold']);
const ENDED_ORDER = new Set(['revoked', 'entered-in-error']);

/** NW when an order first becomes active, CA when a sent order is revoked, XO when a sent order changes. */
export function orderEvent(
  previous: ServiceRequest | undefined,
  current: ServiceRequest,
): OrderInput['event'] | undefined {
  const wasSent = previous !== undefined && LIVE_ORDER.has(previous.status);
  if (!wasSent) return LIVE_ORDER.has(current.status) ? 'new' : undefined;
  if (ENDED_ORDER.has(current.status)) return 'cancel';
  return 'change';
}

/** A charge is posted when first billable, reversed (FT1-6 CD) when it becomes entered-in-error. */
export function chargeEvent(previous: ChargeItem | undefined, current: ChargeItem): 'post' | 'reverse' | undefined {
  const wasPosted = previous?.status === 'billable' || previous?.status === 'billed';
  if (!wasPosted) return current.status === 'billable' ? 'post' : undefined;
  return current.status === 'entered-in-error' ? 'reverse' : undefined;
}

/** A04 registration, A08 update; for visits A01 admit, A03 discharge, A11 cancel, A08 otherwise. */
export function adtTrigger(
  previous: Resource | undefined,
  current: Patient | Encounter,
): AdtInput['trigger'] | undefined {
  if (current.resourceType === 'Patient') return previous ? 'A08' : 'A04';
  const before = (previous as Encounter | undefined)?.status;
  if (current.status === before) return 'A08';
  if (current.status === 'in-progress') return 'A01';
  if (current.status === 'finished') return 'A03';
  if (current.status === 'cancelled') return 'A11';
  return previous ? 'A08' : undefined;
}

/** A lab order for a channel: one of its categories (any when it lists none). */
export function inCategories(request: ServiceRequest, categories: readonly string[]): boolean {
  if (categories.length === 0) return true;
  return (request.category ?? []).some((c) =>
    (c.coding ?? []).some((coding) => categories.includes(coding.code ?? '')),
  );
}

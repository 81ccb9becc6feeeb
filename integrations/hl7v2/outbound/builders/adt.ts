// Patient (+ Encounter) -> ADT for systems that keep their own registration copy: admit, discharge,
// register, update and cancel admit, as MSH, EVN, PID, PV1.
import {
  evnSegment,
  joinSegments,
  messageType,
  mshSegment,
  pidSegment,
  pv1Segment,
  segment,
  type AdtInput,
  type OutboundHeader,
} from './segments';

/** Trigger -> message structure (A04 and A08 share ADT_A01; A11 uses ADT_A09). */
const STRUCTURES: Record<AdtInput['trigger'], string> = {
  A01: 'ADT_A01',
  A03: 'ADT_A03',
  A04: 'ADT_A01',
  A08: 'ADT_A01',
  A11: 'ADT_A09',
};

/** An ADT message for the trigger; PV1 is required by every structure, so without an encounter it is `N`. */
export function buildAdtMessage(input: AdtInput, header: OutboundHeader): string {
  const pv1 = input.encounter
    ? pv1Segment(input.encounter, header.timezone, input.attending)
    : segment('PV1', { 1: '1', 2: 'N' });
  return joinSegments([
    mshSegment(header, messageType('ADT', input.trigger, STRUCTURES[input.trigger], header.version)),
    evnSegment(input.trigger, header),
    pidSegment(input.patient, header.timezone),
    pv1,
  ]);
}

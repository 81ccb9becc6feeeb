// The patient a message is about, as the identifier it is matched on: PID-3's medical record number (or
// its first identifier). Messages other than ADT only reference the patient; ADT registers it.
import type { Identifier, Reference } from '@medplum/fhirtypes';
import type { V2Segment } from '../message/v2-message';
import type { MappingContext } from './context';
import { humanName, identifier } from './datatypes';
import { referenceByIdentifier } from './bundle';

/** PID-3's MR identifier, else its first; PID-2 (external id, pre-2.5) when PID-3 is empty. */
export function patientKey(pid: V2Segment, context: MappingContext): Identifier | undefined {
  const candidates = [...pid.repetitions(3), ...pid.repetitions(2)];
  const preferred = candidates.find((f) => f.get(5) === 'MR') ?? candidates[0];
  return preferred ? identifier(preferred, context) : undefined;
}

/** A conditional reference to the registered patient, with the name as display for people reading orphans. */
export function patientReference(pid: V2Segment | undefined, context: MappingContext): Reference | undefined {
  if (!pid) return undefined;
  const key = patientKey(pid, context);
  if (!key) return undefined;
  const name = humanName(pid.field(5));
  const display = name ? [name.given?.join(' '), name.family].filter(Boolean).join(' ') : undefined;
  return referenceByIdentifier('Patient', key, display || undefined);
}

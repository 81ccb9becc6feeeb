// Small builders for FHIR datatypes (CodeableConcept, Quantity, Reference, date strings) shared by the
// benchmark data generator, so every resource spells them the same way.
import type { CodeableConcept, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from './tables';

/** The instant all generated timelines end at, fixed so generation does not depend on the clock. */
export const REFERENCE_TIME = Date.UTC(2026, 0, 1, 8, 0, 0);

export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const YEAR = 365.25 * DAY;

export function concept(system: string, code: string, display: string, text?: string): CodeableConcept {
  const result: CodeableConcept = { coding: [{ system, code, display }] };
  if (text) result.text = text;
  return result;
}

export function ucum(value: number, unit: string, code: string): Quantity {
  return { value, unit, system: SYSTEM.ucum, code };
}

export function referenceTo<T extends Resource>(resource: T, display?: string): Reference<T> {
  const ref: Reference<T> = { reference: `${resource.resourceType}/${resource.id}` };
  if (display) ref.display = display;
  return ref;
}

/** `YYYY-MM-DDThh:mm:ssZ`: a FHIR dateTime and instant, without milliseconds. */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `YYYY-MM-DD` */
export function date(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Lower-case ASCII letters only, for e-mail addresses built from names such as "Müller" or "O'Brien". */
export function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

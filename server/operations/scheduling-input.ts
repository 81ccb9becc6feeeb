// Reading the scheduling operations' inputs, from the URL or from a Parameters body alike: date-times, tokens
// (`system|code`), references (`Type/id`), and the appointment `$hold` and `$book` act on.
import type { Appointment } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { AppointmentInput } from '../../resources/scheduling/booking';
import type { FhirRequest } from '../fhir/context';
import { bodyParameters, queryValues } from './operation';

/** An instant from a dateTime or date (a date alone is midnight UTC); undefined when absent. */
export function instantParameter(request: FhirRequest, name: string): number | undefined {
  const values = [
    ...queryValues(request, name),
    ...bodyParameters(request, name).map((p) => p.valueDateTime ?? p.valueDate ?? p.valueInstant ?? p.valueString),
  ];
  if (values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`Parameter ${name} may be given once`, name);
  const [value] = values;
  const at = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) throw badRequest(`Parameter ${name} must be a date or dateTime (${String(value)})`, name);
  return at;
}

/** Token values `system|code`, comma-separated or repeated. */
export function tokenParameters(request: FhirRequest, name: string): string[] {
  const fromBody = bodyParameters(request, name).map((p) =>
    p.valueCoding ? `${p.valueCoding.system ?? ''}|${p.valueCoding.code ?? ''}` : (p.valueString ?? p.valueCode),
  );
  return splitValues(name, [...queryValues(request, name), ...fromBody]);
}

/** Local references `Type/id`, comma-separated or repeated; each must name `type`. */
export function referenceParameters(request: FhirRequest, name: string, type: string): string[] {
  const fromBody = bodyParameters(request, name).map((p) => p.valueReference?.reference ?? p.valueString);
  const values = splitValues(name, [...queryValues(request, name), ...fromBody]);
  for (const value of values) {
    if (!new RegExp(`^${type}/[A-Za-z0-9.-]{1,64}$`).test(value)) {
      throw badRequest(`Parameter ${name} must reference a ${type} (${type}/[id]), not "${value}"`, name);
    }
  }
  return values;
}

/** `_count` within 1..max, or the default. */
export function countParameter(request: FhirRequest, fallback: number, max: number): number {
  const values = [...queryValues(request, '_count'), ...bodyParameters(request, '_count').map((p) => p.valueInteger)];
  if (values.length === 0) return fallback;
  const count = Number(values[0]);
  if (!Number.isInteger(count) || count < 1) throw badRequest('_count must be a positive integer', '_count');
  return Math.min(count, max);
}

/** `appointment-resource` (a proposed or changed Appointment) or `appointment-reference`, exactly one. */
export function appointmentInput(request: FhirRequest): AppointmentInput {
  const resources = bodyParameters(request, 'appointment-resource');
  const references = [
    ...queryValues(request, 'appointment-reference'),
    ...bodyParameters(request, 'appointment-reference').map((p) => p.valueReference?.reference ?? p.valueString),
  ];
  if (resources.length + references.length !== 1) {
    throw badRequest('Give exactly one of appointment-resource and appointment-reference', 'appointment-resource');
  }
  if (resources.length === 1) {
    const resource = resources[0].resource as Appointment | undefined;
    if (resource?.resourceType !== 'Appointment') {
      throw badRequest('appointment-resource must hold an Appointment', 'appointment-resource');
    }
    return { resource };
  }
  const [reference] = references;
  if (typeof reference !== 'string')
    throw badRequest('appointment-reference must be a reference', 'appointment-reference');
  return { reference };
}

function splitValues(name: string, values: unknown[]): string[] {
  return values.flatMap((value) => {
    if (typeof value !== 'string' || value === '') throw badRequest(`Parameter ${name} must have a value`, name);
    return value.split(',').filter(Boolean);
  });
}

// The $match input: a Patient (bare, or the `resource` parameter), with `onlyCertainMatches` and `count`.
// The partial Patient is checked for the shapes matching reads, so bad input is a 400, never a 500.
import type { Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { MatchOptions } from './match';

export const DEFAULT_MATCH_COUNT = 10;
export const MAX_MATCH_COUNT = 100;

const LIST_FIELDS = ['identifier', 'name', 'telecom', 'address', 'link'] as const;
const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;

export interface MatchInput extends MatchOptions {
  patient: Patient;
}

export function parseMatchInput(body: unknown): MatchInput {
  if (!isObject(body)) throw badRequest('$match needs a Parameters body or a Patient');
  const parameters = body.resourceType === 'Parameters' ? ((body as unknown as Parameters).parameter ?? []) : undefined;
  const patient: unknown = parameters ? single(parameters, 'resource')?.resource : body;
  if (!isObject(patient)) throw badRequest('$match needs the "resource" parameter: the Patient to match', 'resource');
  checkPatient(patient);
  return {
    patient: patient as unknown as Patient,
    onlyCertainMatches: booleanParameter(parameters, 'onlyCertainMatches') ?? false,
    count: countParameter(parameters),
  };
}

function single(parameters: ParametersParameter[], name: string): ParametersParameter | undefined {
  const found = parameters.filter((p) => p.name === name);
  if (found.length > 1) throw badRequest(`$match takes one "${name}" parameter`, name);
  return found[0];
}

function booleanParameter(parameters: ParametersParameter[] | undefined, name: string): boolean | undefined {
  const parameter = parameters && single(parameters, name);
  if (!parameter) return undefined;
  if (typeof parameter.valueBoolean !== 'boolean') throw badRequest(`"${name}" must be a valueBoolean`, name);
  return parameter.valueBoolean;
}

function countParameter(parameters: ParametersParameter[] | undefined): number {
  const parameter = parameters && single(parameters, 'count');
  if (!parameter) return DEFAULT_MATCH_COUNT;
  const count = parameter.valueInteger ?? parameter.valuePositiveInt;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw badRequest('"count" must be a positive integer', 'count');
  }
  return Math.min(count, MAX_MATCH_COUNT);
}

function checkPatient(resource: Record<string, unknown>): void {
  if (resource.resourceType !== 'Patient') {
    throw badRequest(`$match matches a Patient, not a ${String(resource.resourceType)}`, 'resource');
  }
  for (const field of LIST_FIELDS) {
    const value = resource[field];
    if (value !== undefined && (!Array.isArray(value) || !value.every(isObject))) {
      throw badRequest(`Patient.${field} must be an array of elements`, `Patient.${field}`);
    }
  }
  if (resource.birthDate !== undefined && (typeof resource.birthDate !== 'string' || !DATE.test(resource.birthDate))) {
    throw badRequest('Patient.birthDate must be a date (YYYY, YYYY-MM or YYYY-MM-DD)', 'Patient.birthDate');
  }
  if (resource.gender !== undefined && typeof resource.gender !== 'string') {
    throw badRequest('Patient.gender must be a code', 'Patient.gender');
  }
  checkStrings(resource);
}

/** The strings matching reads inside names, identifiers, telecoms and addresses must be strings. */
function checkStrings(resource: Record<string, unknown>): void {
  const bad = LIST_FIELDS.flatMap((field) =>
    ((resource[field] as Record<string, unknown>[] | undefined) ?? []).flatMap((element) =>
      Object.entries(element)
        .filter(([key, value]) => !isValidPart(key, value))
        .map(([key]) => `Patient.${field}.${key}`),
    ),
  );
  if (bad.length > 0) throw badRequest(`Not a valid value: ${bad.join(', ')}`, bad[0]);
}

const STRING_PARTS = new Set(['family', 'value', 'system', 'postalCode', 'use', 'text', 'city', 'state']);
const STRING_LIST_PARTS = new Set(['given', 'suffix', 'prefix', 'line']);

function isValidPart(key: string, value: unknown): boolean {
  if (STRING_PARTS.has(key)) return typeof value === 'string';
  if (STRING_LIST_PARTS.has(key)) return Array.isArray(value) && value.every((v) => typeof v === 'string');
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

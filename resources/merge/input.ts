// The $merge input (R5 draft, Patient-merge): one source and one target, each by reference or by identifiers,
// an optional result-patient (the target as it should end) and preview. Malformed input is a 400.
import type { Identifier, Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
import { badRequest } from '../errors';

/** A patient named by its reference (`Patient/<id>`) or by identifiers that must find exactly one record. */
export type PatientSelector = { id: string } | { identifiers: Identifier[] };

export interface MergeInput {
  source: PatientSelector;
  target: PatientSelector;
  resultPatient?: Patient;
  preview: boolean;
  /** The input as received, echoed in the output's `input` parameter. */
  parameters: Parameters;
}

const PATIENT_REFERENCE = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/;

export function parseMergeInput(body: unknown): MergeInput {
  const parameters = body as Parameters | undefined;
  if (parameters?.resourceType !== 'Parameters') throw badRequest('$merge needs a Parameters body');
  const list = Array.isArray(parameters.parameter) ? parameters.parameter : [];
  const result = single(list, 'result-patient')?.resource;
  if (result !== undefined && result.resourceType !== 'Patient') {
    throw badRequest('result-patient must be a Patient', 'result-patient');
  }
  const preview = single(list, 'preview');
  if (preview && typeof preview.valueBoolean !== 'boolean')
    throw badRequest('preview must be a valueBoolean', 'preview');
  return {
    source: selector(list, 'source'),
    target: selector(list, 'target'),
    ...(result ? { resultPatient: result } : {}),
    preview: preview?.valueBoolean ?? false,
    parameters,
  };
}

function selector(list: ParametersParameter[], role: 'source' | 'target'): PatientSelector {
  const reference = single(list, `${role}-patient`);
  const identifiers = list.filter((p) => p.name === `${role}-patient-identifier`);
  if (reference && identifiers.length > 0) {
    throw badRequest(`Give ${role}-patient or ${role}-patient-identifier, not both`, `${role}-patient`);
  }
  if (reference) return { id: patientId(reference, role) };
  if (identifiers.length === 0) {
    throw badRequest(`$merge needs ${role}-patient or ${role}-patient-identifier`, `${role}-patient`);
  }
  return { identifiers: identifiers.map((p) => identifier(p, role)) };
}

function patientId(parameter: ParametersParameter, role: string): string {
  const match = PATIENT_REFERENCE.exec(parameter.valueReference?.reference ?? '');
  if (!match) throw badRequest(`${role}-patient must be a valueReference to a Patient`, `${role}-patient`);
  return match[1];
}

function identifier(parameter: ParametersParameter, role: string): Identifier {
  const value = parameter.valueIdentifier;
  if (typeof value?.value !== 'string' || value.value === '') {
    throw badRequest(`${role}-patient-identifier must be a valueIdentifier with a value`, `${role}-patient-identifier`);
  }
  return value;
}

function single(list: ParametersParameter[], name: string): ParametersParameter | undefined {
  const found = list.filter((p) => p.name === name);
  if (found.length > 1) throw badRequest(`$merge takes one "${name}" parameter`, name);
  return found[0];
}

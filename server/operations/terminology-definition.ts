// The OperationDefinitions of the R4 terminology operations, written compactly: the canonical R4 url (so the
// CapabilityStatement points at the standard definition) and the parameters this server reads or returns.
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { notFound } from '../../resources/errors';
import type { FhirRequest } from '../fhir/context';

/** name, use, max ('1' or '*'), type; every input is optional (min 0), every output as R4 has it. */
export type ParameterRow = [string, 'in' | 'out', string, string?];

export function terminologyDefinition(
  id: string,
  code: string,
  resource: string[],
  instance: boolean,
  rows: ParameterRow[],
): OperationDefinition & { code: string } {
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `http://hl7.org/fhir/OperationDefinition/${id}`,
    name: id.replace(/-/g, ''),
    status: 'active',
    kind: 'operation',
    code,
    resource: resource as OperationDefinition['resource'],
    system: false,
    type: true,
    instance,
    affectsState: false,
    parameter: rows.map(parameterOf),
  };
}

const REQUIRED_OUTPUTS = new Set(['return', 'result', 'outcome', 'name', 'display']);

function parameterOf([name, use, max, type]: ParameterRow): OperationDefinitionParameter {
  return {
    name,
    use,
    min: use === 'out' && REQUIRED_OUTPUTS.has(name) ? 1 : 0,
    max,
    ...(type ? { type: type as OperationDefinitionParameter['type'] } : {}),
  };
}

/** The routes serve `[type]/$op` for every type; the terminology operations exist on their own types only. */
export function requireType(request: FhirRequest, types: readonly string[], code: string): string {
  const { type } = request.params;
  if (!types.includes(type)) throw notFound(`$${code} is defined on ${types.join(' and ')}, not on ${type}`);
  return type;
}

// Bulk Data 2.0 `$export` at its three levels: system, Patient (type) and Group (instance). The definitions
// feed the routing table and the CapabilityStatement (names `export`, `patient-export`, `group-export`, as
// bdt looks for them). The asynchronous kick-off, status and file requests are served by the bulk edge
// (export-edge.ts), which sees the Accept and Prefer headers; reached inside a Bundle, $export is refused.
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../../resources/errors';
import type { FhirRequest } from '../fhir/context';
import type { FhirOperation } from './operation';

const BULK = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

const PARAMETERS: OperationDefinitionParameter[] = [
  { name: '_outputFormat', use: 'in', min: 0, max: '1', type: 'string' },
  { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
  { name: '_type', use: 'in', min: 0, max: '*', type: 'string' },
  { name: '_elements', use: 'in', min: 0, max: '*', type: 'string' },
  { name: '_typeFilter', use: 'in', min: 0, max: '*', type: 'string' },
];

const PATIENT_PARAMETER: OperationDefinitionParameter = {
  name: 'patient',
  use: 'in',
  min: 0,
  max: '*',
  type: 'Reference',
  targetProfile: ['http://hl7.org/fhir/StructureDefinition/Patient'],
};

type Resources = NonNullable<OperationDefinition['resource']>;

function exportDefinition(
  id: string,
  name: string,
  level: 'system' | 'type' | 'instance',
  resource: string,
): FhirOperation['definition'] {
  return {
    resourceType: 'OperationDefinition',
    id,
    url: `${BULK}/${id}`,
    name,
    status: 'active',
    kind: 'operation',
    code: 'export',
    resource: [resource] as Resources,
    system: level === 'system',
    type: level === 'type',
    instance: level === 'instance',
    affectsState: false,
    parameter: level === 'system' ? PARAMETERS : [...PARAMETERS, PATIENT_PARAMETER],
  };
}

/**
 * The bulk edge takes every direct kick-off, so what gets here is an entry of a batch or transaction Bundle,
 * or `$export` on a type or instance that has none (the routes match any type).
 */
async function notInBundles(request: FhirRequest): Promise<never> {
  const { type, id } = request.params;
  if (type === 'Group' && id === undefined) {
    throw badRequest('A Group export names its Group: [base]/Group/[id]/$export');
  }
  if (type !== undefined && type !== (id === undefined ? 'Patient' : 'Group')) {
    throw notFound(`$export is not defined on ${id === undefined ? type : `${type} instances`}`);
  }
  throw badRequest('$export is asynchronous: call it directly with Prefer: respond-async, not in a Bundle');
}

export const exportOperation: FhirOperation = {
  definition: exportDefinition('export', 'BulkDataExport', 'system', 'Resource'),
  handler: notInBundles,
};

export const patientExportOperation: FhirOperation = {
  definition: exportDefinition('patient-export', 'PatientLevelExport', 'type', 'Patient'),
  handler: notInBundles,
};

export const groupExportOperation: FhirOperation = {
  definition: exportDefinition('group-export', 'GroupLevelExport', 'instance', 'Group'),
  handler: notInBundles,
};

// $validate (type and instance level): checks a resource against the base specification and the profiles
// it claims or the `profile` parameter names, without storing anything. Answers 200 with an
// OperationOutcome listing every issue (an "all OK" information issue when there are none).
import type { OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { operationResource, stringParameters, type FhirOperation } from './operation';

async function validateHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  const mode = stringParameters(request, 'mode')[0];
  if (mode !== undefined && mode !== 'create' && mode !== 'update') {
    throw badRequest(`$validate mode "${mode}" is not supported (create, update)`, 'mode');
  }
  let resource = operationResource(request);
  if (!resource && id) resource = JSON.parse((await request.repo.read(type, id)).json as string);
  if (!resource) throw badRequest('$validate needs a resource: the body or the "resource" parameter', 'resource');
  if (resource.resourceType !== type) {
    throw badRequest(`$validate on ${type} got a ${String(resource.resourceType)}`, 'resourceType');
  }
  if (mode === 'update' && id && resource.id !== id) {
    throw badRequest(`The resource id "${resource.id}" does not match the URL id "${id}"`, 'id');
  }
  const issues = await request.repo.validate(resource, stringParameters(request, 'profile'));
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.length > 0 ? issues : [{ severity: 'information', code: 'informational', diagnostics: 'All OK' }],
  };
  return { status: 200, body: { resource: outcome } };
}

export const validateOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Resource-validate',
    url: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
    name: 'Validate',
    status: 'active',
    kind: 'operation',
    code: 'validate',
    resource: ['Resource' as NonNullable<OperationDefinition['resource']>[number]],
    system: false,
    type: true,
    instance: true,
    affectsState: false,
    parameter: [
      { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource' },
      { name: 'mode', use: 'in', min: 0, max: '1', type: 'code' },
      { name: 'profile', use: 'in', min: 0, max: '*', type: 'uri' },
      { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
    ],
  },
  handler: validateHandler,
};

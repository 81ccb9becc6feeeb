// $reindex (system and type level): rebuilds the search index of current resources from the current
// search parameters, as a background job. Answers 202 Accepted with Content-Location naming the Task that
// reports progress (in-progress, then completed or failed, output `reindexed`); 409 while one runs.
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';
import { informational } from '../../resources/errors';

async function reindexHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type } = request.params;
  const task = await request.repo.startReindex(type ? [type] : undefined);
  const location = `${request.baseUrl}/Task/${task.id}`;
  return {
    status: 202,
    body: { resource: informational(`$reindex started; its progress is at ${location}`) },
    headers: { 'Content-Location': location },
  };
}

export const reindexOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'reindex',
    url: 'http://hms.local/fhir/OperationDefinition/reindex',
    name: 'Reindex',
    status: 'active',
    kind: 'operation',
    code: 'reindex',
    resource: ['Resource' as NonNullable<OperationDefinition['resource']>[number]],
    system: true,
    type: true,
    instance: false,
    affectsState: true,
    parameter: [{ name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' }],
  },
  handler: reindexHandler,
};

// Patient/$unmerge (type level, HMS-specific; administrators only): undoes a $merge named by its Provenance,
// restoring every resource the merge wrote to its pre-merge content, unless one changed since (409).
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest, informational, notFound } from '../../resources/errors';
import { undoMerge } from '../../resources/merge/undo';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';

const PROVENANCE_REFERENCE = /^(?:.*\/)?Provenance\/([A-Za-z0-9\-.]{1,64})$/;

async function unmergeHandler(request: FhirRequest): Promise<FhirResponse> {
  if (request.params.type !== 'Patient') throw notFound(`$unmerge is defined on Patient, not ${request.params.type}`);
  const undone = await undoMerge(request.repo, provenanceId(request.body));
  const provenance = `Provenance/${undone.provenance.id}`;
  const text = `Restored ${undone.restored.length} resources to their content before the merge; recorded in ${provenance}`;
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'outcome', resource: informational(text) },
      { name: 'provenance', valueReference: { reference: provenance } },
    ],
  };
  return { status: 200, body: { resource: parameters } };
}

function provenanceId(body: unknown): string {
  const parameters = body as Parameters | undefined;
  if (parameters?.resourceType !== 'Parameters') throw badRequest('$unmerge needs a Parameters body');
  const named = (parameters.parameter ?? []).filter((p) => p.name === 'provenance');
  const match = named.length === 1 ? PROVENANCE_REFERENCE.exec(named[0].valueReference?.reference ?? '') : null;
  if (!match)
    throw badRequest(
      '$unmerge needs one "provenance" parameter: a valueReference to the merge Provenance',
      'provenance',
    );
  return match[1];
}

export const unmergeOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Patient-unmerge',
    url: 'http://hms.local/fhir/OperationDefinition/Patient-unmerge',
    name: 'Unmerge',
    status: 'active',
    kind: 'operation',
    code: 'unmerge',
    resource: ['Patient'],
    system: false,
    type: true,
    instance: false,
    affectsState: true,
    parameter: [
      { name: 'provenance', use: 'in', min: 1, max: '1', type: 'Reference' },
      { name: 'outcome', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
      { name: 'provenance', use: 'out', min: 1, max: '1', type: 'Reference' },
    ],
  },
  handler: unmergeHandler,
};

// update: PUT [base]/[type]/[id] (update-as-create with the client's id), and conditional update
// PUT [base]/[type]?criteria. If-Match makes either version-aware (412 on a stale version); If-None-Match: *
// makes either create-only (412 when the resource exists).
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';
import { storedResponse, versionLocation } from './respond';
import { requireResourceBody } from './body';
import { withIfNoneMatch } from './if-none-match';

export async function updateInteraction(request: FhirRequest): Promise<FhirResponse> {
  const resource = requireResourceBody(request) as unknown as Resource;
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const { type, id } = request.params;
  return withIfNoneMatch(request, [['_id', id]], async (repo) => {
    const result = await repo.update(type, id, resource, { ifMatch });
    return writeResponse(result.created, result.stored);
  });
}

export async function conditionalUpdateInteraction(request: FhirRequest): Promise<FhirResponse> {
  if (request.query.length === 0) throw badRequest('An update needs an id in the URL or search criteria');
  const resource = requireResourceBody(request) as unknown as Resource;
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  return withIfNoneMatch(request, request.query, async (repo) => {
    const result = await repo.conditionalUpdate(request.params.type, request.query, resource, { ifMatch });
    return writeResponse(result.created, result.stored);
  });
}

export function writeResponse(created: boolean, stored: Parameters<typeof versionLocation>[0]): FhirResponse {
  return storedResponse(created ? 201 : 200, stored, {
    location: created ? versionLocation(stored) : undefined,
    isWrite: true,
  });
}

// patch: PATCH [base]/[type]/[id] and conditional PATCH [base]/[type]?criteria with a JSON Patch document
// (application/json-patch+json). The patched resource is validated like any other write.
import { badRequest, unsupportedMediaType } from '../../resources/errors';
import { parseJsonPatch } from '../../resources/patch';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';
import { writeResponse } from './update';

export async function patchInteraction(request: FhirRequest): Promise<FhirResponse> {
  const operations = patchBody(request);
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const result = await request.repo.patch(request.params.type, request.params.id, operations, { ifMatch });
  return writeResponse(false, result.stored);
}

export async function conditionalPatchInteraction(request: FhirRequest): Promise<FhirResponse> {
  if (request.query.length === 0) throw badRequest('A patch needs an id in the URL or search criteria');
  const operations = patchBody(request);
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const result = await request.repo.conditionalPatch(request.params.type, request.query, operations, { ifMatch });
  return writeResponse(false, result.stored);
}

function patchBody(request: FhirRequest) {
  const type = request.headers.contentType;
  if (type !== undefined && type !== 'application/json-patch+json') {
    throw unsupportedMediaType(`PATCH takes application/json-patch+json (JSON Patch); got ${type}`);
  }
  return parseJsonPatch(request.body);
}

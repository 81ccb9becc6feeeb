// patch: PATCH [base]/[type]/[id] and conditional PATCH [base]/[type]?criteria with a JSON Patch document
// (application/json-patch+json) or a FHIRPath Patch (a Parameters resource as application/fhir+json). The
// patched resource is validated like any other write.
import { badRequest, unsupportedMediaType } from '../../resources/errors';
import { isParameters, parseFhirPathPatch } from '../../resources/fhirpath-patch/parse';
import { parseJsonPatch, type PatchDocument } from '../../resources/patch';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';
import { writeResponse } from './update';

const JSON_PATCH = 'application/json-patch+json';
const FHIR_JSON_TYPES = new Set(['application/fhir+json', 'application/json']);

export async function patchInteraction(request: FhirRequest): Promise<FhirResponse> {
  const patch = patchBody(request);
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const result = await request.repo.patch(request.params.type, request.params.id, patch, { ifMatch });
  return writeResponse(false, result.stored);
}

export async function conditionalPatchInteraction(request: FhirRequest): Promise<FhirResponse> {
  if (request.query.length === 0) throw badRequest('A patch needs an id in the URL or search criteria');
  const patch = patchBody(request);
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const result = await request.repo.conditionalPatch(request.params.type, request.query, patch, { ifMatch });
  return writeResponse(false, result.stored);
}

function patchBody(request: FhirRequest): PatchDocument {
  const type = request.headers.contentType;
  const body = request.body;
  // Without a Content-Type the body's shape says which format it is.
  if (type === JSON_PATCH || (type === undefined && !isParameters(body))) return parseJsonPatch(body);
  if (isParameters(body) && (type === undefined || FHIR_JSON_TYPES.has(type))) return parseFhirPathPatch(body);
  const got = FHIR_JSON_TYPES.has(type as string) ? `${describe(body)} as ${type}` : type;
  throw unsupportedMediaType(
    `PATCH takes ${JSON_PATCH} (JSON Patch) or application/fhir+json with a Parameters resource (FHIRPath Patch); got ${got}`,
  );
}

function describe(body: unknown): string {
  const type = (body as { resourceType?: unknown } | null)?.resourceType;
  return typeof type === 'string' ? `a ${type}` : 'a body that is not a Parameters resource';
}

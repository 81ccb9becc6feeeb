// create: POST [base]/[type], conditional with If-None-Exist (no match: 201, one: 200, several: 412).
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from './context';
import { parseCriteria } from './headers';
import { storedResponse, versionLocation } from './respond';
import { requireResourceBody } from './body';

export async function createInteraction(request: FhirRequest): Promise<FhirResponse> {
  const resource = requireResourceBody(request) as unknown as Resource;
  const ifNoneExist = request.headers.ifNoneExist ? parseCriteria(request.headers.ifNoneExist) : undefined;
  const result = await request.repo.create(request.params.type, resource, { ifNoneExist, id: request.assignedId });
  return storedResponse(result.created ? 201 : 200, result.stored, {
    location: versionLocation(result.stored),
    isWrite: true,
  });
}

// delete: DELETE [base]/[type]/[id] (versioned: a deletion version is recorded, reads then give 410) and
// conditional DELETE [base]/[type]?criteria, which deletes every match up to a bound.
import { badRequest, informational } from '../../resources/errors';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';

export async function deleteInteraction(request: FhirRequest): Promise<FhirResponse> {
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const result = await request.repo.delete(request.params.type, request.params.id, { ifMatch });
  const message = result.stored ? 'Deleted' : 'Already deleted; nothing changed';
  return { status: 204, stored: result.stored, isWrite: true, body: { resource: informational(message) } };
}

export async function conditionalDeleteInteraction(request: FhirRequest): Promise<FhirResponse> {
  if (request.query.length === 0) throw badRequest('A delete needs an id in the URL or search criteria');
  const result = await request.repo.conditionalDelete(request.params.type, request.query);
  const message = `Deleted ${result.deletedCount} resource${result.deletedCount === 1 ? '' : 's'}`;
  return { status: 204, stored: result.stored, isWrite: true, body: { resource: informational(message) } };
}

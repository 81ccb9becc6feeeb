// delete: DELETE [base]/[type]/[id] (versioned: a deletion version is recorded, reads then give 410) and
// conditional DELETE [base]/[type]?criteria, which deletes every match up to a bound. Delete is idempotent
// (R4 http.html#delete): deleting what was deleted before, or never existed, answers 204 like a deletion.
import { FhirError, badRequest, informational } from '../../resources/errors';
import { isResourceType } from '../../resources/definitions';
import { isUnrestricted } from '../../resources/access';
import { isAudited } from '../../resources/audit/trail';
import type { Repository } from '../../resources/repository';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';

export async function deleteInteraction(request: FhirRequest): Promise<FhirResponse> {
  const ifMatch = parseETag(request.headers.ifMatch, 'If-Match');
  const { type, id } = request.params;
  const deniedBefore = request.repo.journal.denials.length;
  try {
    const result = await request.repo.delete(type, id, { ifMatch });
    const message = result.stored ? 'Deleted' : 'Already deleted; nothing changed';
    return { status: 204, stored: result.stored, isWrite: true, body: { resource: informational(message) } };
  } catch (error) {
    if (!neverExisted(error, type, request.repo, deniedBefore)) throw error;
    const message = `${type}/${id} does not exist; nothing to delete`;
    return { status: 204, isWrite: true, body: { resource: informational(message) } };
  }
}

/**
 * The repository's 404 for an id with no version at all. Its 404 for a resource the caller may not see says
 * the same (so as not to reveal it) but is noted as a denial, and stays a 404: that resource was not deleted.
 * Denials are noted for audited callers only; a caller with full access has none.
 */
function neverExisted(error: unknown, type: string, repo: Repository, deniedBefore: number): boolean {
  if (!(error instanceof FhirError) || error.status !== 404 || !isResourceType(type)) return false;
  const denialsNoted = isAudited(repo.access);
  if (!denialsNoted && !isUnrestricted(repo.access)) return false;
  return repo.journal.denials.length === deniedBefore;
}

export async function conditionalDeleteInteraction(request: FhirRequest): Promise<FhirResponse> {
  if (request.query.length === 0) throw badRequest('A delete needs an id in the URL or search criteria');
  const result = await request.repo.conditionalDelete(request.params.type, request.query);
  const message = `Deleted ${result.deletedCount} resource${result.deletedCount === 1 ? '' : 's'}`;
  return { status: 204, stored: result.stored, isWrite: true, body: { resource: informational(message) } };
}

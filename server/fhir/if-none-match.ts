// If-None-Match on an update (RFC 9110 §13.1.2): `*` makes a PUT create-only (412 when the resource exists),
// an ETag refuses the write when it names the current version. The check and the write share one store
// transaction, so no other write can create the resource in between.
import { preconditionFailed } from '../../resources/errors';
import type { Repository } from '../../resources/repository';
import type { SearchParamPairs } from '../../resources/search/parse';
import type { FhirRequest, FhirResponse } from './context';
import { parseETag } from './headers';

/**
 * Runs `write` (an update of the `type` resource that `criteria` find) under the request's If-None-Match;
 * without the header it runs as it is. The lookup is a search, so it needs the caller's search grant on the
 * type, as other conditional requests do; the resource is then validated under the write lock (rare enough
 * not to validate it ahead).
 */
export async function withIfNoneMatch(
  request: FhirRequest,
  criteria: SearchParamPairs,
  write: (repo: Repository) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  const value = request.headers.ifNoneMatch?.trim();
  if (!value) return write(request.repo);
  const refusedVersion = value === '*' ? undefined : parseETag(value, 'If-None-Match');
  return request.repo.withTransaction(async (repo) => {
    const { type } = request.params;
    const { page } = await repo.search([type], [...criteria, ['_count', '1']], { strict: true, internal: true });
    const current = page.entries[0];
    if (current && refusedVersion === undefined) {
      throw preconditionFailed(`${type}/${current.id} exists; If-None-Match: * allows only its creation`);
    }
    if (current && current.versionId === refusedVersion) {
      throw preconditionFailed(`${type}/${current.id} is at version ${refusedVersion}, which If-None-Match refuses`);
    }
    return write(repo);
  });
}

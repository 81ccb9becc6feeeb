// read: GET [base]/[type]/[id], with If-None-Match and If-Modified-Since answered by 304.
import { parseETag } from './headers';
import type { FhirRequest, FhirResponse } from './context';
import { storedResponse } from './respond';
import type { StoredVersion } from '../../resources/store/port';

export async function readInteraction(request: FhirRequest): Promise<FhirResponse> {
  const stored = await request.repo.read(request.params.type, request.params.id);
  if (notModified(request, stored)) return { status: 304, stored };
  return storedResponse(200, stored);
}

function notModified(request: FhirRequest, stored: StoredVersion): boolean {
  const { ifNoneMatch, ifModifiedSince } = request.headers;
  if (ifNoneMatch) {
    if (ifNoneMatch.trim() === '*') return true;
    return parseETag(ifNoneMatch, 'If-None-Match') === stored.versionId;
  }
  if (ifModifiedSince) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have whole seconds: compare at that precision.
    return !Number.isNaN(since) && Math.floor(stored.lastUpdated / 1000) * 1000 <= since;
  }
  return false;
}

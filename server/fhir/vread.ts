// vread: GET [base]/[type]/[id]/_history/[vid].
import { notFound } from '../../resources/errors';
import { parseVersionId } from '../../resources/ids';
import type { FhirRequest, FhirResponse } from './context';
import { storedResponse } from './respond';

export async function vreadInteraction(request: FhirRequest): Promise<FhirResponse> {
  const { type, id, vid } = request.params;
  const versionId = parseVersionId(vid);
  if (versionId === undefined) throw notFound(`${type}/${id} has no version "${vid}"`);
  return storedResponse(200, await request.repo.vread(type, id, versionId));
}

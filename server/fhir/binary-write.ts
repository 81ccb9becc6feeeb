// Writes an uploaded Binary: the resource without its bytes goes through the repository (access, validation,
// versioning, audit) and the bytes go to the store beside the new version, in the same store transaction.
// The bytes never pass validation, which refuses strings over 1 MB; the version carries their SHA-256 in an
// extension on `data`, so an update with other bytes is a new version and one with the same bytes is not.
import { createHash } from 'node:crypto';
import type { Binary, Extension } from '@medplum/fhirtypes';
import { Repository, type RepositoryServices, type WriteResult } from '../../resources/repository';
import type { SearchParamPairs } from '../../resources/search/parse';
import { CONTENT_SHA256_URL } from '../../resources/store/binary-data';
import type { BinaryUpload } from './binary-upload';

export type BinaryWrite =
  { interaction: 'create'; ifNoneExist?: SearchParamPairs } | { interaction: 'update'; id: string; ifMatch?: number };

/** `outer` is the request's repository: its access and its journal (for the audit of what it disclosed). */
export function writeBinary(
  services: RepositoryServices,
  outer: Repository,
  write: BinaryWrite,
  upload: BinaryUpload,
): Promise<WriteResult> {
  const { bytes } = upload;
  const resource = bytes ? withContentHash(upload.resource, bytes) : upload.resource;
  return services.store.transaction(async (tx) => {
    const repo = new Repository(services, outer.access, tx, outer.journal);
    // A store that keeps no bytes apart keeps them in the JSON (and so within the validator's 1 MB).
    const inline = bytes && !tx.writeBinaryData ? { ...resource, data: bytes.toString('base64') } : resource;
    const result =
      write.interaction === 'create'
        ? await repo.create('Binary', inline, { ifNoneExist: write.ifNoneExist })
        : // Raw content names its id in the URL only.
          await repo.update('Binary', write.id, upload.raw ? { ...inline, id: write.id } : inline, {
            ifMatch: write.ifMatch,
          });
    // An outcome means nothing was written: a conditional create that matched, or the same content again.
    if (bytes && !result.outcome && tx.writeBinaryData) {
      await tx.writeBinaryData(result.stored.id, result.stored.versionId, bytes);
    }
    return result;
  });
}

/** Binary's `_data`, the primitive's extensions, which @medplum/fhirtypes does not model. */
type BinaryWithDataElement = Binary & { _data?: { extension?: Extension[] } };

function withContentHash(resource: BinaryWithDataElement, bytes: Buffer): Binary {
  const hash: Extension = { url: CONTENT_SHA256_URL, valueString: createHash('sha256').update(bytes).digest('hex') };
  const others = (resource._data?.extension ?? []).filter((e) => e.url !== CONTENT_SHA256_URL);
  const withHash: BinaryWithDataElement = { ...resource, _data: { ...resource._data, extension: [...others, hash] } };
  return withHash;
}

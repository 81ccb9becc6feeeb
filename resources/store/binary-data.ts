// The bytes of a Binary live beside the JSON, not in it: a store takes `data` out of a Binary version before
// writing its JSON, keeps the decoded bytes under (id, version), and the HTTP edge puts them back on reads.
// A version names the SHA-256 of its bytes in an extension on `data`; one written without bytes but naming
// the same hash as the version before it (a PATCH of its metadata) keeps that version's bytes.
import type { StoredVersion, VersionWrite } from './port';

export const BINARY = 'Binary';

export const CONTENT_SHA256_URL = 'http://hms.local/fhir/StructureDefinition/binary-sha256';

export interface SplitWrite {
  /** The write with `data` taken out of its JSON (the same object when there was nothing to take). */
  write: VersionWrite;
  /** The decoded content, when the version had `data`. */
  bytes?: Buffer;
}

/** Splits a Binary version into its JSON without `data` and its bytes; other writes pass unchanged. */
export function splitBinaryData(write: VersionWrite): SplitWrite {
  // Cheap test first: only a Binary whose JSON names `data` is parsed.
  if (write.resourceType !== BINARY || write.json === undefined || !write.json.includes('"data"')) return { write };
  const { data, ...rest } = JSON.parse(write.json) as Record<string, unknown>;
  if (typeof data !== 'string') return { write };
  return { write: { ...write, json: JSON.stringify(rest) }, bytes: Buffer.from(data, 'base64') };
}

/** The stored JSON of a Binary (which has no `data`) with its bytes put back as base64 `data`. */
export function withBinaryData(json: string, bytes: Buffer | undefined): string {
  if (bytes === undefined) return json;
  const end = json.lastIndexOf('}');
  return `${json.slice(0, end)},"data":${JSON.stringify(bytes.toString('base64'))}}`;
}

/** The content hash a Binary version's JSON names (extension on `data`), if any. */
export function contentHashOf(json: string | undefined): string | undefined {
  if (json === undefined || !json.includes(CONTENT_SHA256_URL)) return undefined;
  const resource = JSON.parse(json) as { _data?: { extension?: { url?: string; valueString?: string }[] } };
  return resource._data?.extension?.find((e) => e.url === CONTENT_SHA256_URL)?.valueString;
}

/**
 * True when a Binary version written without bytes should keep those of the version before it: both name the
 * same content hash. `previous` is version `write.versionId - 1`.
 */
export function keepsPreviousContent(write: VersionWrite, previous: StoredVersion | undefined): boolean {
  if (write.resourceType !== BINARY || write.deleted || previous === undefined) return false;
  const hash = contentHashOf(write.json);
  return hash !== undefined && hash === contentHashOf(previous.json);
}

/** The key a blob is stored under in stores that key by one string (GridFS): `Binary/id/version`. */
export function blobKey(id: string, versionId: number): string {
  return `${BINARY}/${id}/${versionId}`;
}

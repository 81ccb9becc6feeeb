// The body of a Binary create or update as a Binary resource and its bytes: raw content of any media type
// becomes `contentType` (+ `securityContext` from X-Security-Context) and the bytes; a FHIR JSON body is the
// Binary resource itself, its base64 `data` decoded into the bytes. Either way the content may reach
// BINARY_MAX_BYTES, beyond the JSON body limit of other resources; anything larger is a 413 before a byte is
// stored.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Binary } from '@medplum/fhirtypes';
import getRawBody from 'raw-body';
import { badRequest, unsupportedMediaType } from '../../resources/errors';
import { mediaType, parseBody } from './body';
import { binaryContentType, checkBase64Data, isFhirMediaType, tooLargeContent } from './binary-content';
import { header } from './render';

/** Room for the other elements of a JSON Binary (meta, securityContext) beside its base64 `data`. */
const JSON_ENVELOPE_BYTES = 1024 * 1024;

export interface BinaryUpload {
  /** The Binary without `data`. */
  resource: Binary;
  /** The content; undefined when there is none (Binary.data is 0..1). */
  bytes?: Buffer;
  /** True when the body was the content itself, false when it was a Binary resource. */
  raw: boolean;
}

export async function binaryUpload(req: IncomingMessage, maxBytes: number): Promise<BinaryUpload> {
  const type = mediaType(header(req, 'content-type'));
  if (isFhirMediaType(type)) {
    // base64 takes 4 characters for every 3 bytes.
    const body = await readBody(req, Math.ceil(maxBytes / 3) * 4 + JSON_ENVELOPE_BYTES, maxBytes);
    if (!body) throw badRequest('The request needs a Binary resource or raw content as its body');
    const resource = parseBody(body, type);
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      throw badRequest('The request needs a Binary resource as its body');
    }
    const { data, ...binary } = resource as Binary;
    const base64 = checkBase64Data(data, maxBytes);
    // The stored type is served as Content-Type later: it must be a media type, as for raw content.
    if (binary.resourceType === 'Binary' && typeof binary.contentType === 'string') {
      binary.contentType = binaryContentType(binary.contentType);
    }
    return { resource: binary, bytes: base64 ? Buffer.from(base64, 'base64') : undefined, raw: false };
  }
  const contentType = binaryContentType(header(req, 'content-type'));
  const bytes = await readBody(req, maxBytes, maxBytes);
  const securityContext = header(req, 'x-security-context')?.trim();
  const resource: Binary = {
    resourceType: 'Binary',
    contentType,
    ...(securityContext ? { securityContext: { reference: securityContext } } : {}),
  };
  return { resource, bytes, raw: true };
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, deflate: createInflate };

/** The body, at most `limit` bytes after decoding (413 naming BINARY_MAX_BYTES beyond); undefined when empty. */
async function readBody(req: IncomingMessage, limit: number, maxBytes: number): Promise<Buffer | undefined> {
  const encoding = (header(req, 'content-encoding') ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && !DECODERS[encoding]) {
    throw unsupportedMediaType(`Unsupported Content-Encoding ${encoding}: send identity, gzip or deflate`);
  }
  const stream: Readable = encoding === 'identity' ? req : (req.pipe(DECODERS[encoding]()) as unknown as Readable);
  const length = encoding === 'identity' ? req.headers['content-length'] : undefined;
  try {
    const body = await getRawBody(stream, { limit, length });
    return body.length > 0 ? body : undefined;
  } catch (error) {
    throw bodyError(error, maxBytes);
  }
}

function bodyError(error: unknown, maxBytes: number): unknown {
  const e = error as { type?: string; status?: number; code?: string };
  if (e?.type === 'entity.too.large') return tooLargeContent(maxBytes);
  if (e?.code === 'Z_DATA_ERROR') return badRequest('The request body is not valid for its Content-Encoding');
  if (e?.status !== undefined && e.status >= 400 && e.status < 500)
    return badRequest('The request body was not received whole');
  return error;
}

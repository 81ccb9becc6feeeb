// The Binary endpoint (R4 binary.html, http.html "Binary"), in front of the FHIR edge: it takes create
// (POST Binary), update (PUT Binary/id), read and vread of Binary, whose bodies may be raw content of any media
// type and whose reads answer raw bytes or the resource by Accept. Everything else about Binary (search,
// history, delete, patch, conditional update, Bundle entries) goes to the FHIR edge like any other type.
// Access, versioning and audit are the repository's, as for every resource.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FhirError, notFound } from '../../resources/errors';
import { parseVersionId } from '../../resources/ids';
import { Repository, type RepositoryServices, type WriteResult } from '../../resources/repository';
import { splitBinaryData } from '../../resources/store/binary-data';
import type { StoredVersion } from '../../resources/store/port';
import type { Authenticator } from '../auth/authenticate';
import type { Logger } from '../log';
import { auditDisclosures, auditSubtype } from './audit';
import { negotiateBinaryRead } from './binary-content';
import { binaryContent, sendRawBinary, storedContentType } from './binary-read';
import { binaryUpload } from './binary-upload';
import { writeBinary, type BinaryWrite } from './binary-write';
import { etag, parseCriteria, parseETag } from './headers';
import type { FhirEdge } from './http';
import { header, negotiateContentType, sendFhirResponse } from './render';
import { versionLocation } from './respond';
import { sendFailure, sideEdge, type SideContext } from './side-edge';

export interface BinaryEdgeOptions {
  services: RepositoryServices;
  baseUrl: string;
  logger: Logger;
  authenticate: Authenticator;
  /** BINARY_MAX_BYTES. */
  maxBytes: number;
}

type BinaryTarget =
  | { interaction: 'create' }
  | { interaction: 'update'; id: string }
  | { interaction: 'read'; id: string }
  | { interaction: 'vread'; id: string; vid: string };

const ROUTES: Record<BinaryTarget['interaction'], string> = {
  create: '/fhir/Binary',
  update: '/fhir/Binary/:id',
  read: '/fhir/Binary/:id',
  vread: '/fhir/Binary/:id/_history/:vid',
};

/** The repository that served the request: what it refused is audited with a failure. */
type BinaryContext = SideContext & { repo?: Repository };

export function withBinaryEdge(fhir: FhirEdge, options: BinaryEdgeOptions): FhirEdge {
  return sideEdge(
    fhir,
    options.logger,
    binaryTarget,
    (target) => ROUTES[target.interaction],
    (target, req, res, query, context) => serve(options, target, req, res, query, context),
    (req, res, context, error, target) =>
      sendFailure(req, res, context, error instanceof FhirError ? error : undefined, error, {
        ...options,
        subtype: auditSubtype(target.interaction),
        denied: (context as BinaryContext).repo?.journal.denials,
      }),
  );
}

/** The requests this endpoint takes; undefined for every other (the FHIR edge's). */
function binaryTarget(method: string, path: string): BinaryTarget | undefined {
  let segments: string[];
  try {
    segments = path
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments[0] !== 'Binary') return undefined;
  if (segments.length === 1) return method === 'POST' ? { interaction: 'create' } : undefined;
  const id = segments[1];
  // `_history`, `_search` and `$operation` are not ids.
  if (id === '' || id.startsWith('_') || id.startsWith('$')) return undefined;
  const reads = method === 'GET' || method === 'HEAD';
  if (segments.length === 2 && method === 'PUT') return { interaction: 'update', id };
  if (segments.length === 2 && reads) return { interaction: 'read', id };
  if (segments.length === 4 && segments[2] === '_history' && reads)
    return { interaction: 'vread', id, vid: segments[3] };
  return undefined;
}

async function serve(
  options: BinaryEdgeOptions,
  target: BinaryTarget,
  req: IncomingMessage,
  res: ServerResponse,
  rawQuery: string,
  context: BinaryContext,
): Promise<void> {
  const query = [...new URLSearchParams(rawQuery)];
  const caller = await options.authenticate(req, query);
  context.access = { ...caller, requestId: context.requestId, ip: context.access.ip };
  const repo = (context.repo = new Repository(options.services, context.access));
  const format = lastValue(query, '_format');
  const pretty = lastValue(query, '_pretty') === 'true';
  if (target.interaction === 'create' || target.interaction === 'update') {
    const result = await write(options, repo, target, req);
    await auditDisclosures(options.services, context.access, repo.journal, auditSubtype(target.interaction));
    const { stored } = result;
    const response = {
      status: result.created ? 201 : 200,
      stored,
      // The client has the bytes: the answer is the Binary without them (GET returns them).
      body:
        stored.json === undefined
          ? undefined
          : { json: splitBinaryData({ ...stored, index: [] }).write.json as string },
      location: result.created || target.interaction === 'create' ? versionLocation(stored) : undefined,
      isWrite: true,
    };
    const contentType = writeResponseType(format, header(req, 'accept'));
    sendFhirResponse(req, res, response, { baseUrl: options.baseUrl, contentType, pretty });
    return;
  }
  const stored = await read(repo, target);
  if (target.interaction === 'read' && notModified(req, stored)) {
    await auditDisclosures(options.services, context.access, repo.journal, 'read');
    res.setHeader('ETag', etag(stored.versionId));
    res.writeHead(304).end();
    return;
  }
  // Negotiated before the bytes are loaded: a 406 costs no read of up to BINARY_MAX_BYTES.
  const form = negotiateBinaryRead(format, header(req, 'accept'), storedContentType(stored));
  const content = await binaryContent(options.services.store, stored);
  await auditDisclosures(options.services, context.access, repo.journal, auditSubtype(target.interaction));
  if (form.form === 'raw') return sendRawBinary(req, res, stored, content);
  const response = { status: 200, stored, body: { json: content.json } };
  sendFhirResponse(req, res, response, { baseUrl: options.baseUrl, contentType: form.contentType, pretty });
}

async function write(
  options: BinaryEdgeOptions,
  repo: Repository,
  target: Extract<BinaryTarget, { interaction: 'create' | 'update' }>,
  req: IncomingMessage,
): Promise<WriteResult> {
  const ifNoneExist = header(req, 'if-none-exist');
  const ifMatch = parseETag(header(req, 'if-match'), 'If-Match');
  const upload = await binaryUpload(req, options.maxBytes);
  const write: BinaryWrite =
    target.interaction === 'create'
      ? { interaction: 'create', ifNoneExist: ifNoneExist ? parseCriteria(ifNoneExist) : undefined }
      : { interaction: 'update', id: target.id, ifMatch };
  return writeBinary(options.services, repo, write, upload);
}

async function read(
  repo: Repository,
  target: Extract<BinaryTarget, { interaction: 'read' | 'vread' }>,
): Promise<StoredVersion> {
  if (target.interaction === 'read') return repo.read('Binary', target.id);
  const versionId = parseVersionId(target.vid);
  if (versionId === undefined) throw notFound(`Binary/${target.id} has no version "${target.vid}"`);
  return repo.vread('Binary', target.id, versionId);
}

/** A write's answer is FHIR JSON; an Accept that names only the uploaded type does not fail the write. */
function writeResponseType(format: string | undefined, accept: string | undefined): string {
  try {
    return negotiateContentType(format, accept);
  } catch {
    return 'application/fhir+json';
  }
}

function notModified(req: IncomingMessage, stored: StoredVersion): boolean {
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifNoneMatch) return ifNoneMatch.trim() === '*' || parseETag(ifNoneMatch, 'If-None-Match') === stored.versionId;
  const since = Date.parse(header(req, 'if-modified-since') ?? '');
  // HTTP dates have whole seconds: compare at that precision.
  return !Number.isNaN(since) && Math.floor(stored.lastUpdated / 1000) * 1000 <= since;
}

/** Errors as OperationOutcomes; refusals (401, 403, reads denied as 404) are audited as failed accesses. */

function lastValue(query: [string, string][], name: string): string | undefined {
  for (let i = query.length - 1; i >= 0; i--) if (query[i][0] === name) return query[i][1];
  return undefined;
}

// The HTTP edge of Bulk Data `$export`, in front of the FHIR edge: the kick-off at its three levels (which
// needs the Accept and Prefer headers a FhirRequest does not carry), the status URL (GET: progress, manifest
// or failure; DELETE: cancel and remove) and the file URLs (NDJSON, for the client that asked, with a token
// still covering the file's type). Errors are OperationOutcomes; refusals are audited like the FHIR edge's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { AccessContext } from '../../resources/access';
import { FhirError, badRequest, informational } from '../../resources/errors';
import { startExport } from '../../resources/export/kick-off';
import type { ExportLevel } from '../../resources/export/request';
import { deleteExport, exportFile, exportStatus } from '../../resources/export/status';
import type { RepositoryServices } from '../../resources/repository';
import type { Authenticator } from '../auth/authenticate';
import { mediaType, parseBody } from '../fhir/body';
import type { FhirEdge } from '../fhir/http';
import { publicBaseUrl } from '../fhir/public-base';
import { header, sendOutcome } from '../fhir/render';
import { sendFailure, sideEdge, type SideContext } from '../fhir/side-edge';
import type { Logger } from '../log';
import { exportPreferences } from './export-prefer';

export interface BulkEdgeOptions {
  services: RepositoryServices;
  baseUrl: string;
  trustProxy?: boolean;
  logger: Logger;
  authenticate: Authenticator;
}

type BulkTarget =
  | { kind: 'kick-off'; level: ExportLevel; groupId?: string }
  | { kind: 'status'; id: string }
  | { kind: 'file'; id: string; part: number };

/** Seconds a client should wait before polling the status URL again. */
const RETRY_AFTER_SECONDS = 2;
const MAX_KICK_OFF_BODY = 1024 * 1024;

export function withBulkEdge(fhir: FhirEdge, options: BulkEdgeOptions): FhirEdge {
  return sideEdge(
    fhir,
    options.logger,
    bulkTarget,
    (target) => ROUTES[target.kind],
    (target, req, res, query, context) => serve(options, target, req, res, query, context),
    (req, res, context, error) =>
      sendFailure(req, res, context, error instanceof FhirError ? error : clientError(error), error, {
        ...options,
        subtype: 'operation',
      }),
  );
}

const ROUTES: Record<BulkTarget['kind'], string> = {
  'kick-off': '/fhir/$export',
  status: '/fhir/$export-status/:id',
  file: '/fhir/$export-file/:id/:part',
};

/** The requests this edge takes; undefined for every other (the FHIR edge's). */
function bulkTarget(method: string, path: string): BulkTarget | undefined {
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  const kickOff = method === 'GET' || method === 'POST';
  const last = segments.length - 1;
  if (segments[last] === '$export' && kickOff) return kickOffTarget(segments);
  if (segments[0] === '$export-status' && segments.length === 2 && (method === 'GET' || method === 'DELETE')) {
    return { kind: 'status', id: segments[1] };
  }
  if (segments[0] === '$export-file' && segments.length === 3 && method === 'GET' && /^\d+$/.test(segments[2])) {
    return { kind: 'file', id: segments[1], part: Number(segments[2]) };
  }
  return undefined;
}

function kickOffTarget(segments: string[]): BulkTarget | undefined {
  if (segments.length === 1) return { kind: 'kick-off', level: 'system' };
  if (segments.length === 2 && segments[0] === 'Patient') return { kind: 'kick-off', level: 'patient' };
  if (segments.length === 3 && segments[0] === 'Group' && /^[A-Za-z0-9\-.]{1,64}$/.test(segments[1])) {
    return { kind: 'kick-off', level: 'group', groupId: segments[1] };
  }
  return undefined;
}

async function serve(
  options: BulkEdgeOptions,
  target: BulkTarget,
  req: IncomingMessage,
  res: ServerResponse,
  rawQuery: string,
  context: SideContext,
): Promise<void> {
  const query = [...new URLSearchParams(rawQuery)];
  const caller = await options.authenticate(req, query);
  context.access = { ...caller, requestId: context.requestId, ip: context.access.ip };
  const baseUrl = options.trustProxy ? publicBaseUrl(options.baseUrl, req.headers) : options.baseUrl;
  const { services } = options;
  if (target.kind === 'kick-off') {
    const preferences = exportPreferences(header(req, 'accept'), header(req, 'prefer'));
    const raw = req.method === 'POST' ? await getRawBody(req, { limit: MAX_KICK_OFF_BODY }) : undefined;
    const body = raw && raw.length > 0 ? parseBody(raw, mediaType(header(req, 'content-type'))) : undefined;
    const kickOff = { ...target, method: req.method as 'GET' | 'POST', query, body, lenient: preferences.lenient };
    const url = `${baseUrl}${req.url?.replace(/^\/fhir/, '') ?? ''}`;
    const task = await startExport(services, context.access, kickOff, url);
    res.setHeader('Content-Location', `${baseUrl}/$export-status/${task.id}`);
    return sendOutcome(req, res, 202, informational(`$export started; poll ${baseUrl}/$export-status/${task.id}`));
  }
  if (target.kind === 'file') {
    const bytes = await exportFile(services, context.access, target.id, target.part);
    res.writeHead(200, { 'Content-Type': 'application/fhir+ndjson', 'Content-Length': bytes.length });
    res.end(bytes);
    return;
  }
  if (req.method === 'DELETE') {
    await deleteExport(services, context.access, target.id);
    return sendOutcome(req, res, 202, informational('The export was cancelled and its files are being removed'));
  }
  await sendStatus(options, req, res, target.id, context.access, baseUrl);
}

async function sendStatus(
  options: BulkEdgeOptions,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  access: AccessContext,
  baseUrl: string,
): Promise<void> {
  const status = await exportStatus(options.services, access, id, (part) => `${baseUrl}/$export-file/${id}/${part}`);
  if (status.state === 'running') {
    res.writeHead(202, { 'X-Progress': status.progress, 'Retry-After': String(RETRY_AFTER_SECONDS) }).end();
    return;
  }
  if (status.state === 'failed') {
    const failure = informational(status.reason);
    failure.issue = [{ severity: 'error', code: 'exception', diagnostics: status.reason }];
    return sendOutcome(req, res, 500, failure);
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  if (status.expires) headers.Expires = new Date(status.expires).toUTCString();
  res.writeHead(200, headers).end(JSON.stringify(status.manifest));
}

/** A body over the limit is the client's doing. */
function clientError(error: unknown): FhirError | undefined {
  const e = error as { type?: string };
  return e?.type === 'entity.too.large' ? badRequest('The $export body is larger than 1 MB') : undefined;
}

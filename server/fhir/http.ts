// The HTTP edge of the FHIR API, on Node's own request and response (no Express middleware on this hot
// path): request id and log line, format negotiation, route match, bounded body read, dispatch, rendering,
// and every error rendered as an OperationOutcome in one place.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import getRawBody from 'raw-body';
import { FhirError, badRequest, outcome, tooLarge, unsupportedMediaType } from '../../resources/errors';
import { Repository, type RepositoryServices } from '../../resources/repository';
import type { Authenticator } from '../auth/authenticate';
import type { Logger } from '../log';
import { logRequestOnFinish, requestIdOf } from '../request-log';
import { mediaType, parseBody } from './body';
import type { FhirMethod, FhirRequest } from './context';
import { header, negotiateContentType, sendFhirResponse, sendOutcome } from './render';
import { matchRoute, type RouteMatch } from './router';
import { auditDisclosures, auditFailure, auditSubtype } from './audit';
import { publicBaseUrl } from './public-base';
import type { AccessContext } from '../../resources/access';

export interface FhirEdgeOptions {
  services: RepositoryServices;
  baseUrl: string;
  /** TRUST_PROXY: links follow the proxy's Forwarded / X-Forwarded-* headers (public-base.ts). */
  trustProxy?: boolean;
  maxBodyBytes: number;
  logger: Logger;
  /** Who the caller is: a bearer token's context, or a 401. */
  authenticate: Authenticator;
}

/** Handles a request under /fhir; `path` is the part after /fhir, `query` the raw query string. */
export type FhirEdge = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => void;

export function createFhirEdge(options: FhirEdgeOptions): FhirEdge {
  const { logger } = options;
  const logsRequests = logger.writes('info');
  return (req, res, path, query) => {
    const requestId = requestIdOf(req.headers);
    res.setHeader('X-Request-Id', requestId);
    // Until a token says otherwise, the caller is anonymous: refusals are audited with this context.
    const access = { actor: 'anonymous', requestId, ip: req.socket.remoteAddress };
    const context: EdgeContext = { requestId, route: 'unmatched', access };
    if (logsRequests) logRequestOnFinish(logger, req, res, requestId, () => context.route);
    handle(options, req, res, path, query, context).catch(async (error: unknown) => {
      req.resume();
      const known = error instanceof FhirError ? error : clientError(error);
      if (!known) logUnexpected(logger, context, error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const rendered = known ?? internalError(requestId);
      await auditRefusal(options, context, rendered.status).catch((e: unknown) => logUnexpected(logger, context, e));
      for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
      sendOutcome(req, res, rendered.status, rendered.outcome);
    });
  };
}

async function handle(
  options: FhirEdgeOptions,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  rawQuery: string,
  context: EdgeContext,
): Promise<void> {
  const query = [...new URLSearchParams(rawQuery)];
  const contentType = negotiateContentType(lastValue(query, '_format'), header(req, 'accept'));
  const segments = pathSegments(path);
  const matched = tryMatchRoute(req.method ?? '', segments);
  context.interaction = matched.match?.route.interaction;
  // Everything but the CapabilityStatement needs a token, even a path that matches nothing.
  if (!isMetadata(segments)) {
    const caller = await options.authenticate(req, query);
    context.access = { ...caller, requestId: context.requestId, ip: context.access.ip };
  }
  if (!matched.match) throw matched.error;
  const { route, params } = matched.match;
  context.route = `/fhir/${route.pattern.join('/')}`;
  const requestType = mediaType(header(req, 'content-type'));
  const baseUrl = options.trustProxy ? publicBaseUrl(options.baseUrl, req.headers) : options.baseUrl;
  const raw = await readBody(req, options.maxBodyBytes);
  const request: FhirRequest = {
    method: req.method as FhirMethod,
    params,
    query,
    headers: {
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifModifiedSince: header(req, 'if-modified-since'),
      ifNoneExist: header(req, 'if-none-exist'),
      prefer: header(req, 'prefer'),
      contentType: requestType,
    },
    body: raw ? parseBody(raw, requestType) : undefined,
    repo: (context.repo = new Repository(options.services, context.access)),
    baseUrl,
    reportError: (error) => logUnexpected(options.logger, context, error),
  };
  const response = await route.handler(request);
  await auditDisclosures(options.services, context.access, request.repo.journal, auditSubtype(route.interaction));
  sendFhirResponse(req, res, response, {
    baseUrl,
    contentType,
    pretty: lastValue(query, '_pretty') === 'true',
  });
}

const isMetadata = (segments: string[]) => segments.length === 1 && segments[0] === 'metadata';

interface EdgeContext {
  requestId: string;
  route: string;
  interaction?: string;
  access: AccessContext;
  repo?: Repository;
}

function tryMatchRoute(method: string, segments: string[]): { match?: RouteMatch; error?: unknown } {
  try {
    return { match: matchRoute(method, segments) };
  } catch (error) {
    return { error };
  }
}

/**
 * A refused request is a failed access in the audit trail: no or a bad token (401), a scope that does not
 * allow it (403), or resources it may not see answered as unknown (404).
 */
async function auditRefusal(options: FhirEdgeOptions, context: EdgeContext, status: number) {
  const denied = context.repo?.journal.denials ?? [];
  if (status !== 401 && status !== 403 && denied.length === 0) return;
  const text = status === 401 ? 'no valid access token' : 'access denied';
  await auditFailure(options.services, context.access, auditSubtype(context.interaction), text, denied);
}

function lastValue(query: [string, string][], name: string): string | undefined {
  for (let i = query.length - 1; i >= 0; i--) if (query[i][0] === name) return query[i][1];
  return undefined;
}

function pathSegments(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  try {
    return trimmed.split('/').map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest('The URL path is not valid percent-encoding');
  }
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, deflate: createInflate };

/** The request body, at most `limit` bytes after decoding; undefined when there is none. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return undefined;
  const encoding = (header(req, 'content-encoding') ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && !DECODERS[encoding]) {
    throw unsupportedMediaType(`Unsupported Content-Encoding ${encoding}: send identity, gzip or deflate`);
  }
  const stream: Readable = encoding === 'identity' ? req : (req.pipe(DECODERS[encoding]()) as unknown as Readable);
  const length = encoding === 'identity' ? req.headers['content-length'] : undefined;
  const body = await getRawBody(stream, { limit, length });
  return body.length > 0 ? body : undefined;
}

/** Errors from reading the body that the client caused, as FHIR errors. */
function clientError(error: unknown): FhirError | undefined {
  const e = error as { type?: string; status?: number; message?: string; code?: string };
  if (e?.type === 'entity.too.large')
    return tooLarge('The request body is larger than the server accepts (MAX_BODY_SIZE)');
  if (e?.code === 'Z_DATA_ERROR') return badRequest('The request body is not valid for its Content-Encoding');
  if (e?.status !== undefined && e.status >= 400 && e.status < 500) {
    return new FhirError(
      e.status,
      outcome([{ severity: 'error', code: 'invalid', diagnostics: e.message ?? 'Bad request' }]),
    );
  }
  return undefined;
}

/** The 500 a client sees: no detail beyond the request id under which the error was logged. */
export function internalError(requestId: string): FhirError {
  return new FhirError(
    500,
    outcome([{ severity: 'error', code: 'exception', diagnostics: `Internal server error; request id ${requestId}` }]),
  );
}

/** A 500 is a bug: logged with the request id, the error's class and call frames, never its message (it
 * may quote data). */
export function logUnexpected(logger: Logger, context: { requestId: string; route: string }, error: unknown): void {
  const e = error as Error;
  logger.error('unhandled error', {
    requestId: context.requestId,
    route: context.route,
    error: e?.name,
    frames: e?.stack?.split('\n').slice(1).join('\n'),
  });
}

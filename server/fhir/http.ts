// The HTTP edge of the FHIR API: turns an Express request into a FhirRequest, dispatches it through the
// routing table, renders the FhirResponse, and renders every error as an OperationOutcome in one place.
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { FhirError, badRequest, outcome, tooLarge, unsupportedMediaType } from '../../resources/errors';
import { Repository, type RepositoryServices } from '../../resources/repository';
import type { Logger } from '../log';
import { mediaType, parseBody } from './body';
import type { FhirMethod, FhirRequest } from './context';
import { negotiateContentType, sendFhirResponse } from './render';
import { matchRoute } from './router';

export function fhirHandler(services: RepositoryServices, baseUrl: string, logger: Logger): RequestHandler {
  return async (req: Request, res: Response) => {
    const contentType = negotiateContentType(req);
    const segments = pathSegments(req.path);
    const { route, params } = matchRoute(req.method, segments);
    res.locals.route = `/fhir/${route.pattern.join('/')}`;
    const requestType = mediaType(req.headers['content-type']);
    const request: FhirRequest = {
      method: req.method as FhirMethod,
      params,
      query: queryPairs(req.originalUrl),
      headers: {
        ifMatch: header(req, 'if-match'),
        ifNoneMatch: header(req, 'if-none-match'),
        ifModifiedSince: header(req, 'if-modified-since'),
        ifNoneExist: header(req, 'if-none-exist'),
        prefer: header(req, 'prefer'),
        contentType: requestType,
      },
      body: Buffer.isBuffer(req.body) ? parseBody(req.body, requestType) : undefined,
      repo: new Repository(services, { actor: 'anonymous', requestId: res.locals.requestId }),
      baseUrl,
      reportError: (error) => logUnexpected(logger, res, error),
    };
    const response = await route.handler(request);
    sendFhirResponse(req, res, response, baseUrl, contentType);
  };
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

/** Query parameters in order, with repeats, as the search needs them (Express's parser merges repeats). */
function queryPairs(url: string): [string, string][] {
  const question = url.indexOf('?');
  if (question < 0) return [];
  return [...new URLSearchParams(url.slice(question + 1))];
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Body-parser and other errors that a client causes, mapped to their FHIR errors. */
function clientError(error: { type?: string; status?: number; message?: string }): FhirError | undefined {
  if (error.type === 'entity.too.large')
    return tooLarge('The request body is larger than the server accepts (MAX_BODY_SIZE)');
  if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported')
    return unsupportedMediaType(error.message ?? 'Unsupported encoding');
  if (error.status !== undefined && error.status >= 400 && error.status < 500)
    return new FhirError(
      error.status,
      outcome([{ severity: 'error', code: 'invalid', diagnostics: error.message ?? 'Bad request' }]),
    );
  return undefined;
}

export function fhirErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = error instanceof FhirError ? error : clientError(error as { type?: string; status?: number });
    const rendered =
      known ??
      new FhirError(
        500,
        outcome([
          {
            severity: 'error',
            code: 'exception',
            diagnostics: `Internal server error; request id ${res.locals.requestId}`,
          },
        ]),
      );
    if (!known) logUnexpected(logger, res, error);
    if (res.headersSent) return;
    res.set(rendered.headers);
    res.status(rendered.status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(rendered.outcome));
  };
}

/** A 500 is a bug: logged with the request id, the error's class and call frames, never its message (it
 * may quote data). */
function logUnexpected(logger: Logger, res: Response, error: unknown): void {
  const e = error as Error;
  logger.error('unhandled error', {
    requestId: res.locals.requestId,
    route: res.locals.route,
    error: e?.name,
    frames: e?.stack?.split('\n').slice(1).join('\n'),
  });
}

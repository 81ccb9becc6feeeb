// The HTTP request listener: the FHIR API under /fhir is served by its own lean edge (server/fhir/http.ts);
// everything else goes to the Express app, which later issues extend (authorization server, bundled apps).
import type { RequestListener } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { RepositoryServices } from '../resources/repository';
import { FhirError, notFound } from '../resources/errors';
import type { Logger } from './log';
import { createFhirEdge, internalError, logUnexpected } from './fhir/http';
import { logRequest, requestIdOf } from './request-log';

export interface AppOptions {
  services: RepositoryServices;
  baseUrl: string;
  maxBodyBytes: number;
  logger: Logger;
}

const FHIR_PREFIX = /^\/fhir(?=\/|\?|$)/;

export function createRequestListener(options: AppOptions): RequestListener {
  const fhir = createFhirEdge(options);
  const app = createApp(options);
  return (req, res) => {
    const url = req.url ?? '/';
    const prefix = FHIR_PREFIX.exec(url);
    if (!prefix) return app(req, res);
    const rest = url.slice(prefix[0].length);
    const question = rest.indexOf('?');
    fhir(req, res, question < 0 ? rest : rest.slice(0, question), question < 0 ? '' : rest.slice(question + 1));
  };
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(options.logger));
  app.get('/', (_req, res) => {
    res.json({ name: 'HMS FHIR Server', fhir: options.baseUrl, metadata: `${options.baseUrl}/metadata` });
  });
  app.use(() => {
    throw notFound('Not found: the FHIR API is under /fhir');
  });
  app.use(errorHandler(options.logger));
  return app;
}

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const route = res.locals.route ?? 'unmatched';
      logRequest(logger, { requestId, method: req.method, route, status: res.statusCode, started });
    });
    next();
  };
}

/** Errors outside the FHIR API, rendered as OperationOutcomes too. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const requestId = res.locals.requestId as string;
    if (!(error instanceof FhirError)) logUnexpected(logger, { requestId, route: 'app' }, error);
    const rendered = error instanceof FhirError ? error : internalError(requestId);
    res.status(rendered.status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(rendered.outcome));
  };
}

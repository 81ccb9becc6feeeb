// The Express app: middleware order and mounts. Request id and log line first, then compression, then the
// FHIR API under /fhir with its own body parsing, then the OperationOutcome error renderer.
import type { RequestListener } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import compression from 'compression';
import type { RepositoryServices } from '../resources/repository';
import type { Logger } from './log';
import { fhirErrorHandler, fhirHandler } from './fhir/http';
import { notFound } from '../resources/errors';
import { fastRead } from './fhir/fast-read';
import { logRequest, requestIdOf } from './request-log';

export interface AppOptions {
  services: RepositoryServices;
  baseUrl: string;
  maxBodyBytes: number;
  logger: Logger;
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(options.logger));
  const compress = compression({ threshold: 1024 });
  // Only clients that accept an encoding pay for the compression wrapper.
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));
  app.get('/', (_req, res) => {
    res.json({ name: 'HMS FHIR Server', fhir: options.baseUrl, metadata: `${options.baseUrl}/metadata` });
  });
  app.use(
    '/fhir',
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    fhirHandler(options.services, options.baseUrl, options.logger),
  );
  app.use(() => {
    throw notFound('Not found: the FHIR API is under /fhir');
  });
  app.use(fhirErrorHandler(options.logger));
  return app;
}

/** The HTTP server's listener: plain reads take the fast path, everything else the Express app. */
export function createRequestListener(options: AppOptions): RequestListener {
  const app = createApp(options);
  const tryFastRead = fastRead(options.services, options.logger);
  return (req, res) => {
    void tryFastRead(req, res).then(
      (answered) => answered || app(req, res),
      () => app(req, res),
    );
  };
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

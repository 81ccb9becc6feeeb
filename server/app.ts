// The Express app: middleware order and mounts. Request id and log line first, then compression, then the
// FHIR API under /fhir with its own body parsing, then the OperationOutcome error renderer.
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import compression from 'compression';
import type { RepositoryServices } from '../resources/repository';
import type { Logger } from './log';
import { fhirErrorHandler, fhirHandler } from './fhir/http';
import { notFound } from '../resources/errors';

export interface AppOptions {
  services: RepositoryServices;
  baseUrl: string;
  maxBodyBytes: number;
  logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(options.logger));
  app.use(compression({ threshold: 1024 }));
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

/** One JSON log line per request: id, method, route pattern, status, duration. Never URLs or bodies. */
function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      logger.info('request', {
        requestId,
        method: req.method,
        route: res.locals.route ?? 'unmatched',
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      });
    });
    next();
  };
}

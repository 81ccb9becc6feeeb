// The HTTP request listener: the FHIR API under /fhir is served by its own lean edge (server/fhir/http.ts);
// everything else goes to the Express app, which later issues extend (authorization server, bundled apps).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { RepositoryServices } from '../resources/repository';
import { FhirError, notFound } from '../resources/errors';
import type { Logger } from './log';
import { OPEN_ACCESS, bearerAuthenticator } from './auth/authenticate';
import { BearerTokens } from './auth/bearer';
import { CorsPolicy } from './auth/cors';
import { mountAdminApi } from './auth/admin-api';
import { authAudit } from './auth/audit';
import { mountAuthRoutes } from './auth/routes';
import type { AuthService } from './auth/service';
import { createFhirEdge, internalError, logUnexpected } from './fhir/http';
import { withBinaryEdge } from './fhir/binary';
import { withBulkEdge } from './operations/export-edge';
import { DEFAULT_BINARY_MAX_BYTES } from './binary-config';
import { logRequestOnFinish, requestIdOf } from './request-log';
import { hl7AdminRoutes } from './hl7-admin-api';
import type { Hl7Bridge } from '../integrations/hl7v2/bridge';
import { HttpFront, type HttpSettings } from './http/front';

export interface AppOptions {
  services: RepositoryServices;
  baseUrl: string;
  /** TRUST_PROXY (server/proxy-config.ts): FHIR links follow the proxy's Forwarded / X-Forwarded-* headers. */
  trustProxy?: boolean;
  maxBodyBytes: number;
  /** Largest Binary content (BINARY_MAX_BYTES); default 50 MB. */
  binaryMaxBytes?: number;
  logger: Logger;
  auth: AuthService;
  /** Development only (loopback): the FHIR API serves every caller with full access. */
  authDisabled?: boolean;
  /** The HL7 v2 bridge, for its admin endpoints; absent when it is off. */
  hl7?: Hl7Bridge;
  /** TLS, rate limits and /metrics access (server/http); without them, no limits. */
  http?: HttpSettings;
  /** Set once a graceful stop began: /readyz answers 503. */
  lifecycle?: { stopping: boolean };
}

/** The pieces of the authorization server both the FHIR edge and the Express app use. */
interface AuthParts {
  bearer: BearerTokens;
  cors: CorsPolicy;
  /** Security headers, probes, metrics and rate limits (server/http/front.ts). */
  front?: HttpFront;
}

const FHIR_PREFIX = /^\/fhir(?=\/|\?|$)/;

export function createRequestListener(options: AppOptions): RequestListener {
  const front = new HttpFront(options);
  const parts: AuthParts = { bearer: new BearerTokens(options.auth), cors: new CorsPolicy(options.auth), front };
  const authenticate = front.limitClients(options.authDisabled ? OPEN_ACCESS : bearerAuthenticator(parts.bearer));
  const binaryMaxBytes = options.binaryMaxBytes ?? DEFAULT_BINARY_MAX_BYTES;
  const binary = withBinaryEdge(createFhirEdge({ ...options, authenticate }), {
    ...options,
    authenticate,
    maxBytes: binaryMaxBytes,
  });
  const fhir = withBulkEdge(binary, { ...options, authenticate });
  const app = createApp(options, parts);
  const serveFhir = (req: IncomingMessage, res: ServerResponse, rest: string) => {
    const question = rest.indexOf('?');
    fhir(req, res, question < 0 ? rest : rest.slice(0, question), question < 0 ? '' : rest.slice(question + 1));
  };
  return front.listener((req, res) => {
    const url = req.url ?? '/';
    const prefix = FHIR_PREFIX.exec(url);
    if (!prefix || url.startsWith('/fhir/.well-known/')) return app(req, res);
    const rest = url.slice(prefix[0].length);
    if (req.headers.origin === undefined) return serveFhir(req, res, rest);
    if (/^\/metadata(?:\?|$)/.test(rest)) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      return serveFhir(req, res, rest);
    }
    parts.cors.apply(req, res).then(
      (answered) => answered || serveFhir(req, res, rest),
      () => serveFhir(req, res, rest),
    );
  });
}

export function createApp(options: AppOptions, parts: AuthParts): Express {
  const audit = authAudit(options.services);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(options.logger));
  parts.front?.mount(app);
  mountAuthRoutes(app, {
    auth: options.auth,
    bearer: parts.bearer,
    cors: parts.cors,
    baseUrl: options.baseUrl,
    services: options.services,
    audit,
  });
  mountAdminApi(
    app,
    options.auth,
    parts.bearer,
    (access, action, outcome) =>
      audit(access, { subtype: 'admin', outcome: outcome === 'success' ? '0' : '4', outcomeText: action }),
    [hl7AdminRoutes(options.hl7)],
  );
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
    const requestId = requestIdOf(req.headers);
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    logRequestOnFinish(logger, req, res, requestId, () => (res.locals.route as string | undefined) ?? 'unmatched');
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

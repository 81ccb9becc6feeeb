// What the endpoints served beside the FHIR edge (Binary bytes, bulk export) share: taking their own requests
// and passing the rest on, the request id and the request log line, and turning a failure into an
// OperationOutcome (audited when access was refused), never a 500 for the client's own mistakes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessContext } from '../../resources/access';
import type { FhirError } from '../../resources/errors';
import type { RepositoryServices } from '../../resources/repository';
import type { StoredVersion } from '../../resources/store/port';
import type { Logger } from '../log';
import { logRequestOnFinish, requestIdOf } from '../request-log';
import type { AuditSubtype } from '../../resources/audit/balp';
import { auditFailure } from './audit';
import { internalError, logUnexpected, type FhirEdge } from './http';
import { sendOutcome } from './render';

export interface SideContext {
  requestId: string;
  /** The route pattern, for the request log. */
  route: string;
  /** Anonymous until the handler has authenticated the caller. */
  access: AccessContext;
}

/**
 * An edge that serves the requests `targetOf` recognises with `serve` and passes every other one to `fhir`.
 * `serve` may replace `context.access` once it knows the caller.
 */
export function sideEdge<T>(
  fhir: FhirEdge,
  logger: Logger,
  targetOf: (method: string, path: string) => T | undefined,
  routeOf: (target: T) => string,
  serve: (target: T, req: IncomingMessage, res: ServerResponse, query: string, context: SideContext) => Promise<void>,
  fail: (req: IncomingMessage, res: ServerResponse, context: SideContext, error: unknown, target: T) => Promise<void>,
): FhirEdge {
  const logsRequests = logger.writes('info');
  return (req, res, path, query) => {
    const target = targetOf(req.method ?? '', path);
    if (!target) return fhir(req, res, path, query);
    const requestId = requestIdOf(req.headers);
    res.setHeader('X-Request-Id', requestId);
    const access = { actor: 'anonymous', requestId, ip: req.socket.remoteAddress };
    const context: SideContext = { requestId, route: routeOf(target), access };
    if (logsRequests) logRequestOnFinish(logger, req, res, requestId, () => context.route);
    serve(target, req, res, query, context).catch((error: unknown) => fail(req, res, context, error, target));
  };
}

export interface FailureAudit {
  services: RepositoryServices;
  logger: Logger;
  /** The audit subtype of the refused interaction. */
  subtype: AuditSubtype;
  /** Resources the caller was refused while serving the request. */
  denied?: readonly StoredVersion[];
}

/**
 * Answers a failed request: a FhirError as its OperationOutcome, anything else as a logged 500 (or a dropped
 * connection once the answer has begun); a refusal (401, 403, denied resources) is audited first.
 */
export async function sendFailure(
  req: IncomingMessage,
  res: ServerResponse,
  context: SideContext,
  known: FhirError | undefined,
  error: unknown,
  audit: FailureAudit,
): Promise<void> {
  req.resume();
  if (!known) logUnexpected(audit.logger, context, error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const rendered = known ?? internalError(context.requestId);
  const denied = audit.denied ?? [];
  if (rendered.status === 401 || rendered.status === 403 || denied.length > 0) {
    const text = rendered.status === 401 ? 'no valid access token' : 'access denied';
    await auditFailure(audit.services, context.access, audit.subtype, text, [...denied]).catch((e: unknown) =>
      logUnexpected(audit.logger, context, e),
    );
  }
  for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
  sendOutcome(req, res, rendered.status, rendered.outcome);
}

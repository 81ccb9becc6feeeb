// The per-request log line and request id, shared by the Express app and the read fast path: one JSON
// line with id, method, route pattern, status and duration; never URLs, query values or bodies.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './log';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The client's X-Request-Id when it is a safe token, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

interface RequestLogFields {
  requestId: string;
  method: string;
  route: string;
  status: number;
  /** process.hrtime.bigint() when the request arrived. */
  started: bigint;
}

/**
 * Writes the request's line once its response has finished; `route` is asked then, since routing names the
 * route after the request arrived.
 */
export function logRequestOnFinish(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  route: () => string,
): void {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    logRequest(logger, { requestId, method: req.method ?? '', route: route(), status: res.statusCode, started });
  });
}

function logRequest(logger: Logger, fields: RequestLogFields): void {
  const { started, ...rest } = fields;
  logger.info('request', { ...rest, durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100 });
}

// The per-request log line and request id, shared by the Express app and the read fast path: one JSON
// line with id, method, route pattern, status and duration; never URLs, query values or bodies.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from './log';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The client's X-Request-Id when it is a safe token, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface RequestLogFields {
  requestId: string;
  method: string;
  route: string;
  status: number;
  /** process.hrtime.bigint() when the request arrived. */
  started: bigint;
}

export function logRequest(logger: Logger, fields: RequestLogFields): void {
  const { started, ...rest } = fields;
  logger.info('request', { ...rest, durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100 });
}

// Rate limits on express-rate-limit's in-memory counters (one fixed one-minute window per key): per IP
// address in front of everything, and per OAuth client on the FHIR API once its token is known. An exceeded
// limit answers 429 with an OperationOutcome and Retry-After. Each node counts on its own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { MemoryStore, ipKeyGenerator, type Options } from 'express-rate-limit';
import { FhirError, issue, outcome } from '../../resources/errors';
import type { Authenticator } from '../auth/authenticate';
import { sendOutcome } from '../fhir/render';

const WINDOW_MS = 60_000;

/** Calls `next` unless the caller is over its limit, in which case the 429 has been sent. */
export type IpLimiter = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export function tooManyRequests(who: string, retryAfterSeconds: number): FhirError {
  const diagnostics = `Too many requests from this ${who}; retry after ${retryAfterSeconds} s`;
  return new FhirError(429, outcome([issue('throttled', diagnostics)]), { 'Retry-After': String(retryAfterSeconds) });
}

const secondsUntil = (resetTime: Date | undefined) =>
  Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + WINDOW_MS) - Date.now()) / 1000));

/**
 * The per-IP limit on raw requests (the FHIR edge and the Express app alike); undefined when off. It counts in
 * the store directly: the rateLimit() middleware cost 6-9 µs per request here against 2-3 µs, and the FHIR
 * read path pays it on every read.
 */
export function ipLimiter(
  perMinute: number,
  exempt: (url: string) => boolean,
  trustProxy = false,
): IpLimiter | undefined {
  if (perMinute <= 0) return undefined;
  const store = windowStore();
  return (req, res, next) => {
    if (exempt(req.url ?? '')) return next();
    // IPv6 addresses count by /56 network.
    const key = ipKeyGenerator(clientAddress(req, trustProxy));
    store.increment(key).then(({ totalHits, resetTime }) => {
      if (totalHits <= perMinute) return next();
      const refusal = tooManyRequests('address', secondsUntil(resetTime));
      for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
      sendOutcome(req, res, refusal.status, refusal.outcome);
    }, next);
  };
}

/**
 * The caller's address: the connection's peer; behind a trusted proxy (TRUST_PROXY) the address that proxy
 * appended to X-Forwarded-For, the last entry (earlier entries are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  if (typeof forwarded !== 'string') return peer;
  const last = forwarded.slice(forwarded.lastIndexOf(',') + 1).trim();
  return isIP(last) ? last : peer;
}

/** Wraps the FHIR API's authenticator: a token whose client is over its limit gets a 429. */
export function clientLimited(authenticate: Authenticator, perMinute: number): Authenticator {
  if (perMinute <= 0) return authenticate;
  const store = windowStore();
  return async (req, query) => {
    const access = await authenticate(req, query);
    if (access.clientId === undefined) return access;
    const { totalHits, resetTime } = await store.increment(access.clientId);
    if (totalHits > perMinute) throw tooManyRequests('client', secondsUntil(resetTime));
    return access;
  };
}

/** express-rate-limit's memory store: fixed one-minute windows per key, expired keys dropped in bulk. */
function windowStore(): MemoryStore {
  const store = new MemoryStore();
  store.init({ windowMs: WINDOW_MS } as Options);
  return store;
}

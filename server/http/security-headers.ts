// Security headers of every answer. Set before any handler runs, so a handler with a reason to differ (an
// authorization page with its own CSP, a script that may be cached) overrides one by setting it again.
// The values are constants: the FHIR read path pays a few setHeader calls and nothing else.
import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/** Every answer: no MIME sniffing, and no URL (which may carry a search) leaks in Referer headers. */
const COMMON = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
] as const;

export const HSTS = 'max-age=31536000; includeSubDomains';

/** The pages' default policy; the authorization pages narrow it further (server/auth/pages/html.ts). */
export const PAGE_CSP =
  "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/** Answers that may carry patient data: no cache, shared or private, may keep them. */
export const NO_STORE = 'no-store';
/** The CapabilityStatement and discovery documents: public, and changed rarely. */
export const BRIEFLY_CACHEABLE = 'public, max-age=300';

export function setCommonHeaders(res: ServerResponse, tls: boolean): void {
  for (const [name, value] of COMMON) res.setHeader(name, value);
  if (tls) res.setHeader('Strict-Transport-Security', HSTS);
}

/**
 * The FHIR API: nothing is cached, except a successful CapabilityStatement (its error answers, e.g. a 406 for
 * an Accept it cannot meet, must not be cached under the same URL).
 */
export function setFhirCacheHeaders(res: ServerResponse, metadata: boolean): void {
  res.setHeader('Cache-Control', NO_STORE);
  if (!metadata) return;
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (args[0] === 200) this.setHeader('Cache-Control', BRIEFLY_CACHEABLE);
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

const WELL_KNOWN = /^(?:\/fhir)?\/\.well-known\//;

/**
 * The Express app's answers (authorization server, admin API, pages, apps): framing forbidden and a strict
 * CSP for whatever turns out to be HTML, and no caching but for the discovery documents.
 */
export function appSecurityHeaders(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', WELL_KNOWN.test(req.path) ? BRIEFLY_CACHEABLE : NO_STORE);
    next();
  };
}

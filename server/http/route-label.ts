// The route pattern of a request, for metrics labels: `/fhir/:type/:id`, never a type, id or query value a
// client sent, so the set of labels stays small and carries no data. The FHIR path is classified by scanning
// the URL in place (the hot path allocates nothing here); operations keep their name when it is one we serve.
import type { IncomingMessage } from 'node:http';
import { OPERATIONS } from '../operations';

const FHIR_PREFIX = '/fhir';
const SLASH = 47;
const DOLLAR = 36;
const UNDERSCORE = 95;
const MAX_SEGMENTS = 4;
export const UNMATCHED = 'unmatched';

/** `$code` -> label, per level: `/fhir/$export`, `/fhir/:type/$export`, `/fhir/:type/:id/$everything`. */
const OPERATION_LABELS = ['/fhir/$', '/fhir/:type/$', '/fhir/:type/:id/$'].map(
  (prefix) => new Map(OPERATIONS.map((o) => [`$${o.definition.code}`, `${prefix}${o.definition.code}`])),
);

/** The label of a path under /fhir (`url` is the request target, query included). */
export function fhirRouteLabel(url: string): string {
  let end = url.indexOf('?');
  if (end < 0) end = url.length;
  // Segment starts, kept in locals rather than an array; each segment ends at the next slash or at `end`.
  let s0 = -1;
  let s1 = -1;
  let s2 = -1;
  let s3 = -1;
  let count = 0;
  let i = FHIR_PREFIX.length;
  while (i < end) {
    while (i < end && url.charCodeAt(i) === SLASH) i++;
    if (i >= end) break;
    if (count === MAX_SEGMENTS) return UNMATCHED;
    if (count === 0) s0 = i;
    else if (count === 1) s1 = i;
    else if (count === 2) s2 = i;
    else s3 = i;
    count++;
    i = segmentEnd(url, i, end);
  }
  if (count === 0) return '/fhir';
  if (count === 1) return systemLabel(url, s0, segmentEnd(url, s0, end));
  if (reserved(url, s0, segmentEnd(url, s0, end))) return UNMATCHED;
  if (count === 2) return typeLabel(url, s1, segmentEnd(url, s1, end));
  if (reserved(url, s1, segmentEnd(url, s1, end))) return UNMATCHED;
  const e2 = segmentEnd(url, s2, end);
  if (count === 3) return instanceLabel(url, s2, e2);
  return isWord(url, s2, e2, '_history') && s3 > 0 ? '/fhir/:type/:id/_history/:vid' : UNMATCHED;
}

function systemLabel(url: string, start: number, end: number): string {
  if (isWord(url, start, end, 'metadata')) return '/fhir/metadata';
  if (isWord(url, start, end, '_history')) return '/fhir/_history';
  if (isWord(url, start, end, '_search')) return '/fhir/_search';
  if (url.charCodeAt(start) === DOLLAR) return operationLabel(url, start, end, 0);
  return reserved(url, start, end) ? UNMATCHED : '/fhir/:type';
}

function typeLabel(url: string, start: number, end: number): string {
  if (isWord(url, start, end, '_history')) return '/fhir/:type/_history';
  if (isWord(url, start, end, '_search')) return '/fhir/:type/_search';
  if (url.charCodeAt(start) === DOLLAR) return operationLabel(url, start, end, 1);
  return reserved(url, start, end) ? UNMATCHED : '/fhir/:type/:id';
}

function instanceLabel(url: string, start: number, end: number): string {
  if (isWord(url, start, end, '_history')) return '/fhir/:type/:id/_history';
  if (url.charCodeAt(start) === DOLLAR) return operationLabel(url, start, end, 2);
  return reserved(url, start, end) ? UNMATCHED : '/fhir/:type/:id/:compartment';
}

function operationLabel(url: string, start: number, end: number, level: number): string {
  return OPERATION_LABELS[level].get(url.slice(start, end)) ?? UNMATCHED;
}

function segmentEnd(url: string, start: number, end: number): number {
  const slash = url.indexOf('/', start);
  return slash < 0 || slash > end ? end : slash;
}

/** A segment that `:type` and `:id` never match (see the router): `_...`, `$...`, `metadata`. */
function reserved(url: string, start: number, end: number): boolean {
  const c = url.charCodeAt(start);
  return c === UNDERSCORE || c === DOLLAR || isWord(url, start, end, 'metadata');
}

function isWord(url: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && url.startsWith(word, start);
}

interface RoutedRequest {
  route?: { path?: unknown };
  baseUrl?: string;
}

/** The label of a request the Express app answered: the pattern of the route that matched it. */
export function expressRouteLabel(req: IncomingMessage): string {
  const { route, baseUrl = '' } = req as IncomingMessage & RoutedRequest;
  const path = route?.path;
  if (typeof path === 'string') return baseUrl + path;
  // A route on several literal paths (the discovery documents): its first path names it.
  if (Array.isArray(path) && typeof path[0] === 'string') return baseUrl + path[0];
  return UNMATCHED;
}

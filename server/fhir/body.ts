// Request bodies: the accepted media types, and a safe JSON parse that rejects what no FHIR resource holds
// (keys starting with `$` or containing `.`, `__proto__` and `constructor` keys, very deep nesting) before
// anything else sees the data.
import { badRequest, unsupportedMediaType } from '../../resources/errors';
import type { FhirRequest } from './context';

export const MAX_JSON_DEPTH = 64;

const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json-patch+json']);
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Fields of an application/x-www-form-urlencoded body (POST _search), in order, repeats kept. */
export class FormBody {
  constructor(readonly pairs: [string, string][]) {}
}

/** Media type without parameters, lower case. */
export function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0].trim().toLowerCase() || undefined;
}

export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  if (contentType === FORM_TYPE) return new FormBody([...new URLSearchParams(raw.toString('utf8'))]);
  if (contentType !== undefined && !JSON_TYPES.has(contentType) && !contentType.endsWith('+json')) {
    throw unsupportedMediaType(`Unsupported Content-Type ${contentType}: send application/fhir+json`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  checkJsonShape(value);
  return value;
}

/** Iterative walk (no recursion, so hostile nesting cannot overflow the stack). */
export function checkJsonShape(root: unknown): void {
  const stack: [unknown, number, string][] = [[root, 0, '']];
  while (stack.length > 0) {
    const [value, depth, path] = stack.pop() as [unknown, number, string];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) throw badRequest(`The body is nested deeper than ${MAX_JSON_DEPTH} levels`, path);
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, depth + 1, `${path}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(value)) {
      checkKey(key, path);
      stack.push([(value as Record<string, unknown>)[key], depth + 1, path ? `${path}.${key}` : key]);
    }
  }
}

function checkKey(key: string, path: string): void {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw badRequest(`Forbidden property name "${key}"`, path || undefined);
  }
  if (key.startsWith('$') || key.includes('.')) {
    throw badRequest(`Invalid property name "${key}": names may not start with "$" or contain "."`, path || undefined);
  }
}

export function requireResourceBody(request: FhirRequest): Record<string, unknown> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The request needs a FHIR resource as its body');
  }
  if (typeof (body as Record<string, unknown>).resourceType !== 'string') {
    throw badRequest('The body has no resourceType', 'resourceType');
  }
  return body as Record<string, unknown>;
}

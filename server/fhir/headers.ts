// Parsing of the conditional-request headers: ETags (If-Match, If-None-Match), If-None-Exist criteria, and
// Prefer. Malformed values are a 400 that names the header.
import { badRequest } from '../../resources/errors';
import { parseVersionId } from '../../resources/ids';
import type { SearchParamPairs } from '../../resources/search/parse';

/** `W/"3"` or `"3"` -> 3. */
export function parseETag(value: string | undefined, header: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^(?:W\/)?"([^"]*)"$/.exec(value.trim());
  const version = match ? parseVersionId(match[1]) : undefined;
  if (version === undefined) throw badRequest(`${header} must be an ETag such as W/"1"`, header);
  return version;
}

export function etag(versionId: number): string {
  return `W/"${versionId}"`;
}

/** A query string (with or without a leading `Type?`) as ordered name/value pairs. */
export function parseCriteria(text: string): SearchParamPairs {
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  return [...new URLSearchParams(query)];
}

export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
}

export function parsePrefer(value: string | undefined): Preferences {
  const preferences: Preferences = {};
  for (const part of (value ?? '').split(/[,;]/)) {
    const [key, raw] = part.split('=').map((s) => s.trim());
    const token = raw?.replace(/^"|"$/g, '');
    if (key === 'return' && (token === 'minimal' || token === 'representation' || token === 'OperationOutcome')) {
      preferences.return = token;
    }
    if (key === 'handling' && (token === 'strict' || token === 'lenient')) preferences.handling = token;
  }
  return preferences;
}

// Builds Bundle JSON around stored resources by concatenation, so a search or history page embeds each
// resource's stored JSON without parsing and re-serializing it.
import type { Bundle, BundleLink } from '@medplum/fhirtypes';

export interface RawEntry {
  fullUrl?: string;
  /** Stored resource JSON, embedded as is. */
  resourceJson?: string;
  /** Everything else of the entry (search, request, response). */
  rest?: Record<string, unknown>;
}

export function bundleJson(header: Omit<Bundle, 'entry'>, entries: RawEntry[]): string {
  const head = JSON.stringify(header);
  if (entries.length === 0) return head;
  const body = entries.map(entryJson).join(',');
  return `${head.slice(0, -1)},"entry":[${body}]}`;
}

function entryJson(entry: RawEntry): string {
  const parts: string[] = [];
  if (entry.fullUrl !== undefined) parts.push(`"fullUrl":${JSON.stringify(entry.fullUrl)}`);
  if (entry.resourceJson !== undefined) parts.push(`"resource":${entry.resourceJson}`);
  for (const [key, value] of Object.entries(entry.rest ?? {}))
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{${parts.join(',')}}`;
}

export function link(relation: string, url: string): BundleLink {
  return { relation, url };
}

/** `base/path?pairs`, with the pairs encoded as a query string. */
export function urlWithQuery(base: string, path: string, pairs: [string, string][]): string {
  const query = new URLSearchParams(pairs).toString();
  return `${base}/${path}${query ? `?${query}` : ''}`;
}

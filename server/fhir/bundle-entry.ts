// One entry of a batch or transaction Bundle, parsed into what the router needs (method, path segments,
// query, body) and turned into a FhirRequest that runs through the same handlers as a plain HTTP call.
import type { BundleEntry, BundleEntryRequest, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { Repository } from '../../resources/repository';
import type { FhirMethod, FhirRequest } from './context';

const METHODS = new Set<FhirMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export interface ParsedEntry {
  index: number;
  method: FhirMethod;
  /** Path segments below the base, and the query. */
  segments: string[];
  query: [string, string][];
  fullUrl?: string;
  resource?: Resource;
  /** The body the handler gets: the resource, or the decoded JSON Patch of a PATCH entry. */
  body?: unknown;
  /** Id fixed up front for a transaction's create, so references to it resolve before it is written. */
  assignedId?: string;
  entry: BundleEntry;
}

export function entryLocation(entry: ParsedEntry): string {
  return `Bundle.entry[${entry.index}]`;
}

export function parseEntry(entry: BundleEntry, index: number, baseUrl: string): ParsedEntry {
  const where = `Bundle.entry[${index}]`;
  const method = entry?.request?.method as FhirMethod | undefined;
  if (!method || !METHODS.has(method)) {
    throw badRequest(`${where}.request.method is missing or invalid`, `${where}.request.method`);
  }
  const url = entry.request?.url;
  if (typeof url !== 'string' || url === '')
    throw badRequest(`${where}.request.url is missing`, `${where}.request.url`);
  const relative = url.startsWith(`${baseUrl}/`) ? url.slice(baseUrl.length + 1) : url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(relative)) {
    throw badRequest(`${where}.request.url must be relative to this server`, `${where}.request.url`);
  }
  const [path, query = ''] = relative.split(/\?(.*)/s, 2);
  return {
    index,
    method,
    segments: path.split('/').filter((s) => s !== ''),
    query: [...new URLSearchParams(query)],
    fullUrl: entry.fullUrl,
    resource: entry.resource,
    body: entry.resource ? entryBody(entry.resource, method, where) : undefined,
    entry,
  };
}

/** A PATCH entry carries a FHIRPath Patch as a Parameters resource, or its JSON Patch as a Binary resource. */
function entryBody(resource: Resource, method: FhirMethod, where: string): unknown {
  if (method !== 'PATCH' || resource.resourceType === 'Parameters') return resource;
  if (resource.resourceType !== 'Binary' || resource.contentType !== 'application/json-patch+json' || !resource.data) {
    throw badRequest(
      `${where}: a PATCH entry needs a Parameters resource (FHIRPath Patch) or a Binary with contentType application/json-patch+json`,
      `${where}.resource`,
    );
  }
  try {
    return JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
  } catch {
    throw badRequest(`${where}: the Binary data is not a JSON Patch document`, `${where}.resource`);
  }
}

export function entryRequest(
  outer: FhirRequest,
  repo: Repository,
  entry: ParsedEntry,
  body: unknown,
): Omit<FhirRequest, 'params'> {
  const r: Partial<BundleEntryRequest> = entry.entry.request ?? {};
  return {
    method: entry.method,
    query: entry.query,
    headers: {
      ifMatch: r.ifMatch,
      ifNoneMatch: r.ifNoneMatch,
      ifModifiedSince: r.ifModifiedSince,
      ifNoneExist: r.ifNoneExist,
      prefer: outer.headers.prefer,
      contentType: entry.method === 'PATCH' ? patchContentType(entry) : undefined,
    },
    body,
    repo,
    baseUrl: outer.baseUrl,
    assignedId: entry.assignedId,
    reportError: outer.reportError,
  };
}

function patchContentType(entry: ParsedEntry): string {
  return entry.resource?.resourceType === 'Parameters' ? 'application/fhir+json' : 'application/json-patch+json';
}

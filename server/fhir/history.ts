// history: GET [base]/_history, [base]/[type]/_history, [base]/[type]/[id]/_history, newest first, with
// _since, _at, _count and cursor paging links.
import type { BundleLink } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import { DEFAULT_COUNT, MAX_COUNT } from '../../resources/search/parse';
import { dateRange } from '../../resources/search/types/date';
import type { HistoryQuery, StoredVersion } from '../../resources/store/port';
import { bundleJson, link, urlWithQuery, type RawEntry } from './bundle';
import type { FhirRequest, FhirResponse } from './context';
import { etag } from './headers';

const HISTORY_PARAMETERS = new Set(['_count', '_since', '_at', '_cursor', '_format', '_pretty']);

export async function historyInteraction(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  const options = historyOptions(request.query);
  const page = await request.repo.history({ resourceType: type, id, ...options });
  const path = [type, id, '_history'].filter(Boolean).join('/');
  const kept = request.query.filter(([name]) => name !== '_cursor' && name !== '_format' && name !== '_pretty');
  const links: BundleLink[] = [
    link(
      'self',
      urlWithQuery(
        request.baseUrl,
        path,
        request.query.filter(([n]) => n !== '_format'),
      ),
    ),
  ];
  if (page.next) links.push(link('next', urlWithQuery(request.baseUrl, path, [...kept, ['_cursor', page.next]])));
  if (page.previous)
    links.push(link('previous', urlWithQuery(request.baseUrl, path, [...kept, ['_cursor', page.previous]])));
  const json = bundleJson(
    {
      resourceType: 'Bundle',
      type: 'history',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link: links,
    },
    page.entries.map((version) => historyEntry(request.baseUrl, version)),
  );
  return { status: 200, body: { json } };
}

type HistoryOptions = Omit<HistoryQuery, 'resourceType' | 'id'>;

function historyOptions(query: [string, string][]): HistoryOptions {
  const options: HistoryOptions = { count: DEFAULT_COUNT };
  const seen = new Set<string>();
  for (const [name, value] of query) {
    if (!HISTORY_PARAMETERS.has(name)) throw badRequest(`Unknown history parameter ${name}`, name);
    if (seen.has(name) && name !== '_format') throw badRequest(`${name} may appear only once`, name);
    seen.add(name);
    if (name === '_count') {
      if (!/^\d{1,9}$/.test(value)) throw badRequest('_count must be a non-negative integer', '_count');
      options.count = Math.min(Number(value), MAX_COUNT);
    }
    if (name === '_since') options.since = instant(value, name).low;
    if (name === '_at') options.at = instant(value, name);
    if (name === '_cursor') options.cursor = value;
  }
  return options;
}

function instant(value: string, name: string): { low: number; high: number } {
  const range = dateRange(value);
  if (!range) throw badRequest(`${name} must be a FHIR instant or date, got "${value}"`, name);
  return range;
}

const STATUS_OF = { POST: '201 Created', PUT: '200 OK', PATCH: '200 OK', DELETE: '204 No Content' };

function historyEntry(baseUrl: string, version: StoredVersion): RawEntry {
  const relative = `${version.resourceType}/${version.id}`;
  const created = version.method === 'POST' || (version.versionId === 1 && version.method === 'PUT');
  return {
    fullUrl: `${baseUrl}/${relative}`,
    resourceJson: version.json,
    rest: {
      request: { method: version.method, url: version.method === 'POST' ? version.resourceType : relative },
      response: {
        status: created ? '201 Created' : STATUS_OF[version.method],
        etag: etag(version.versionId),
        lastModified: new Date(version.lastUpdated).toISOString(),
      },
    },
  };
}

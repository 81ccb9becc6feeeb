// search: GET [base]/[type]?params, POST [base]/[type]/_search (form body), and system search
// GET [base]?_type=... . Unknown parameters are reported in an OperationOutcome entry (lenient) or rejected
// with 400 under `Prefer: handling=strict`.
import type { BundleLink, OperationOutcome } from '@medplum/fhirtypes';
import { badRequest, unsupportedMediaType } from '../../resources/errors';
import { FormBody } from './body';
import { isResourceType, resourceTypes } from '../../resources/definitions';
import type { ParsedSearch, SearchParamPairs } from '../../resources/search/parse';
import { bundleJson, link, urlWithQuery, type RawEntry } from './bundle';
import type { FhirRequest, FhirResponse } from './context';
import { parsePrefer } from './headers';

export async function typeSearchInteraction(request: FhirRequest): Promise<FhirResponse> {
  const params = [...request.query, ...formPairs(request.body)];
  return runSearch(request, [request.params.type], params, `${request.params.type}`);
}

export async function systemSearchInteraction(request: FhirRequest): Promise<FhirResponse> {
  const params = [...request.query, ...formPairs(request.body)];
  const typeParam = params.filter(([name]) => name === '_type');
  const types = typeParam.length > 0 ? typeParam.flatMap(([, v]) => v.split(',')) : [...resourceTypes()];
  for (const type of types)
    if (!isResourceType(type)) throw badRequest(`_type: unknown resource type "${type}"`, '_type');
  const rest = params.filter(([name]) => name !== '_type');
  return runSearch(request, types, rest, '', typeParam);
}

async function runSearch(
  request: FhirRequest,
  types: string[],
  params: SearchParamPairs,
  path: string,
  fixed: SearchParamPairs = [],
): Promise<FhirResponse> {
  const strict = parsePrefer(request.headers.prefer).handling === 'strict';
  const { parsed, page } = await request.repo.search(types, params, { strict });
  const links: BundleLink[] = [link('self', urlWithQuery(request.baseUrl, path, [...fixed, ...parsed.applied]))];
  const base = [...fixed, ...parsed.applied];
  if (page.next) links.push(link('next', urlWithQuery(request.baseUrl, path, [...base, ['_cursor', page.next]])));
  if (page.previous)
    links.push(link('previous', urlWithQuery(request.baseUrl, path, [...base, ['_cursor', page.previous]])));
  const entries: RawEntry[] = page.entries.map((stored) => ({
    fullUrl: `${request.baseUrl}/${stored.resourceType}/${stored.id}`,
    resourceJson: stored.json,
    rest: { search: { mode: 'match' } },
  }));
  const outcome = searchOutcome(parsed);
  if (outcome) entries.push({ resourceJson: JSON.stringify(outcome), rest: { search: { mode: 'outcome' } } });
  const json = bundleJson(
    {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link: links,
    },
    entries,
  );
  return { status: 200, body: { json } };
}

/** Unknown parameters and notes, told to the client instead of silently ignored. */
function searchOutcome(parsed: ParsedSearch): OperationOutcome | undefined {
  const issues = [
    ...parsed.unknown.map((u) => ({
      severity: 'warning' as const,
      code: 'not-supported' as const,
      diagnostics: `Search parameter ${u.name} was ignored: ${u.reason}`,
      expression: [u.name],
    })),
    ...parsed.notes.map((note) => ({
      severity: 'information' as const,
      code: 'informational' as const,
      diagnostics: note,
    })),
  ];
  return issues.length > 0 ? { resourceType: 'OperationOutcome', issue: issues } : undefined;
}

function formPairs(body: unknown): SearchParamPairs {
  if (body === undefined) return [];
  if (body instanceof FormBody) return body.pairs;
  throw unsupportedMediaType('POST _search takes application/x-www-form-urlencoded parameters');
}

// search: GET [base]/[type]?params, POST [base]/[type]/_search (form body), and system search
// GET [base]?_type=... . Unknown parameters are reported in an OperationOutcome entry (lenient) or rejected
// with 400 under `Prefer: handling=strict`. Also compartment search GET [base]/Patient/[id]/[type], and the
// result shaping: _include, _revinclude, _summary, _elements.
import type { BundleLink, OperationOutcome } from '@medplum/fhirtypes';
import { isResourceType, resourceTypes } from '../../resources/definitions';
import { badRequest, notFound, tooCostly, unsupportedMediaType } from '../../resources/errors';
import { SELF, compartmentParams, isCompartmentType } from '../../resources/search/compartments';
import { MAX_INCLUDED, resolveIncludes } from '../../resources/search/include';
import { MAX_OR_VALUES, type ParsedSearch, type SearchParamPairs } from '../../resources/search/parse';
import { shapeResourceJson } from '../../resources/search/summary';
import type { StoredVersion } from '../../resources/store/port';
import { FormBody } from './body';
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
  hidden: SearchParamPairs = [],
): Promise<FhirResponse> {
  const strict = parsePrefer(request.headers.prefer).handling === 'strict';
  // _summary=count asks for the total only: no page of matches is read, and the total is counted.
  const countOnly = params.some(([name, value]) => name === '_summary' && value === 'count');
  const countPairs: SearchParamPairs = [
    ['_count', '0'],
    ['_total', 'accurate'],
  ];
  const extra: SearchParamPairs = [...hidden, ...(countOnly ? countPairs : [])];
  const { parsed, page } = await request.repo.search(types, [...params, ...extra], { strict });
  // Pairs the server added are not the client's: the links leave them out.
  const added = (pair: [string, string]) => extra.some(([name, value]) => name === pair[0] && value === pair[1]);
  const base = [...fixed, ...parsed.applied.filter((pair) => !added(pair))];
  const links: BundleLink[] = [link('self', urlWithQuery(request.baseUrl, path, base))];
  if (page.next) links.push(link('next', urlWithQuery(request.baseUrl, path, [...base, ['_cursor', page.next]])));
  if (page.previous)
    links.push(link('previous', urlWithQuery(request.baseUrl, path, [...base, ['_cursor', page.previous]])));
  const { raw, truncated } = countOnly
    ? { raw: [], truncated: false }
    : await resultEntries(request, parsed, page.entries);
  const outcome = searchOutcome(parsed, truncated);
  if (outcome) raw.push({ resourceJson: JSON.stringify(outcome), rest: { search: { mode: 'outcome' } } });
  const json = bundleJson(
    {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link: links,
    },
    raw,
  );
  return { status: 200, body: { json } };
}

/** The matches, then what _include and _revinclude add, each shaped by _summary and _elements. */
async function resultEntries(
  request: FhirRequest,
  parsed: ParsedSearch,
  matches: StoredVersion[],
): Promise<{ raw: RawEntry[]; truncated: boolean }> {
  const { included, truncated } = await resolveIncludes(request.repo, matches, parsed.shaping);
  const entry = (stored: StoredVersion, mode: 'match' | 'include'): RawEntry => ({
    fullUrl: `${request.baseUrl}/${stored.resourceType}/${stored.id}`,
    resourceJson: shapeResourceJson(stored.json as string, parsed.shaping),
    rest: { search: { mode } },
  });
  const raw = [...matches.map((m) => entry(m, 'match')), ...included.map((i) => entry(i, 'include'))];
  return { raw, truncated };
}

/** GET [base]/[Compartment]/[id]/[type]: the type search restricted to the resources in that compartment. */
export async function compartmentSearchInteraction(request: FhirRequest): Promise<FhirResponse> {
  const { type: compartment, id, compartmentType: type } = request.params;
  if (!isCompartmentType(compartment)) throw notFound(`${compartment} does not define a compartment`);
  if (!isResourceType(type)) throw notFound(`Unknown resource type "${type}"`);
  const members = compartmentParams(request.repo.registry, compartment, type);
  if (members.length === 0) throw badRequest(`${type} resources are not in the ${compartment} compartment`);
  const params = [...request.query, ...formPairs(request.body)];
  const criteria = await compartmentCriteria(request, { compartment, id, type, members }, params);
  return runSearch(request, [type], params, `${compartment}/${id}/${type}`, [], [criteria]);
}

interface CompartmentScope {
  compartment: string;
  id: string;
  type: string;
  members: string[];
}

/** Parameters that page or shape the result: left out when only finding which resources are in the compartment. */
const NON_FILTERS = new Set([
  '_count',
  '_sort',
  '_total',
  '_cursor',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
]);

/**
 * One search condition selecting the compartment's resources. Membership is an OR across several parameters,
 * which one search cannot say: when more than one parameter has matches, their union (at most MAX_OR_VALUES
 * resources) becomes an `_id` condition.
 */
async function compartmentCriteria(
  request: FhirRequest,
  scope: CompartmentScope,
  params: SearchParamPairs,
): Promise<[string, string]> {
  const criteria = scope.members.map((param): [string, string] =>
    param === SELF ? ['_id', scope.id] : [param, `${scope.compartment}/${scope.id}`],
  );
  if (criteria.length === 1) return criteria[0];
  const filters = params.filter(([name]) => !NON_FILTERS.has(name.split(':')[0]));
  const found: { criterion: [string, string]; ids: string[]; more: boolean }[] = [];
  for (const criterion of criteria) {
    const limit: SearchParamPairs = [
      ['_count', String(MAX_OR_VALUES + 1)],
      ['_total', 'none'],
    ];
    const { page } = await request.repo.search([scope.type], [...filters, criterion, ...limit], { internal: true });
    if (page.entries.length > 0) found.push({ criterion, ids: page.entries.map((e) => e.id), more: !!page.next });
  }
  if (found.length === 0) return criteria[0];
  if (found.length === 1) return found[0].criterion;
  const ids = new Set(found.flatMap((f) => f.ids));
  if (ids.size > MAX_OR_VALUES || found.some((f) => f.more)) {
    throw tooCostly(
      `More than ${MAX_OR_VALUES} ${scope.type} resources are in this compartment through several parameters ` +
        `(${scope.members.join(', ')}); search ${scope.type} by one of them instead`,
    );
  }
  return ['_id', [...ids].join(',')];
}

/** Unknown parameters and notes, told to the client instead of silently ignored. */
function searchOutcome(parsed: ParsedSearch, truncated: boolean): OperationOutcome | undefined {
  const issues = [
    ...(truncated
      ? [
          {
            severity: 'warning' as const,
            code: 'too-costly' as const,
            diagnostics: `Only the first ${MAX_INCLUDED} included resources are returned`,
          },
        ]
      : []),
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

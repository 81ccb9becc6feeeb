// $expand over a composed value set, in the one order every path follows: compose (include minus exclude) ->
// text filter -> activeOnly (and excludeNotForUI) -> total -> page (offset, count); the filter and the flags
// are tests of each item, so they are applied in one pass that counts every match and keeps the page's. Expansions are flat; a
// default count keeps a typeahead from receiving a whole terminology.
import { randomUUID } from 'node:crypto';
import type { ValueSet, ValueSetExpansionContains, ValueSetExpansionParameter } from '@medplum/fhirtypes';
import { badRequest, tooCostly } from '../errors';
import { composeValueSet, type ExpansionItem } from './compose';
import type { TerminologySources } from './sources';
import { inOrder, typeahead } from './typeahead';

export const DEFAULT_EXPAND_COUNT = 100;
export const MAX_EXPAND_COUNT = 1000;

export interface ExpandRequest {
  filter?: string;
  offset?: number;
  count?: number;
  activeOnly?: boolean;
  includeDesignations?: boolean;
  excludeNotForUI?: boolean;
  /** The parameters as the client sent them, echoed in expansion.parameter. */
  parameters: ValueSetExpansionParameter[];
}

export async function expandValueSet(
  sources: TerminologySources,
  resolved: { key?: string; valueSet: ValueSet },
  request: ExpandRequest,
): Promise<ValueSet> {
  const { offset, count } = checkPaging(request);
  const composition = await composeValueSet(sources, resolved);
  const shaping = { activeOnly: request.activeOnly, excludeNotForUI: request.excludeNotForUI };
  const { total, page } = request.filter
    ? typeahead(composition, request.filter, shaping, offset, count)
    : inOrder(composition.items, shaping, offset, count);
  const { valueSet } = resolved;
  return {
    resourceType: 'ValueSet',
    ...(valueSet.id ? { id: valueSet.id } : {}),
    url: valueSet.url,
    version: valueSet.version,
    name: valueSet.name,
    title: valueSet.title,
    status: valueSet.status ?? 'active',
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      total,
      offset,
      ...(request.parameters.length > 0 ? { parameter: request.parameters } : {}),
      ...(page.length > 0 ? { contains: page.map((item) => contained(item, request.includeDesignations)) } : {}),
    },
  };
}

function checkPaging(request: ExpandRequest): { offset: number; count: number } {
  const offset = request.offset ?? 0;
  const count = request.count ?? DEFAULT_EXPAND_COUNT;
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('offset must be an integer of 0 or more', 'offset');
  if (!Number.isInteger(count) || count < 0) throw badRequest('count must be an integer of 0 or more', 'count');
  if (count > MAX_EXPAND_COUNT) {
    throw tooCostly(`count may be at most ${MAX_EXPAND_COUNT}; page with offset, or narrow with filter`, 'count');
  }
  return { offset, count };
}

function contained(item: ExpansionItem, includeDesignations = false): ValueSetExpansionContains {
  const { concept } = item;
  const display = item.display ?? concept.display;
  return {
    system: item.system,
    ...(item.version ? { version: item.version } : {}),
    code: concept.code,
    ...(display !== undefined ? { display } : {}),
    ...(concept.abstract ? { abstract: true } : {}),
    ...(concept.inactive ? { inactive: true } : {}),
    ...(includeDesignations && concept.designation ? { designation: concept.designation } : {}),
  };
}

// The input of an $everything, checked: care dates (`start`, `end`), `_since`, `_type`, `_count`, `_cursor` and
// the result shaping `_summary`/`_elements`. Anything malformed or unknown is a 400 naming the parameter.
import { badRequest } from '../errors';
import { isResourceType } from '../definitions';
import { MAX_COUNT } from '../search/parse';
import type { SearchParameterRegistry } from '../search/registry';
import { applyShapingParameter, emptyShaping, type ResultShaping } from '../search/result-params';
import { dateRange } from '../search/types/date';
import { nameableTypes, SUPPORTING_TYPES, walkSegments, type AnchorType } from './plan';

export const DEFAULT_EVERYTHING_COUNT = 100;

export interface EverythingParams {
  /** Care dates, as the client wrote them (validated FHIR dates). */
  start?: string;
  end?: string;
  /** meta.lastUpdated lower bound, as written. */
  since?: string;
  /** `_type`: the only types returned; undefined for all. */
  types?: ReadonlySet<string>;
  /** Matches per page. */
  count: number;
  cursor?: string;
  shaping: ResultShaping;
  /** The client's parameters except `_cursor`, in order: every paging link carries them. */
  pairs: [string, string][];
}

/** Parameters the HTTP layer reads (rendering): allowed, passed on in links, otherwise ignored here. */
const RENDERING = new Set(['_format', '_pretty']);
const KNOWN = new Set(['start', 'end', '_since', '_type', '_count', '_cursor', '_summary', '_elements', ...RENDERING]);
const CARE_DATES = new Set(['start', 'end']);

export function parseEverythingParams(
  registry: SearchParameterRegistry,
  anchor: AnchorType,
  pairs: [string, string][],
): EverythingParams {
  const params: EverythingParams = { count: DEFAULT_EVERYTHING_COUNT, shaping: emptyShaping(), pairs: [] };
  for (const [name, value] of pairs) {
    if (!KNOWN.has(name)) throw badRequest(`$everything has no parameter "${name}"`, name);
    if (anchor === 'Encounter' && CARE_DATES.has(name)) {
      throw badRequest(`Encounter/$everything takes no ${name}: the encounter's own period bounds it`, name);
    }
    if (name === '_cursor') params.cursor = single(params.cursor, value, name);
    else params.pairs.push([name, value]);
    applyParameter(registry, anchor, params, name, value);
  }
  checkDateOrder(params);
  if (params.types) checkTypes(registry, anchor, params.types);
  return params;
}

/** The pairs that select what is returned (not how it is rendered): what a paging cursor is bound to. */
export function selectingPairs(params: EverythingParams): [string, string][] {
  return params.pairs.filter(([name]) => !RENDERING.has(name));
}

function applyParameter(
  registry: SearchParameterRegistry,
  anchor: AnchorType,
  params: EverythingParams,
  name: string,
  value: string,
): void {
  if (name === 'start' || name === 'end') params[name] = single(params[name], checkedDate(value, name), name);
  else if (name === '_since') params.since = single(params.since, checkedDate(value, name), name);
  else if (name === '_type') params.types = new Set([...(params.types ?? []), ...typeList(registry, anchor, value)]);
  else if (name === '_count') params.count = checkedCount(value);
  else if (name === '_summary' || name === '_elements') applyShaping(registry, params.shaping, name, value);
}

function single(previous: string | undefined, value: string, name: string): string {
  if (previous !== undefined) throw badRequest(`${name} may be given only once`, name);
  return value;
}

function checkedDate(value: string, name: string): string {
  if (!dateRange(value)) {
    throw badRequest(`${name} must be a FHIR date or dateTime (e.g. 2024-01-31 or 2024-01-31T10:00:00Z)`, name);
  }
  return value;
}

function checkDateOrder(params: EverythingParams): void {
  if (params.start === undefined || params.end === undefined) return;
  const start = dateRange(params.start) as { low: number };
  const end = dateRange(params.end) as { high: number };
  if (start.low > end.high) throw badRequest(`start (${params.start}) is after end (${params.end})`, 'start');
}

function typeList(registry: SearchParameterRegistry, anchor: AnchorType, value: string): string[] {
  const allowed = nameableTypes(registry, anchor);
  return value.split(',').map((raw) => {
    const type = raw.trim();
    if (!isResourceType(type)) throw badRequest(`_type: unknown resource type "${type}"`, '_type');
    if (!allowed.has(type)) {
      throw badRequest(
        `_type: ${type} is neither in the ${anchor} compartment nor a supporting type (${SUPPORTING_TYPES[anchor].join(', ')})`,
        '_type',
      );
    }
    return type;
  });
}

/** Supporting resources are those the walked resources refer to: a `_type` of supporting types only finds none. */
function checkTypes(registry: SearchParameterRegistry, anchor: AnchorType, types: ReadonlySet<string>): void {
  if (walkSegments(registry, anchor, { types }).length === 0) {
    throw badRequest(
      `_type names supporting types only; they are returned as referenced by the ${anchor} compartment ` +
        'resources, so add at least one compartment type',
      '_type',
    );
  }
}

function checkedCount(value: string): number {
  const count = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(count >= 1 && count <= MAX_COUNT)) {
    throw badRequest(`_count must be an integer from 1 to ${MAX_COUNT}`, '_count');
  }
  return count;
}

function applyShaping(registry: SearchParameterRegistry, shaping: ResultShaping, name: string, value: string): void {
  if (value === '') throw badRequest(`${name} has an empty value`, name);
  if (name === '_summary' && value === 'count') {
    throw badRequest('_summary=count is not supported by $everything', name);
  }
  applyShapingParameter(registry, shaping, name, value);
}

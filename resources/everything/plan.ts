// What an $everything walks: the compartment of its anchor (a Patient or an Encounter) as segments, each one
// search (the anchor itself first), and the supporting types the walked resources may pull in by one reference
// hop. Types the caller may search without restriction share one search per compartment parameter (the Patient
// compartment has 101 type-parameter pairs but some 20 parameters); restricted types are searched one by one.
import type { AccessContext } from '../access';
import { requirePermission, restrictionFor } from '../access-policy';
import { SELF, compartmentMembers, compartmentParams } from '../search/compartments';
import type { SearchParameterRegistry } from '../search/registry';
import { CARE_DATE_PARAMS } from './care-dates';

export type AnchorType = 'Patient' | 'Encounter';

export interface Segment {
  types: string[];
  /** The compartment parameter searched, or SELF for the anchor resource itself. */
  param: string;
  /** The care-date parameter of every type here (set when the walk filters by care dates and they have one). */
  careDate?: string;
  /** Per type, its parameters walked before this one: a resource they also match was returned there. */
  earlier: Record<string, string[]>;
}

/**
 * Shared resources one reference hop away that are returned with the record. The Encounter's own Patient is
 * one of them for Encounter/$everything; other patients never are (see supporting.ts).
 */
const DIRECTORY_TYPES = ['Medication', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Device'];
export const SUPPORTING_TYPES: Readonly<Record<AnchorType, readonly string[]>> = {
  Patient: DIRECTORY_TYPES,
  Encounter: ['Patient', ...DIRECTORY_TYPES],
};

/**
 * Compartment members that are not walked. AuditEvent is the record of access to the chart, not part of it
 * (and reading it needs its own grant).
 */
const NOT_WALKED = new Set(['AuditEvent']);

/**
 * Types one search covers. Measured on SQLite (a 200-record seed, one record walked): 101 single-type searches
 * took 56 ms, groups of 4 or 8 types 38-39 ms, one search per parameter (up to 34 types) 54 ms and more, the
 * store's plan for a long list of types being slower than the round trips it saves.
 */
const MAX_TYPES_PER_SEARCH = 8;

export interface PlanOptions {
  /** `_type`: only these types. */
  types?: ReadonlySet<string>;
  /** The caller: types it may not search are left out, restricted ones get searches of their own. */
  access?: AccessContext;
  /** `start`/`end` given: types are grouped by care date too, which becomes a condition of the search. */
  byCareDate?: boolean;
}

/** The walked types with their compartment parameters, in walk order (the anchor first). */
export function walkedTypes(registry: SearchParameterRegistry, anchor: AnchorType, types?: ReadonlySet<string>) {
  const members = compartmentMembers(registry, anchor)
    .filter((type) => type !== anchor && !NOT_WALKED.has(type))
    .sort();
  return [anchor, ...members]
    .filter((type) => !types || types.has(type))
    .map((type) => ({ type, params: walkedParams(registry, anchor, type) }));
}

/**
 * The anchor type is walked by SELF only: a Patient that names this one in Patient.link is another record
 * (merged, or "see also"), which the client can follow itself; it is never pulled into this one.
 */
function walkedParams(registry: SearchParameterRegistry, anchor: AnchorType, type: string): string[] {
  if (type === anchor) return [SELF];
  return compartmentParams(registry, anchor, type).filter((param) => param !== SELF);
}

/** The walk's segments for this caller and these parameters. */
export function walkSegments(
  registry: SearchParameterRegistry,
  anchor: AnchorType,
  options: PlanOptions = {},
): Segment[] {
  const candidates = walkedTypes(registry, anchor, options.types);
  const modes = new Map(candidates.map((w) => [w.type, searchMode(registry, options.access, w.type)]));
  const walked = candidates.filter(({ type }) => modes.get(type) !== 'none');
  const order = [...new Set(walked.flatMap(({ params }) => params))];
  const earlierOf = (type: string, param: string) =>
    (walked.find((w) => w.type === type)?.params ?? []).filter((p) => order.indexOf(p) < order.indexOf(param));
  const segments: Segment[] = [];
  const open = new Map<string, Segment>();
  for (const param of order) {
    for (const { type } of walked.filter((w) => w.params.includes(param))) {
      const careDate = options.byCareDate ? CARE_DATE_PARAMS[type] : undefined;
      const key = modes.get(type) === 'alone' ? `${param} ${type}` : `${param} ${careDate ?? ''}`;
      let segment = open.get(key);
      if (!segment || segment.types.length >= MAX_TYPES_PER_SEARCH) {
        segment = { types: [], param, ...(careDate ? { careDate } : {}), earlier: {} };
        segments.push(segment);
        open.set(key, segment);
      }
      segment.types.push(type);
      segment.earlier[type] = earlierOf(type, param);
    }
  }
  return segments;
}

/**
 * How a type is searched for this caller: not at all (no search grant), alone (narrowed by patient-level or
 * granular grants, which AccessGuard only applies to single-type searches), or shared with other types.
 */
function searchMode(
  registry: SearchParameterRegistry,
  access: AccessContext | undefined,
  type: string,
): 'none' | 'alone' | 'shared' {
  if (!access) return 'shared';
  try {
    requirePermission(access, type, 's');
    return restrictionFor(access, registry, type, 's') === undefined ? 'shared' : 'alone';
  } catch {
    return 'none';
  }
}

/** Types `_type` may name: the walked compartment types and the supporting types. */
export function nameableTypes(registry: SearchParameterRegistry, anchor: AnchorType): Set<string> {
  return new Set([...walkedTypes(registry, anchor).map((w) => w.type), ...SUPPORTING_TYPES[anchor]]);
}

// The one policy function behind every read, search, include, write and operation: which of the caller's
// grants allow an interaction on a type, the conditions a search gets so that only permitted resources match
// (the patient compartment, granular `?category=` restrictions), and the check every returned or written
// resource passes again.
import type { Resource } from '@medplum/fhirtypes';
import { isUnrestricted, type AccessContext, type Permission, type ResourceGrant } from './access';
import { forbidden } from './errors';
import { SELF, compartmentParams } from './search/compartments';
import { extractParameterEntries } from './search/extract';
import type { IndexEntry } from './search/index-entry';
import { parseSearchParams } from './search/parse';
import type { Condition, SearchQuery } from './search/query';
import type { SearchParameterRegistry } from './search/registry';

/** The stand-in parameter whose entries are those of every parameter putting a type in a patient's compartment. */
export const PATIENT_COMPARTMENT_PARAM = '_in-patient-compartment';

/** Types never served through a grant on `*`: reading them needs a grant naming them. */
const NAMED_GRANT_ONLY = new Set(['AuditEvent']);

/**
 * Types outside the Patient compartment that a patient-context grant may still read: shared directory and
 * reference data a chart points at, and the schedules and slots a patient books from (they name no patient).
 * Every other type outside the compartment is refused to patient grants.
 */
const SHARED_TYPES = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'HealthcareService',
  'Schedule',
  'Slot',
  'Endpoint',
  'Medication',
  'Substance',
  'Questionnaire',
  'ValueSet',
  'CodeSystem',
  'StructureDefinition',
  'SearchParameter',
  'OperationDefinition',
  'CapabilityStatement',
]);

const PERMISSION_NAMES: Record<Permission, string> = {
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
};

/** The grants allowing `permission` on `type`; empty when none does. */
export function allowingGrants(access: AccessContext, type: string, permission: Permission): ResourceGrant[] {
  return (access.grants ?? []).filter(
    (g) =>
      g.permissions.has(permission) &&
      (g.resourceType === type || (g.resourceType === '*' && !NAMED_GRANT_ONLY.has(type))),
  );
}

/** Throws 403 unless some grant allows `permission` on `type`; returns the allowing grants. */
export function requirePermission(access: AccessContext, type: string, permission: Permission): ResourceGrant[] {
  if (isUnrestricted(access)) return [];
  const grants = allowingGrants(access, type, permission);
  if (grants.length === 0)
    throw forbidden(`The access token does not grant ${PERMISSION_NAMES[permission]} on ${type}`);
  if (grants.every((g) => g.level === 'patient') && access.patient === undefined && !SHARED_TYPES.has(type)) {
    throw forbidden('Patient-level scopes were granted without a patient context');
  }
  return grants;
}

/** What limits the resources of one type a context may touch: the patient compartment and granular queries. */
export interface Restriction {
  /** The patient whose compartment the resources must be in. */
  patient?: string;
  /** Conditions every resource must also match (from granular scopes). */
  conditions: Condition[];
}

/** The restriction for `permission` on `type`; undefined when the context may touch every resource of it. */
export function restrictionFor(
  access: AccessContext,
  registry: SearchParameterRegistry,
  type: string,
  permission: Permission,
): Restriction | undefined {
  const grants = requirePermission(access, type, permission);
  if (isUnrestricted(access)) return undefined;
  if (grants.some((g) => g.level !== 'patient' && !g.query)) return undefined;
  const restriction: Restriction = { conditions: [] };
  if (grants.some((g) => g.level === 'patient') && !SHARED_TYPES.has(type)) {
    if (compartmentParams(registry, 'Patient', type).length === 0) {
      throw forbidden(`${type} is not in the patient compartment and is not granted with patient-level scopes`);
    }
    restriction.patient = access.patient;
  }
  if (grants.every((g) => g.query)) restriction.conditions = grantConditions(registry, type, grants);
  return restriction.patient === undefined && restriction.conditions.length === 0 ? undefined : restriction;
}

/**
 * The conditions of the granular grants: several single-parameter restrictions on the same token parameter
 * become one condition with their values as alternatives (the union the grants mean); anything else is
 * intersected, which may hide a resource but never shows one no grant allows.
 */
function grantConditions(registry: SearchParameterRegistry, type: string, grants: ResourceGrant[]): Condition[] {
  const perGrant = grants.map(
    (g) => parseSearchParams(registry, [type], g.query ?? [], { strict: true }).query.conditions,
  );
  const single = perGrant.every((c) => c.length === 1 && c[0].kind === 'token' && !c[0].not);
  if (single) {
    const tokens = perGrant.map((c) => c[0] as Extract<Condition, { kind: 'token' }>);
    if (tokens.every((t) => t.param === tokens[0].param)) {
      return [{ kind: 'token', param: tokens[0].param, values: tokens.flatMap((t) => t.values) }];
    }
  }
  return perGrant.flat();
}

/** The query with the restriction's conditions added, so that the store only finds permitted resources. */
export function restrictQuery(
  registry: SearchParameterRegistry,
  query: SearchQuery,
  type: string,
  restriction: Restriction,
): SearchQuery {
  const conditions = [...query.conditions, ...restriction.conditions];
  let unions = query.unions;
  if (restriction.patient !== undefined) {
    if (type === 'Patient') {
      conditions.push({ kind: 'id', ids: [restriction.patient] });
    } else {
      const members = compartmentParams(registry, 'Patient', type).filter((p) => p !== SELF);
      unions = { ...unions, [type]: { ...unions?.[type], [PATIENT_COMPARTMENT_PARAM]: members } };
      conditions.push({
        kind: 'reference',
        param: PATIENT_COMPARTMENT_PARAM,
        values: [{ targetType: 'Patient', targetId: restriction.patient }],
      });
    }
  }
  return { ...query, conditions, ...(unions ? { unions } : {}) };
}

/** Whether the context may see (or write) this resource: the same rules, checked on the resource itself. */
export function isPermitted(
  access: AccessContext,
  registry: SearchParameterRegistry,
  resource: Resource,
  permission: Permission,
): boolean {
  if (isUnrestricted(access)) return true;
  let restriction: Restriction | undefined;
  try {
    restriction = restrictionFor(access, registry, resource.resourceType, permission);
  } catch {
    return false;
  }
  return !restriction || meetsRestriction(registry, resource, restriction);
}

/** Whether the resource is within a restriction: in its patient's compartment, matching its conditions. */
export function meetsRestriction(
  registry: SearchParameterRegistry,
  resource: Resource,
  restriction: Restriction,
): boolean {
  // Only the parameters the restriction names are evaluated, not the type's whole index.
  const params = new Set<string>(restriction.conditions.flatMap((c) => ('param' in c ? [c.param] : [])));
  if (restriction.patient !== undefined) {
    for (const p of compartmentParams(registry, 'Patient', resource.resourceType)) if (p !== SELF) params.add(p);
  }
  const entries = extractParameterEntries(registry, resource, [...params]);
  if (restriction.patient !== undefined && !inPatientCompartment(registry, resource, entries, restriction.patient)) {
    return false;
  }
  return restriction.conditions.every((condition) => entriesMatch(entries, condition));
}

function inPatientCompartment(
  registry: SearchParameterRegistry,
  resource: Resource,
  entries: IndexEntry[],
  patient: string,
): boolean {
  if (resource.resourceType === 'Patient') return resource.id === patient;
  const members = new Set(compartmentParams(registry, 'Patient', resource.resourceType));
  return entries.some(
    (e) => e.type === 'reference' && members.has(e.param) && e.targetType === 'Patient' && e.targetId === patient,
  );
}

/** Granular restrictions are token conditions (categories); any other kind is not checked in memory. */
function entriesMatch(entries: IndexEntry[], condition: Condition): boolean {
  if (condition.kind !== 'token') return true;
  return entries.some(
    (e) =>
      e.type === 'token' &&
      e.param === condition.param &&
      condition.values.some(
        (v) => (v.code === undefined || v.code === e.code) && (v.system === undefined || v.system === e.system),
      ),
  );
}

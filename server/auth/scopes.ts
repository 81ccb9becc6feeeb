// SMART scopes: parsing v1 (`patient/*.read`) and v2 (`patient/Observation.rs?category=...`) resource scopes
// into grants, and narrowing a requested scope string to what a client and a user may have.
import type { Permission, ResourceGrant, ScopeLevel } from '../../resources/access';
import { isResourceType } from '../../resources/definitions';

const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?.*)?$/;

/** v2 letters must appear in this order (`.rs`, never `.sr`). */
const V2_ORDER = 'cruds';

const V1_PERMISSIONS: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Scopes that are not resource scopes but that the server understands. */
export const CONTEXT_SCOPES = new Set([
  'openid',
  'fhirUser',
  'profile',
  'launch',
  'launch/patient',
  'launch/encounter',
  'offline_access',
  'online_access',
  // HMS: administrative operations ($reindex, the admin API); only admins and clients registered with it.
  'admin',
]);

/** The grant a resource scope gives; undefined when it is not a well-formed resource scope. */
export function parseResourceScope(scope: string): ResourceGrant | undefined {
  const match = RESOURCE_SCOPE.exec(scope);
  if (!match) return undefined;
  const [, level, resourceType, access, rawQuery] = match;
  if (resourceType !== '*' && !isResourceType(resourceType)) return undefined;
  const letters = V1_PERMISSIONS[access] ?? access;
  if (!isOrderedSubset(letters)) return undefined;
  // Granular restrictions narrow read and search only; on v1 scopes they have no meaning.
  if (rawQuery && (access in V1_PERMISSIONS || /[cud]/.test(letters))) return undefined;
  const query = rawQuery ? [...new URLSearchParams(rawQuery.slice(1))] : undefined;
  if (query && query.length === 0) return undefined;
  return {
    level: level as ScopeLevel,
    resourceType,
    permissions: new Set(letters.split('') as Permission[]),
    ...(query ? { query } : {}),
  };
}

function isOrderedSubset(letters: string): boolean {
  if (letters.length === 0) return false;
  let at = -1;
  for (const letter of letters) {
    const position = V2_ORDER.indexOf(letter, at + 1);
    if (position < 0) return false;
    at = position;
  }
  return true;
}

export function splitScopes(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(/\s+/).filter((s) => s.length > 0))];
}

/** True for a scope the server grants at all (resource scopes and the context scopes). */
export function isKnownScope(scope: string): boolean {
  return CONTEXT_SCOPES.has(scope) || parseResourceScope(scope) !== undefined;
}

export function grantsOf(scopes: readonly string[]): ResourceGrant[] {
  return scopes.map(parseResourceScope).filter((g): g is ResourceGrant => g !== undefined);
}

/**
 * Whether `grant` is covered by `ceiling`: same or wider level-type-permissions, and no restriction the
 * grant lacks. Used to keep requested scopes within a client's registered scopes and a role's policy.
 */
export function grantCovers(ceiling: ResourceGrant, grant: ResourceGrant): boolean {
  if (ceiling.level !== grant.level) return false;
  if (ceiling.resourceType !== '*' && ceiling.resourceType !== grant.resourceType) return false;
  for (const p of grant.permissions) if (!ceiling.permissions.has(p)) return false;
  if (!ceiling.query) return true;
  if (!grant.query) return false;
  return ceiling.query.every(([name, value]) => grant.query?.some(([n, v]) => n === name && v === value));
}

/**
 * The requested scopes that a ceiling allows: context scopes when the ceiling names them, resource scopes
 * when some ceiling scope covers them. Unknown or malformed scopes are dropped, never misread.
 */
export function narrowScopes(requested: readonly string[], ceiling: readonly string[]): string[] {
  const ceilingGrants = grantsOf(ceiling);
  const allowedContext = new Set(ceiling.filter((s) => CONTEXT_SCOPES.has(s)));
  return requested.filter((scope) => {
    if (CONTEXT_SCOPES.has(scope)) return allowedContext.has(scope);
    const grant = parseResourceScope(scope);
    return grant !== undefined && ceilingGrants.some((c) => grantCovers(c, grant));
  });
}

/** True when every scope of `narrower` is in `wider` or covered by one of its resource scopes. */
export function isWithin(narrower: readonly string[], wider: readonly string[]): boolean {
  return narrowScopes(narrower, wider).length === narrower.length;
}

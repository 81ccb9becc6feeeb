// Who is acting, and what they were granted: every repository carries one AccessContext. The authorization
// server builds it from a token (SMART scopes intersected with the user's role policy); internal work and the
// admin command line act with full access.

/** SMART v2 interaction letters: create, read (read, vread, instance history), update (and patch), delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export type ScopeLevel = 'patient' | 'user' | 'system';

/** One granted resource scope, e.g. `patient/Observation.rs?category=laboratory`. */
export interface ResourceGrant {
  level: ScopeLevel;
  /** A resource type, or `*`. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
  /** Granular scope restriction (`?category=...`): search parameter pairs every accessible resource must match. */
  query?: [string, string][];
}

export interface AccessContext {
  /** `system` for internal work, `cli` for the admin command line, `user/<id>` or `client/<id>` for callers. */
  actor: string;
  requestId?: string;
  /**
   * The resource scopes granted to the caller. Absent: full access (internal work, the command line). A
   * token's context always has it, possibly empty.
   */
  grants?: readonly ResourceGrant[];
  /** The patient whose compartment `patient/` grants are limited to. */
  patient?: string;
  encounter?: string;
  /** The staff or patient role of the user behind the token. */
  role?: string;
  clientId?: string;
  userId?: string;
  /** `Practitioner/123`, `Patient/456`, ... */
  fhirUser?: string;
  /** Client network address, for the audit trail. */
  ip?: string;
  /** The access token's id (its `jti`), for the audit trail; never the token itself. */
  tokenId?: string;
  /** Administrative operations ($reindex, client and user management). */
  admin?: boolean;
  /** May read the audit trail (AuditEvent). */
  audit?: boolean;
}

export const SYSTEM_ACCESS: AccessContext = { actor: 'system' };

export const CLI_ACCESS: AccessContext = { actor: 'cli' };

/** True when the context is not limited by grants (internal work and the command line). */
export function isUnrestricted(access: AccessContext): boolean {
  return access.grants === undefined;
}

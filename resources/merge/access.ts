// Who may merge: a merge rewrites every resource that points at the source patient, so the caller needs
// search and update on every type that can, unnarrowed by a patient context or granular scopes (a system
// token, or an administrator's user token). A token with patient-level scopes only is refused outright.
import { isUnrestricted, type AccessContext } from '../access';
import { restrictionFor } from '../access-policy';
import { forbidden } from '../errors';
import type { SearchParameterRegistry } from '../search/registry';

export function requireMergeAccess(access: AccessContext, registry: SearchParameterRegistry, types: string[]): void {
  if (isUnrestricted(access)) return;
  if (!(access.grants ?? []).some((g) => g.level !== 'patient')) {
    throw forbidden('$merge needs user- or system-level scopes; patient-level scopes cannot merge records');
  }
  for (const type of types) {
    for (const permission of ['s', 'u'] as const) {
      if (restrictionFor(access, registry, type, permission)) {
        throw forbidden(`$merge needs unrestricted search and update on ${type}; the token's scopes narrow them`);
      }
    }
  }
}

/** Undoing a merge restores other people's edits away: it is for administrators (as $reindex is). */
export function requireAdmin(access: AccessContext, operation: string): void {
  if (!isUnrestricted(access) && !access.admin) throw forbidden(`${operation} is for administrators`);
}

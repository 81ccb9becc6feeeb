// The access checks of one repository: the one policy (access-policy.ts) applied to what the repository reads
// and writes, with the refusals noted for the audit trail. A refused read is a 404, as for what does not exist.
import type { Resource } from '@medplum/fhirtypes';
import { isUnrestricted, type AccessContext, type Permission } from './access';
import { isPermitted, meetsRestriction, requirePermission, restrictQuery, restrictionFor } from './access-policy';
import { isAudited, type AccessJournal } from './audit/trail';
import { forbidden, gone, notFound } from './errors';
import type { Condition, SearchQuery } from './search/query';
import type { SearchParameterRegistry } from './search/registry';
import type { StoredVersion } from './store/port';

export class AccessGuard {
  constructor(
    private readonly access: AccessContext,
    private readonly registry: SearchParameterRegistry,
    private readonly journal: AccessJournal,
  ) {}

  /** The query narrowed to what the caller may touch; 403 when a type or a joined type is not granted. */
  restrictSearch(query: SearchQuery, permission: Permission): SearchQuery {
    if (isUnrestricted(this.access)) return query;
    for (const type of joinedTypes(query.conditions)) requirePermission(this.access, type, 's');
    const restrictions = query.resourceTypes.map((type) =>
      restrictionFor(this.access, this.registry, type, permission),
    );
    if (restrictions.every((r) => r === undefined)) return query;
    if (query.resourceTypes.length > 1) {
      throw forbidden('With patient-level or granular scopes, search one resource type at a time');
    }
    return restrictQuery(this.registry, query, query.resourceTypes[0], restrictions[0]!);
  }

  /** The stored version when the caller may see it for `permission`; a 404 as for an unknown one otherwise. */
  visible(stored: StoredVersion, permission: Permission): StoredVersion {
    if (stored.deleted) {
      // A narrowed caller cannot be told whose resource was deleted; the version holds no content to check.
      if (restrictionFor(this.access, this.registry, stored.resourceType, permission)) {
        if (isAudited(this.access)) this.journal.denials.push(stored);
        throw notFound(`${stored.resourceType}/${stored.id} is not known`);
      }
      throw deletedError(stored);
    }
    if (!this.permits(stored, permission)) {
      if (isAudited(this.access)) this.journal.denials.push(stored);
      throw notFound(`${stored.resourceType}/${stored.id} is not known`);
    }
    return stored;
  }

  permits(stored: StoredVersion, permission: Permission): boolean {
    const restriction = restrictionFor(this.access, this.registry, stored.resourceType, permission);
    if (!restriction) return true;
    return meetsRestriction(this.registry, JSON.parse(stored.json as string) as Resource, restriction);
  }

  mayDo(type: string, permission: Permission): boolean {
    try {
      requirePermission(this.access, type, permission);
      return true;
    } catch {
      return false;
    }
  }

  /** A resource written must be one the caller may hold: in its patient's compartment, within its grants. */
  checkWritable(resource: Resource, permission: Permission): void {
    if (isUnrestricted(this.access)) return;
    if (resource.resourceType === 'AuditEvent') throw forbidden('The audit trail is not writable through the API');
    requirePermission(this.access, resource.resourceType, permission);
    if (!isPermitted(this.access, this.registry, resource, permission)) {
      throw forbidden(`The access token does not allow writing this ${resource.resourceType}`);
    }
  }

  /** Type and system history cannot be narrowed to a compartment: they need an unrestricted search grant. */
  checkWholeHistory(resourceType: string | undefined): void {
    if (isUnrestricted(this.access)) return;
    const unrestricted = (this.access.grants ?? []).some(
      (g) =>
        g.level !== 'patient' &&
        !g.query &&
        g.permissions.has('s') &&
        (g.resourceType === '*' || g.resourceType === resourceType),
    );
    if (!unrestricted) throw forbidden('History of a whole type or system needs an unrestricted search scope');
  }
}

function deletedError(stored: StoredVersion) {
  const error = gone(`${stored.resourceType}/${stored.id} was deleted`);
  return Object.assign(error, { stored });
}

/** Resource types a search reaches through chains and `_has`, each of which must be searchable by the caller. */
function joinedTypes(conditions: Condition[]): string[] {
  const types: string[] = [];
  const visit = (condition: Condition) => {
    if (condition.kind === 'chain') {
      types.push(...condition.targetTypes);
      visit(condition.condition);
    } else if (condition.kind === 'has') {
      types.push(condition.sourceType);
      visit(condition.condition);
    }
  };
  conditions.forEach(visit);
  return [...new Set(types)];
}

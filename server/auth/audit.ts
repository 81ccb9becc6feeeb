// The authorization server's entries in the audit trail: tokens issued and refused, revocations, sign-ins and
// administrative changes, appended durably to the store's hash-chained audit log like every FHIR access.
import type { AccessContext } from '../../resources/access';
import type { AuditAction } from '../../resources/audit/balp';
import { records } from '../../resources/audit/trail';
import type { RepositoryServices } from '../../resources/repository';
import type { TokenContext } from './tokens';

export type AuthAudit = (access: AccessContext, action: AuditAction) => Promise<void>;

export function authAudit(services: RepositoryServices): AuthAudit {
  return async (access, action) => {
    const appended = records(access, action);
    await services.store.logAudit(appended);
  };
}

/** Who a token was issued to, as an audit agent. */
export function tokenAccess(context: TokenContext, ip: string | undefined, requestId?: string): AccessContext {
  return {
    actor: context.userId ? `user/${context.userId}` : `client/${context.clientId}`,
    clientId: context.clientId,
    ...(context.userId ? { userId: context.userId } : {}),
    ...(context.fhirUser ? { fhirUser: context.fhirUser } : {}),
    ...(context.role ? { role: context.role } : {}),
    ...(ip ? { ip } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** A caller the server could not authenticate: named by the client id it claimed, if any. */
export function claimedAccess(clientId: string | null | undefined, ip: string | undefined): AccessContext {
  return {
    actor: clientId ? `client/${clientId}` : 'anonymous',
    ...(clientId ? { clientId } : {}),
    ...(ip ? { ip } : {}),
  };
}

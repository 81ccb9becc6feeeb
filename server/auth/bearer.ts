// The resource server's side: an `Authorization: Bearer` token becomes the request's AccessContext. Tokens are
// looked up in the auth records once and then held in memory until they expire; the grant each belongs to is
// checked again every few seconds, so a revocation made on another node takes effect within that time (and
// on this node at once).
import { LRUCache } from 'lru-cache';
import type { AccessContext } from '../../resources/access';
import { grantsOf, splitScopes } from './scopes';
import type { AuthService } from './service';
import type { AccessTokenRecord } from './tokens';

const GRANT_RECHECK_MS = 5000;
const CACHED_TOKENS = 50_000;

interface CachedToken {
  record: AccessTokenRecord;
  access: AccessContext;
  grantCheckedAt: number;
}

export class BearerTokens {
  private readonly tokens = new LRUCache<string, CachedToken>({ max: CACHED_TOKENS });

  constructor(private readonly auth: AuthService) {
    auth.tokens.onGrantRevoked((grantId) => this.forgetGrant(grantId));
  }

  /** The context of a live token; undefined when it is unknown, expired or its grant was revoked. */
  async accessContext(token: string): Promise<AccessContext | undefined> {
    const now = Date.now();
    let cached = this.tokens.get(token);
    if (!cached) {
      const record = await this.auth.tokens.accessToken(token);
      if (!record) return undefined;
      cached = { record, access: accessContextOf(record), grantCheckedAt: 0 };
      this.tokens.set(token, cached);
    }
    if (cached.record.exp <= now) {
      this.tokens.delete(token);
      return undefined;
    }
    if (cached.record.grantId && now - cached.grantCheckedAt > GRANT_RECHECK_MS) {
      const grant = await this.auth.tokens.grant(cached.record.grantId);
      if (!grant || grant.revoked) {
        this.tokens.delete(token);
        return undefined;
      }
      cached.grantCheckedAt = now;
    }
    return cached.access;
  }

  /** Forgets a token at once (revocation on this node). */
  forget(token: string): void {
    this.tokens.delete(token);
  }

  /** Forgets every token of a grant at once. */
  forgetGrant(grantId: string): void {
    for (const [token, cached] of this.tokens.entries())
      if (cached.record.grantId === grantId) this.tokens.delete(token);
  }
}

export function accessContextOf(record: AccessTokenRecord): AccessContext {
  const scopes = splitScopes(record.scope);
  const grants = grantsOf(scopes);
  return Object.freeze({
    actor: record.userId ? `user/${record.userId}` : `client/${record.clientId}`,
    grants,
    clientId: record.clientId,
    tokenId: record.jti,
    ...(record.userId ? { userId: record.userId } : {}),
    ...(record.role ? { role: record.role } : {}),
    ...(record.fhirUser ? { fhirUser: record.fhirUser } : {}),
    ...(record.patient ? { patient: record.patient } : {}),
    ...(record.encounter ? { encounter: record.encounter } : {}),
    admin: scopes.includes('admin'),
    audit: grants.some((g) => g.resourceType === 'AuditEvent' && g.permissions.has('r')),
  });
}

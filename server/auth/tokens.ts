// Grants and the tokens issued under them. Access tokens, refresh tokens and codes are random strings whose
// SHA-256 digest keys their record, so a copy of the records reveals no usable token. A grant (one user's
// consent to one client) can be revoked, which ends every token issued under it at the next request.
import { randomToken, sha256 } from './crypto';
import type { AuthRecords } from './records/port';

export interface TokenContext {
  clientId: string;
  /** Username of the user who authorized; absent for backend clients. */
  userId?: string;
  role?: string;
  fhirUser?: string;
  /** Granted scopes, space separated. */
  scope: string;
  patient?: string;
  encounter?: string;
}

export interface AccessTokenRecord extends TokenContext {
  jti: string;
  grantId?: string;
  /** Epoch ms. */
  exp: number;
  iat: number;
}

export interface Grant extends TokenContext {
  id: string;
  revoked: boolean;
  /** online_access: the refresh token dies with the login session. */
  sessionId?: string;
  createdAt: number;
}

interface RefreshRecord {
  grantId: string;
  scope: string;
}

export interface CodeRecord extends TokenContext {
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  sessionId: string;
  authTime: number;
  /** Launched from an EHR that shows the patient banner itself. */
  ehrLaunch: boolean;
}

export interface LaunchRecord {
  username: string;
  clientId: string;
  patient?: string;
  encounter?: string;
}

const KINDS = {
  access: 'access-token',
  grant: 'grant',
  refresh: 'refresh-token',
  code: 'code',
  codeGrant: 'code-grant',
  launch: 'launch',
  assertion: 'assertion-jti',
} as const;

export const CODE_TTL_MS = 60_000;
export const LAUNCH_TTL_MS = 5 * 60_000;
/** offline_access refresh tokens: (g)(10) asks for at least three months. */
export const OFFLINE_REFRESH_TTL_MS = 366 * 24 * 60 * 60_000;
/** online_access refresh tokens outlive no login session (whose absolute limit is 12 hours). */
export const ONLINE_REFRESH_TTL_MS = 12 * 60 * 60_000;

export class TokenStore {
  private readonly revocationListeners: ((grantId: string) => void)[] = [];

  constructor(private readonly records: AuthRecords) {}

  /** Called with each grant this process revokes, so caches of its tokens forget them at once. */
  onGrantRevoked(listener: (grantId: string) => void): void {
    this.revocationListeners.push(listener);
  }

  async issueAccessToken(
    context: TokenContext,
    ttlMs: number,
    grantId?: string,
  ): Promise<{ token: string; record: AccessTokenRecord }> {
    const token = randomToken();
    const now = Date.now();
    const record: AccessTokenRecord = {
      ...context,
      jti: randomToken(12),
      iat: now,
      exp: now + ttlMs,
      ...(grantId ? { grantId } : {}),
    };
    await this.records.put(KINDS.access, { key: sha256(token), value: record, expiresAt: record.exp });
    return { token, record };
  }

  async accessToken(token: string): Promise<AccessTokenRecord | undefined> {
    return this.records.get<AccessTokenRecord>(KINDS.access, sha256(token));
  }

  async revokeAccessToken(token: string): Promise<boolean> {
    return this.records.delete(KINDS.access, sha256(token));
  }

  async createGrant(context: TokenContext, sessionId?: string): Promise<Grant> {
    const grant: Grant = {
      ...context,
      id: randomToken(16),
      revoked: false,
      createdAt: Date.now(),
      ...(sessionId ? { sessionId } : {}),
    };
    await this.records.put(KINDS.grant, { key: grant.id, value: grant });
    return grant;
  }

  async grant(id: string): Promise<Grant | undefined> {
    return this.records.get<Grant>(KINDS.grant, id);
  }

  async revokeGrant(id: string): Promise<void> {
    const grant = await this.grant(id);
    if (grant && !grant.revoked) await this.records.put(KINDS.grant, { key: id, value: { ...grant, revoked: true } });
    for (const listener of this.revocationListeners) listener(id);
  }

  async grantsOf(username: string): Promise<Grant[]> {
    return (await this.records.list<Grant>(KINDS.grant))
      .map((r) => r.value)
      .filter((g) => g.userId === username && !g.revoked);
  }

  async issueRefreshToken(grantId: string, scope: string, ttlMs: number): Promise<string> {
    const token = randomToken();
    await this.records.put<RefreshRecord>(KINDS.refresh, {
      key: sha256(token),
      value: { grantId, scope },
      expiresAt: Date.now() + ttlMs,
    });
    return token;
  }

  /** Uses a refresh token once: `first` is false when it was used before (a replay, RFC 9700 reuse detection). */
  async useRefreshToken(token: string): Promise<{ grantId: string; scope: string; first: boolean } | undefined> {
    const used = await this.records.consume<RefreshRecord>(KINDS.refresh, sha256(token));
    return used ? { ...used.value, first: used.first } : undefined;
  }

  async refreshTokenGrant(token: string): Promise<string | undefined> {
    return (await this.records.get<RefreshRecord>(KINDS.refresh, sha256(token)))?.grantId;
  }

  async issueCode(record: CodeRecord): Promise<string> {
    const code = randomToken();
    await this.records.put(KINDS.code, { key: sha256(code), value: record, expiresAt: Date.now() + CODE_TTL_MS });
    return code;
  }

  /** Uses a code once; `first` false means a replay, whose grant must then be revoked. */
  async useCode(code: string): Promise<{ record: CodeRecord; first: boolean } | undefined> {
    const used = await this.records.consume<CodeRecord>(KINDS.code, sha256(code));
    return used ? { record: used.value, first: used.first } : undefined;
  }

  async rememberCodeGrant(code: string, grantId: string): Promise<void> {
    await this.records.put(KINDS.codeGrant, {
      key: sha256(code),
      value: grantId,
      expiresAt: Date.now() + 24 * 60 * 60_000,
    });
  }

  async codeGrant(code: string): Promise<string | undefined> {
    return this.records.get<string>(KINDS.codeGrant, sha256(code));
  }

  async createLaunch(launch: LaunchRecord): Promise<string> {
    const handle = randomToken();
    await this.records.put(KINDS.launch, { key: sha256(handle), value: launch, expiresAt: Date.now() + LAUNCH_TTL_MS });
    return handle;
  }

  /** The launch context, once: a second use, an unknown or an expired handle give undefined. */
  async useLaunch(handle: string): Promise<LaunchRecord | undefined> {
    const used = await this.records.consume<LaunchRecord>(KINDS.launch, sha256(handle));
    return used?.first ? used.value : undefined;
  }

  /** Records a client assertion's jti until it expires; false when it was seen before (a replay). */
  async rememberAssertion(issuer: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.records.insert(KINDS.assertion, { key: `${issuer} ${jti}`, value: 1, expiresAt });
  }
}

// POST /auth/token: the authorization_code (PKCE S256), refresh_token (rotation with reuse detection, scopes
// only narrowed) and client_credentials (backend services) grants. Every answer is `no-store`.
import crypto from 'node:crypto';
import type { Client } from './clients';
import { authenticateClient, type ClientCredentials } from './client-auth';
import { signIdToken } from './id-token';
import { OAuthError, invalidClient, invalidGrant, invalidRequest, invalidScope } from './oauth-error';
import { narrowScopes, splitScopes } from './scopes';
import type { AuthService } from './service';
import {
  OFFLINE_REFRESH_TTL_MS,
  ONLINE_REFRESH_TTL_MS,
  type CodeRecord,
  type Grant,
  type TokenContext,
} from './tokens';

/** Backend services tokens live at most 5 minutes (SMART Backend Services). */
const BACKEND_TOKEN_TTL_MS = 5 * 60_000;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
  patient?: string;
  encounter?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
}

/** The answer, and whom it was issued to (for the audit trail; never sent). */
export interface Issued {
  body: TokenResponse;
  context: TokenContext;
}

type GrantHandler = (auth: AuthService, credentials: ClientCredentials) => Promise<Issued>;

const GRANTS: Record<string, GrantHandler> = {
  authorization_code: exchangeCode,
  refresh_token: refresh,
  client_credentials: clientCredentials,
};

export async function tokenRequest(auth: AuthService, credentials: ClientCredentials): Promise<Issued> {
  const grantType = credentials.form.get('grant_type');
  if (!grantType) throw invalidRequest('grant_type is required');
  const handler = GRANTS[grantType];
  if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  return handler(auth, credentials);
}

async function exchangeCode(auth: AuthService, credentials: ClientCredentials): Promise<Issued> {
  const { form } = credentials;
  const client = await authenticateClient(auth, credentials);
  if (!client) throw invalidClient('The client must identify itself (client_id)');
  const code = form.get('code');
  if (!code) throw invalidRequest('code is required');
  const used = await auth.tokens.useCode(code);
  if (!used) throw invalidGrant('The code is unknown or expired');
  if (!used.first) {
    // RFC 6749 4.1.2: a code used twice may have been stolen; what it gave is revoked.
    const grantId = await auth.tokens.codeGrant(code);
    if (grantId) await auth.tokens.revokeGrant(grantId);
    throw invalidGrant('The code was used before; the tokens issued from it are revoked');
  }
  const record = used.record;
  if (record.clientId !== client.id) throw invalidGrant('The code was issued to another client');
  if (form.get('redirect_uri') !== record.redirectUri)
    throw invalidGrant('redirect_uri does not match the authorization request');
  checkVerifier(form.get('code_verifier'), record.codeChallenge);
  const context = contextOf(record);
  const scopes = splitScopes(record.scope);
  const wantsRefresh = scopes.includes('offline_access') || scopes.includes('online_access');
  const grant = await auth.tokens.createGrant(
    context,
    scopes.includes('offline_access') ? undefined : record.sessionId,
  );
  await auth.tokens.rememberCodeGrant(code, grant.id);
  const response = await accessTokenResponse(auth, context, auth.accessTokenTtlMs, grant.id);
  if (wantsRefresh) response.refresh_token = await newRefreshToken(auth, grant, record.scope);
  if (scopes.includes('openid')) {
    response.id_token = await signIdToken(auth, {
      clientId: client.id,
      username: record.userId as string,
      fhirUser: scopes.includes('fhirUser') || scopes.includes('profile') ? record.fhirUser : undefined,
      nonce: record.nonce,
      authTime: record.authTime,
    });
  }
  return { body: { ...response, ...launchContext(auth, record) }, context };
}

function checkVerifier(verifier: string | null, challenge: string): void {
  if (!verifier || !VERIFIER.test(verifier)) throw invalidGrant('code_verifier is missing or malformed');
  const computed = crypto.createHash('sha256').update(verifier).digest('base64url');
  if (computed !== challenge) throw invalidGrant('code_verifier does not match the code_challenge');
}

function contextOf(record: CodeRecord): TokenContext {
  const { clientId, userId, role, fhirUser, scope, patient, encounter } = record;
  return { clientId, userId, role, fhirUser, scope, patient, encounter };
}

function launchContext(auth: AuthService, record: CodeRecord): Partial<TokenResponse> {
  return {
    ...(record.patient ? { patient: record.patient } : {}),
    ...(record.encounter ? { encounter: record.encounter } : {}),
    need_patient_banner: !record.ehrLaunch,
    smart_style_url: `${auth.authBase}/smart-style.json`,
  };
}

async function refresh(auth: AuthService, credentials: ClientCredentials): Promise<Issued> {
  const { form } = credentials;
  const token = form.get('refresh_token');
  if (!token) throw invalidRequest('refresh_token is required');
  const client = await authenticateClient(auth, credentials);
  const used = await auth.tokens.useRefreshToken(token);
  if (!used) throw invalidGrant('The refresh token is unknown, expired or revoked');
  const grant = await auth.tokens.grant(used.grantId);
  if (!grant || grant.revoked) throw invalidGrant('The refresh token is unknown, expired or revoked');
  if (!used.first) {
    await auth.tokens.revokeGrant(grant.id);
    throw invalidGrant('The refresh token was used before; its grant is revoked');
  }
  await checkRefreshClient(auth, client, grant);
  if (grant.sessionId && !(await auth.sessions.isAliveByDigest(grant.sessionId))) {
    await auth.tokens.revokeGrant(grant.id);
    throw invalidGrant('The login session of this online_access grant has ended');
  }
  const requested = form.get('scope');
  const granted = splitScopes(grant.scope);
  const scopes = requested === null ? granted : splitScopes(requested);
  if (narrowScopes(scopes, granted).length !== scopes.length) throw invalidScope('The scope is wider than the grant');
  const context: TokenContext = { ...grant, scope: scopes.join(' ') };
  const response = await accessTokenResponse(auth, context, auth.accessTokenTtlMs, grant.id);
  response.refresh_token = await newRefreshToken(auth, grant, used.scope);
  return {
    body: {
      ...response,
      ...(grant.patient ? { patient: grant.patient } : {}),
      ...(grant.encounter ? { encounter: grant.encounter } : {}),
    },
    context,
  };
}

/** A confidential client must authenticate to refresh; a public one may send only the token. */
async function checkRefreshClient(auth: AuthService, client: Client | undefined, grant: Grant): Promise<void> {
  if (client) {
    if (client.id !== grant.clientId) throw invalidGrant('The refresh token was issued to another client');
    return;
  }
  const owner = await auth.clients.get(grant.clientId);
  if (!owner?.active) throw invalidGrant('The client of this grant is no longer registered');
  if (owner.type !== 'public') throw invalidClient('This client must authenticate');
}

async function newRefreshToken(auth: AuthService, grant: Grant, scope: string): Promise<string> {
  const ttl = grant.sessionId ? ONLINE_REFRESH_TTL_MS : OFFLINE_REFRESH_TTL_MS;
  return auth.tokens.issueRefreshToken(grant.id, scope, ttl);
}

async function clientCredentials(auth: AuthService, credentials: ClientCredentials): Promise<Issued> {
  const client = await authenticateClient(auth, credentials);
  if (!client) throw invalidClient('The client must authenticate');
  if (client.type !== 'backend') {
    throw new OAuthError('unauthorized_client', 'client_credentials is for backend clients (private_key_jwt)');
  }
  const requested = credentials.form.get('scope');
  const ceiling = splitScopes(client.scope);
  const scopes = requested === null ? ceiling : splitScopes(requested);
  const allowed = narrowScopes(scopes, ceiling).filter((s) => s.startsWith('system/') || s === 'admin');
  if (scopes.length === 0 || allowed.length !== scopes.length) {
    throw invalidScope('The scope is not within what this client was registered for (system/ scopes)');
  }
  const ttl = Math.min(auth.accessTokenTtlMs, BACKEND_TOKEN_TTL_MS);
  const context: TokenContext = { clientId: client.id, scope: allowed.join(' ') };
  return { body: await accessTokenResponse(auth, context, ttl), context };
}

async function accessTokenResponse(
  auth: AuthService,
  context: TokenContext,
  ttlMs: number,
  grantId?: string,
): Promise<TokenResponse> {
  const { clientId, userId, role, fhirUser, scope, patient, encounter } = context;
  const clean: TokenContext = { clientId, userId, role, fhirUser, scope, patient, encounter };
  const { token } = await auth.tokens.issueAccessToken(stripUndefined(clean), ttlMs, grantId);
  return { access_token: token, token_type: 'Bearer', expires_in: Math.floor(ttlMs / 1000), scope };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

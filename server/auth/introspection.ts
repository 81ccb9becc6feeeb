// Token introspection (RFC 7662) and revocation (RFC 7009). Introspection answers a live access or refresh
// token with its scope, client, expiry, launch context and user; anything else is `{"active": false}` alone.
// Revocation always answers 200; revoking a refresh token revokes its whole grant.
import { authenticateClient, type ClientCredentials } from './client-auth';
import { invalidClient, invalidRequest } from './oauth-error';
import type { BearerTokens } from './bearer';
import type { AuthService } from './service';

export async function introspect(
  auth: AuthService,
  bearer: BearerTokens,
  credentials: ClientCredentials,
): Promise<Record<string, unknown>> {
  await requireCaller(auth, bearer, credentials);
  const token = credentials.form.get('token');
  if (!token) throw invalidRequest('token is required');
  const record = await auth.tokens.accessToken(token);
  if (!record || !(await bearer.accessContext(token))) return { active: false };
  return {
    active: true,
    scope: record.scope,
    client_id: record.clientId,
    exp: Math.floor(record.exp / 1000),
    iat: Math.floor(record.iat / 1000),
    token_type: 'Bearer',
    iss: auth.issuer,
    aud: auth.settings.baseUrl,
    ...(record.userId ? { sub: record.userId, username: record.userId } : { sub: record.clientId }),
    ...(record.fhirUser ? { fhirUser: `${auth.settings.baseUrl}/${record.fhirUser}` } : {}),
    ...(record.patient ? { patient: record.patient } : {}),
    ...(record.encounter ? { encounter: record.encounter } : {}),
  };
}

export async function revoke(auth: AuthService, bearer: BearerTokens, credentials: ClientCredentials): Promise<void> {
  const client = await authenticateClient(auth, credentials);
  const token = credentials.form.get('token');
  if (!token) throw invalidRequest('token is required');
  const record = await auth.tokens.accessToken(token);
  if (record && (!client || client.id === record.clientId)) {
    await auth.tokens.revokeAccessToken(token);
    bearer.forget(token);
    if (record.grantId && credentials.form.get('token_type_hint') === 'grant')
      await auth.tokens.revokeGrant(record.grantId);
    return;
  }
  const grantId = await auth.tokens.refreshTokenGrant(token);
  if (!grantId) return;
  const grant = await auth.tokens.grant(grantId);
  if (grant && (!client || client.id === grant.clientId)) await auth.tokens.revokeGrant(grantId);
}

/** Introspection needs an authenticated client or a bearer token of the caller. */
async function requireCaller(auth: AuthService, bearer: BearerTokens, credentials: ClientCredentials): Promise<void> {
  const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization ?? '');
  if (match) {
    if (await bearer.accessContext(match[1])) return;
    throw invalidClient('The bearer token of the caller is not valid');
  }
  if (!(await authenticateClient(auth, credentials))) throw invalidClient('Introspection needs client authentication');
}

// Test clients and tokens, obtained through the real token endpoint: a backend client signs a private_key_jwt
// assertion (ES384) and asks for client_credentials, exactly as a payer or an integration would.
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { RequestListener } from 'node:http';
import type { AuthService } from '../../server/auth/service';

/** The scopes of the test harness's own client: everything, as a hospital's integration engine would hold. */
export const SYSTEM_SCOPE = 'system/*.cruds system/AuditEvent.rs admin';

/** Authorization-server settings for a test server on `dataDir` (long-lived tokens: tests may run minutes). */
export function authSettingsFor(dataDir: string, baseUrl: string) {
  return { baseUrl, dataDir, accessTokenMinutes: 60, sessionIdleMinutes: 15, corsOrigins: [] as string[] };
}

export interface BackendKey {
  kid: string;
  alg: 'ES384' | 'RS384';
  privateKey: KeyObject | CryptoKey;
  publicJwk: JWK;
}

export async function backendKey(alg: 'ES384' | 'RS384' = 'ES384'): Promise<BackendKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/** Registers a backend client with this key and scope ceiling. */
export async function registerBackendClient(
  auth: AuthService,
  id: string,
  key: BackendKey,
  scope: string,
): Promise<void> {
  await auth.clients.add({ id, type: 'backend', jwks: { keys: [key.publicJwk] }, scope });
}

export async function clientAssertion(
  auth: AuthService,
  clientId: string,
  key: BackendKey,
  overrides: { header?: Record<string, unknown>; claims?: Record<string, unknown>; expiresIn?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: auth.tokenUrl,
    iat: now,
    exp: now + (overrides.expiresIn ?? 240),
    jti: randomUUID(),
    ...overrides.claims,
  };
  for (const name of Object.keys(claims)) if (claims[name] === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...overrides.header })
    .sign(key.privateKey);
}

/** The form of a client_credentials token request, with a fresh signed assertion. */
export async function clientCredentialsForm(
  auth: AuthService,
  clientId: string,
  key: BackendKey,
  scope: string,
  expiresIn?: number,
): Promise<Record<string, string>> {
  return {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(auth, clientId, key, { expiresIn }),
  };
}

/** An access token for a backend client, from POST /auth/token (client_credentials). */
export async function backendToken(
  app: RequestListener,
  auth: AuthService,
  clientId: string,
  key: BackendKey,
  scope: string,
): Promise<string> {
  const res = await request(app)
    .post('/auth/token')
    .type('form')
    .send(await clientCredentialsForm(auth, clientId, key, scope));
  if (res.status !== 200) throw new Error(`Token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

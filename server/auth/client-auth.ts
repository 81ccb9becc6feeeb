// Client authentication at the token, introspection and revocation endpoints: a public client names itself,
// a symmetric one sends HTTP Basic (or client_secret_post), a backend one signs a JWT assertion
// (private_key_jwt: RS384 or ES384, iss = sub = client id, aud = the token URL, exp at most 5 minutes ahead,
// jti never seen before).
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import type { Client, ClientRegistry } from './clients';
import { safeEqual, sha256 } from './crypto';
import { fetchJwks } from './jwks-fetch';
import { invalidClient, invalidRequest } from './oauth-error';
import type { TokenStore } from './tokens';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS384', 'ES384'];
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_SKEW_S = 60;

/** What client authentication needs of the auth service (a narrow view, so this module does not import it). */
export interface ClientAuthority {
  clients: Pick<ClientRegistry, 'get'>;
  tokens: Pick<TokenStore, 'rememberAssertion'>;
  tokenUrl: string;
}

export interface ClientCredentials {
  form: URLSearchParams;
  authorization?: string;
}

/** The authenticated client; undefined when the request names none (allowed only where the caller says so). */
export async function authenticateClient(
  auth: ClientAuthority,
  { form, authorization }: ClientCredentials,
): Promise<Client | undefined> {
  const basic = basicCredentials(authorization);
  const assertionType = form.get('client_assertion_type');
  if (basic) return secretClient(auth, basic.id, basic.secret, form.get('client_id'));
  if (assertionType !== null || form.has('client_assertion')) {
    if (assertionType !== ASSERTION_TYPE) throw invalidClient(`client_assertion_type must be ${ASSERTION_TYPE}`);
    return assertedClient(auth, form.get('client_assertion') ?? '', form.get('client_id'));
  }
  const secret = form.get('client_secret');
  const id = form.get('client_id');
  if (id !== null && secret !== null) return secretClient(auth, id, secret, id);
  if (id === null) return undefined;
  const client = await auth.clients.get(id);
  if (!client?.active) throw invalidClient('Unknown client');
  if (client.type !== 'public') throw invalidClient('This client must authenticate');
  return client;
}

function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('Malformed Basic credentials');
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw invalidClient('Malformed Basic credentials');
  }
}

async function secretClient(auth: ClientAuthority, id: string, secret: string, formId: string | null): Promise<Client> {
  if (formId !== null && formId !== id) throw invalidRequest('client_id does not match the authenticated client');
  const client = await auth.clients.get(id);
  // The same comparison runs for unknown clients, so timing does not tell which ids exist.
  const matches = safeEqual(sha256(secret), client?.secretHash ?? sha256(`unknown ${secret}`));
  if (!client?.active || client.type !== 'symmetric' || !matches) throw invalidClient('Client authentication failed');
  return client;
}

async function assertedClient(auth: ClientAuthority, assertion: string, formId: string | null): Promise<Client> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let issuer: string | undefined;
  try {
    header = decodeProtectedHeader(assertion);
    issuer = decodeJwt(assertion).iss;
  } catch {
    throw invalidClient('client_assertion is not a JWT');
  }
  if (!header.alg || !ASSERTION_ALGS.includes(header.alg)) {
    throw invalidClient(`client_assertion must be signed with ${ASSERTION_ALGS.join(' or ')}`);
  }
  if (!header.kid) throw invalidClient('client_assertion must name its key (kid)');
  if (header.typ !== undefined && header.typ !== 'JWT') throw invalidClient('client_assertion typ must be JWT');
  if (header.jwk || header.x5u || header.x5c) throw invalidClient('client_assertion must not carry its own key');
  const client = issuer ? await auth.clients.get(issuer) : undefined;
  if (!client?.active || client.type !== 'backend') throw invalidClient('Unknown client');
  if (formId !== null && formId !== client.id) throw invalidClient('client_id does not match the assertion');
  if (header.jku !== undefined && header.jku !== client.jwksUrl) {
    throw invalidClient('The jku of client_assertion is not the registered JWKS URL');
  }
  const payload = await verifiedAssertion(assertion, await clientKeys(client), client.id, auth.tokenUrl);
  const jti = payload.jti as string;
  if (!(await auth.tokens.rememberAssertion(client.id, jti, (payload.exp as number) * 1000))) {
    throw invalidClient('client_assertion was used before (jti replay)');
  }
  return client;
}

async function clientKeys(client: Client): Promise<{ keys: JWK[] }> {
  if (client.jwks) return client.jwks;
  if (!client.jwksUrl) throw invalidClient('This client has no registered keys');
  try {
    return await fetchJwks(client.jwksUrl as string);
  } catch {
    throw invalidClient("The client's JWKS could not be retrieved");
  }
}

async function verifiedAssertion(
  assertion: string,
  jwks: { keys: JWK[] },
  clientId: string,
  tokenUrl: string,
): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
      algorithms: ASSERTION_ALGS,
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch {
    throw invalidClient('client_assertion is not valid for this client and token URL');
  }
  const now = Math.floor(Date.now() / 1000);
  if ((payload.exp as number) > now + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw invalidClient('client_assertion exp must be at most 5 minutes ahead');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
    throw invalidClient('client_assertion needs a jti');
  }
  return payload;
}

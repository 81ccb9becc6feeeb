// Registered SMART clients: public apps (PKCE only), symmetric ones (a secret, stored as a hash) and backend
// ones (private_key_jwt with a JWKS given inline or by URL). Each has its exact redirect URIs, launch URL and
// scope ceiling.
import type { JWK } from 'jose';
import { randomToken, sha256 } from './crypto';
import type { AuthRecords } from './records/port';
import { isKnownScope, splitScopes } from './scopes';

const KIND = 'client';

export type ClientType = 'public' | 'symmetric' | 'backend';
export const CLIENT_TYPES: readonly ClientType[] = ['public', 'symmetric', 'backend'];

export interface Client {
  id: string;
  type: ClientType;
  redirectUris: string[];
  /**
   * Backend clients: their public keys, inline or by URL. A backend client without keys gets tokens only from
   * an operator (`hms token`), never from the token endpoint.
   */
  jwks?: { keys: JWK[] };
  jwksUrl?: string;
  /** The most the client can be granted. */
  scope: string;
  launchUrl?: string;
  /** Symmetric clients: SHA-256 of the secret (256 random bits, so a fast hash is enough). */
  secretHash?: string;
  active: boolean;
  createdAt: number;
}

export interface NewClient {
  id: string;
  type: ClientType;
  redirectUris?: string[];
  jwks?: { keys: JWK[] };
  jwksUrl?: string;
  scope?: string;
  launchUrl?: string;
}

/** What an app may ask for when its registration names no scopes. */
const DEFAULT_APP_SCOPE =
  'openid fhirUser launch launch/patient launch/encounter offline_access online_access patient/*.cruds user/*.cruds';
const DEFAULT_BACKEND_SCOPE = 'system/*.rs';

export class ClientError extends Error {}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;

export class ClientRegistry {
  constructor(private readonly records: AuthRecords) {}

  /** Registers a client; returns it with the secret of a symmetric client (shown once, stored hashed). */
  async add(input: NewClient): Promise<{ client: Client; secret?: string }> {
    const client = checkedClient(input);
    const secret = input.type === 'symmetric' ? randomToken(32) : undefined;
    if (secret) client.secretHash = sha256(secret);
    const inserted = await this.records.insert<Client>(KIND, { key: client.id, value: client });
    if (!inserted) throw new ClientError(`A client with id ${client.id} exists`);
    return { client, ...(secret ? { secret } : {}) };
  }

  async get(id: string): Promise<Client | undefined> {
    if (!CLIENT_ID.test(id)) return undefined;
    return this.records.get<Client>(KIND, id);
  }

  async list(): Promise<Client[]> {
    return (await this.records.list<Client>(KIND)).map((r) => r.value);
  }

  async remove(id: string): Promise<boolean> {
    return this.records.delete(KIND, id);
  }
}

function checkedClient(input: NewClient): Client {
  if (!CLIENT_ID.test(input.id ?? '')) {
    throw new ClientError('The client id must be 1-64 characters of letters, digits and . _ ~ -');
  }
  if (!CLIENT_TYPES.includes(input.type)) throw new ClientError(`The client type must be ${CLIENT_TYPES.join(', ')}`);
  const redirectUris = input.redirectUris ?? [];
  for (const uri of redirectUris) checkRedirectUri(uri);
  if (input.type !== 'backend' && redirectUris.length === 0) {
    throw new ClientError('An app needs at least one --redirect-uri');
  }
  if (input.jwks) checkJwks(input.jwks);
  if (input.jwksUrl) checkHttpsUrl(input.jwksUrl, 'The JWKS URL');
  if (input.launchUrl) checkAppUrl(input.launchUrl, 'The launch URL');
  const scope = input.scope ?? (input.type === 'backend' ? DEFAULT_BACKEND_SCOPE : DEFAULT_APP_SCOPE);
  const unknown = splitScopes(scope).filter((s) => !isKnownScope(s));
  if (unknown.length > 0) throw new ClientError(`Unknown scopes: ${unknown.join(' ')}`);
  return {
    id: input.id,
    type: input.type,
    redirectUris,
    ...(input.jwks ? { jwks: input.jwks } : {}),
    ...(input.jwksUrl ? { jwksUrl: input.jwksUrl } : {}),
    scope: splitScopes(scope).join(' '),
    ...(input.launchUrl ? { launchUrl: input.launchUrl } : {}),
    active: true,
    createdAt: Date.now(),
  };
}

/** Redirect URIs are https, or http on a loopback address (native and development apps); no fragment. */
function checkRedirectUri(uri: string): void {
  checkAppUrl(uri, `The redirect URI ${uri}`);
  if (new URL(uri).hash) throw new ClientError(`The redirect URI ${uri} must not have a fragment`);
}

function checkAppUrl(uri: string, what: string): void {
  const url = absoluteUrl(uri, what);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ClientError(`${what} must use https (http only on a loopback address)`);
  }
  if (url.username || url.password) throw new ClientError(`${what} must not contain credentials`);
}

function checkHttpsUrl(uri: string, what: string): void {
  if (absoluteUrl(uri, what).protocol !== 'https:') throw new ClientError(`${what} must use https`);
}

function absoluteUrl(uri: string, what: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new ClientError(`${what} is not an absolute URL`);
  }
}

function checkJwks(jwks: { keys: JWK[] }): void {
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) throw new ClientError('The JWKS has no keys');
  for (const key of jwks.keys) {
    if (!key.kid) throw new ClientError('Every key of the JWKS needs a kid');
    if (key.kty === 'RSA' ? !key.n || !key.e : key.kty === 'EC' ? !key.crv || !key.x || !key.y : true) {
      throw new ClientError(`Key ${key.kid} is not an RSA (n, e) or EC (crv, x, y) public key`);
    }
    if (key.d) throw new ClientError(`Key ${key.kid} contains a private key; register only the public part`);
  }
}

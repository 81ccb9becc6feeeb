// The server's signing keys (RS256, for id_tokens): created on first start, kept in the auth records sealed
// under HMS_SECRET, published as a JWKS. Rotation adds a new key that signs from then on; the old one stays in
// the JWKS for the overlap so tokens it signed still verify, then is retired.
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { randomToken, type SecretBox } from './crypto';
import type { AuthRecords } from './records/port';

const KIND = 'signing-key';
export const SIGNING_ALG = 'RS256';
/** Old keys stay published this long after a rotation: longer than any token they signed lives. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

interface StoredKey {
  kid: string;
  createdAt: number;
  /** Set on rotation: the key stops being published after this instant. */
  retiresAt?: number;
  publicJwk: JWK;
  sealedPrivateJwk: string;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject | CryptoKey;
}

export class SigningKeys {
  private current?: SigningKey;
  private published: JWK[] = [];

  constructor(
    private readonly records: AuthRecords,
    private readonly box: SecretBox,
  ) {}

  /** Loads the keys, creating the first one on an empty store. */
  async load(): Promise<void> {
    let keys = await this.liveKeys();
    if (keys.length === 0) {
      await this.create();
      keys = await this.liveKeys();
    }
    const newest = keys.filter((k) => k.retiresAt === undefined).sort((a, b) => b.createdAt - a.createdAt)[0];
    const signing = newest ?? keys.sort((a, b) => b.createdAt - a.createdAt)[0];
    const jwk = JSON.parse(this.box.open(signing.sealedPrivateJwk)) as JWK;
    this.current = { kid: signing.kid, privateKey: (await importJWK(jwk, SIGNING_ALG)) as KeyObject | CryptoKey };
    this.published = keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' }));
  }

  signingKey(): SigningKey {
    if (!this.current) throw new Error('Signing keys are not loaded');
    return this.current;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.published };
  }

  /** A new signing key; the others retire after the overlap. Returns the new key id. */
  async rotate(): Promise<string> {
    const now = Date.now();
    for (const key of await this.liveKeys()) {
      if (key.retiresAt === undefined) {
        await this.records.put<StoredKey>(KIND, {
          key: key.kid,
          value: { ...key, retiresAt: now + ROTATION_OVERLAP_MS },
          expiresAt: now + ROTATION_OVERLAP_MS,
        });
      }
    }
    const kid = await this.create();
    await this.load();
    return kid;
  }

  private async create(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
    const kid = randomToken(12);
    const value: StoredKey = {
      kid,
      createdAt: Date.now(),
      publicJwk: await exportJWK(publicKey),
      sealedPrivateJwk: this.box.seal(JSON.stringify(await exportJWK(privateKey))),
    };
    await this.records.put(KIND, { key: kid, value });
    return kid;
  }

  private async liveKeys(): Promise<StoredKey[]> {
    return (await this.records.list<StoredKey>(KIND)).map((r) => r.value);
  }
}

// Authorization requests waiting for the user to sign in, pick a patient and consent. Their parameters are
// kept server-side, keyed by the digest of a random id that the pages carry; nothing in a form is trusted
// beyond that id and the user's own choices.
import { randomToken, sha256 } from '../crypto';
import type { AuthService } from '../service';
import type { LaunchRecord } from '../tokens';

const KIND = 'authorize-request';
/** Time to sign in and decide; the app starts again after that. */
export const PENDING_TTL_MS = 15 * 60_000;

export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state: string;
  /** Requested scopes, space separated. */
  scope: string;
  codeChallenge: string;
  nonce?: string;
  /** The EHR launch context, already consumed from its handle. */
  launch?: LaunchRecord;
  /** The first signed-in user to see the request; nobody else may continue it. */
  username?: string;
  /** The patient chosen in the picker (staff, standalone launch). */
  patient?: string;
  createdAt: number;
}

export class PendingAuthorizations {
  constructor(private readonly auth: AuthService) {}

  async create(pending: PendingAuthorization): Promise<string> {
    const id = randomToken();
    await this.save(id, pending);
    return id;
  }

  async get(id: unknown): Promise<PendingAuthorization | undefined> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{20,64}$/.test(id)) return undefined;
    return this.auth.records.get<PendingAuthorization>(KIND, sha256(id));
  }

  async save(id: string, pending: PendingAuthorization): Promise<void> {
    await this.auth.records.put(KIND, {
      key: sha256(id),
      value: pending,
      expiresAt: pending.createdAt + PENDING_TTL_MS,
    });
  }

  /** Ends the request; true for exactly one caller, so a double submit cannot issue two codes. */
  async finish(id: string): Promise<boolean> {
    const used = await this.auth.records.consume<PendingAuthorization>(KIND, sha256(id));
    return used?.first ?? false;
  }
}

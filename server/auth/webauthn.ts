// The WebAuthn relying party of the sign-in pages (passkeys, via @simplewebauthn/server): registration and
// authentication options whose challenge is kept server-side, bound to the login session and used once, and
// the verification of the browser's answer against the auth base URL's origin and host name.
import crypto from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { sha256 } from './crypto';
import type { AuthRecords } from './records/port';
import type { Passkey, User } from './users';

const KIND = 'webauthn-challenge';
const RP_NAME = 'HMS';
/** How long the browser waits for the user to touch the sensor. */
const CEREMONY_TIMEOUT_MS = 120_000;
const CHALLENGE_TTL_MS = CEREMONY_TIMEOUT_MS + 30_000;

type Purpose = 'register' | 'login';

interface Challenge {
  purpose: Purpose;
  username: string;
  challenge: string;
}

/** `no-challenge`: nothing was asked in this session (or it expired, or was answered); start again. */
export type Verified<T> = { ok: true; value: T } | { ok: false; reason: 'no-challenge' | 'refused' };

export class PasskeyRelyingParty {
  readonly rpID: string;
  readonly origin: string;

  constructor(
    private readonly records: AuthRecords,
    /** The authorization server's base URL: passkeys belong to its host name and origin. */
    authBase: string,
  ) {
    const url = new URL(authBase);
    this.rpID = url.hostname;
    this.origin = url.origin;
  }

  async registrationOptions(sessionId: string, user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: this.rpID,
      userName: user.username,
      userID: userHandle(user.username),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: user.passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.remember(sessionId, { purpose: 'register', username: user.username, challenge: options.challenge });
    return options;
  }

  /** The new passkey, when the browser's answer verifies against this session's registration challenge. */
  async verifyRegistration(sessionId: string, user: User, response: unknown): Promise<Verified<Passkey>> {
    const expectedChallenge = await this.take(sessionId, 'register', user.username);
    if (!expectedChallenge) return { ok: false, reason: 'no-challenge' };
    const result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpID,
      requireUserVerification: false,
    }).catch(() => undefined);
    if (!result?.verified) return { ok: false, reason: 'refused' };
    const { credential } = result.registrationInfo;
    return {
      ok: true,
      value: {
        id: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        ...(credential.transports ? { transports: credential.transports } : {}),
        createdAt: Date.now(),
      },
    };
  }

  async authenticationOptions(sessionId: string, user: User): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.rpID,
      allowCredentials: user.passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) })),
      userVerification: 'preferred',
      timeout: CEREMONY_TIMEOUT_MS,
    });
    await this.remember(sessionId, { purpose: 'login', username: user.username, challenge: options.challenge });
    return options;
  }

  /**
   * The passkey used and its new signature counter, when the answer is signed by one of the user's passkeys
   * over this session's login challenge, and the counter went up (a cloned authenticator's would not).
   */
  async verifyAuthentication(
    sessionId: string,
    user: User,
    response: unknown,
  ): Promise<Verified<{ id: string; counter: number }>> {
    const expectedChallenge = await this.take(sessionId, 'login', user.username);
    if (!expectedChallenge) return { ok: false, reason: 'no-challenge' };
    const id = (response as { id?: unknown } | null)?.id;
    const passkey = user.passkeys.find((p) => p.id === id);
    if (!passkey) return { ok: false, reason: 'refused' };
    const result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpID,
      credential: {
        id: passkey.id,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: passkey.counter,
        transports: transportsOf(passkey),
      },
      requireUserVerification: false,
    }).catch(() => undefined);
    if (!result?.verified) return { ok: false, reason: 'refused' };
    return { ok: true, value: { id: passkey.id, counter: result.authenticationInfo.newCounter } };
  }

  private async remember(sessionId: string, challenge: Challenge): Promise<void> {
    await this.records.put(KIND, {
      key: sha256(sessionId),
      value: challenge,
      expiresAt: Date.now() + CHALLENGE_TTL_MS,
    });
  }

  /** The session's challenge for this purpose and user, used up by this call. */
  private async take(sessionId: string, purpose: Purpose, username: string): Promise<string | undefined> {
    const key = sha256(sessionId);
    const consumed = await this.records.consume<Challenge>(KIND, key);
    if (!consumed?.first) return undefined;
    await this.records.delete(KIND, key);
    const { value } = consumed;
    return value.purpose === purpose && value.username === username ? value.challenge : undefined;
  }
}

/**
 * The WebAuthn user handle: stable per account, so enrolling again on the same authenticator replaces its
 * passkey instead of adding a second, and not the username itself.
 */
function userHandle(username: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(crypto.createHash('sha256').update(`hms-webauthn-user:${username}`).digest());
}

function transportsOf(passkey: Passkey): AuthenticatorTransportFuture[] | undefined {
  return passkey.transports as AuthenticatorTransportFuture[] | undefined;
}

// Staff and patient accounts: scrypt password hashes, a TOTP second factor (secret sealed under HMS_SECRET,
// codes single use), WebAuthn passkeys, lockout after repeated failures, and the FHIR resource each user is
// (fhirUser). Unknown users are answered exactly as wrong passwords are, after the same work.
import { generateSecret, generateURI, verifySync } from 'otplib';
import { decoyPasswordHash, hashPassword, verifyPassword, type SecretBox } from './crypto';
import type { AuthRecords } from './records/port';
import { ROLES } from './roles';

const KIND = 'user';
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;
const TOTP_ISSUER = 'HMS';
/** One 30 s step either side of now (RFC 6238 section 5.2). */
const TOTP_TOLERANCE_SECONDS = 30;
/** Enough for a phone, a laptop and a spare key or two; more is a sign of something wrong. */
export const MAX_PASSKEYS = 10;

export interface Passkey {
  /** base64url credential id */
  id: string;
  /** base64url COSE public key */
  publicKey: string;
  counter: number;
  transports?: string[];
  createdAt?: number;
  lastUsedAt?: number;
}

export interface User {
  username: string;
  role: string;
  /** `Practitioner/12` or `Patient/34`. */
  fhirUser?: string;
  passwordHash: string;
  totp?: { sealedSecret: string; lastStep?: number };
  passkeys: Passkey[];
  disabled: boolean;
  failedLogins: number;
  lockedUntil?: number;
  createdAt: number;
}

export interface NewUser {
  username: string;
  role: string;
  fhirUser?: string;
  password: string;
}

export class UserError extends Error {}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 12;

export type PasswordCheck = { ok: true; user: User } | { ok: false; locked: boolean };

export class UserDirectory {
  constructor(
    private readonly records: AuthRecords,
    private readonly box: SecretBox,
  ) {}

  /** Creates a user; staff get a TOTP secret, returned once as an otpauth:// enrolment URI. */
  async add(input: NewUser): Promise<{ user: User; totpUri?: string }> {
    if (!USERNAME.test(input.username ?? '')) {
      throw new UserError('The username must be 1-64 characters of letters, digits and . _ @ -');
    }
    const policy = ROLES[input.role];
    if (!policy) throw new UserError(`Unknown role ${input.role}; roles: ${Object.keys(ROLES).join(', ')}`);
    if ((input.password ?? '').length < MIN_PASSWORD_LENGTH) {
      throw new UserError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    if (
      input.fhirUser &&
      !/^(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)\/[A-Za-z0-9.-]{1,64}$/.test(input.fhirUser)
    ) {
      throw new UserError('fhirUser must be a Practitioner/ID or Patient/ID reference');
    }
    const user: User = {
      username: input.username,
      role: input.role,
      ...(input.fhirUser ? { fhirUser: input.fhirUser } : {}),
      passwordHash: await hashPassword(input.password),
      passkeys: [],
      disabled: false,
      failedLogins: 0,
      createdAt: Date.now(),
    };
    const secret = policy.staff ? generateSecret() : undefined;
    if (secret) user.totp = { sealedSecret: this.box.seal(secret) };
    if (!(await this.records.insert<User>(KIND, { key: user.username, value: user }))) {
      throw new UserError(`A user named ${user.username} exists`);
    }
    return { user, ...(secret ? { totpUri: totpUri(user.username, secret) } : {}) };
  }

  async get(username: string): Promise<User | undefined> {
    if (!USERNAME.test(username)) return undefined;
    return this.records.get<User>(KIND, username);
  }

  async list(): Promise<User[]> {
    return (await this.records.list<User>(KIND)).map((r) => r.value);
  }

  async save(user: User): Promise<void> {
    await this.records.put<User>(KIND, { key: user.username, value: user });
  }

  async setDisabled(username: string, disabled: boolean): Promise<User | undefined> {
    const user = await this.get(username);
    if (!user) return undefined;
    await this.save({ ...user, disabled });
    return user;
  }

  /** A new TOTP secret (the old one stops working); returns the enrolment URI. */
  async resetTotp(username: string): Promise<string | undefined> {
    const user = await this.get(username);
    if (!user) return undefined;
    const secret = generateSecret();
    await this.save({ ...user, totp: { sealedSecret: this.box.seal(secret) } });
    return totpUri(username, secret);
  }

  /**
   * Checks a password. Unknown, disabled and locked users cost the same scrypt work and get the same answer
   * as a wrong password, so neither the answer nor its timing tells whether an account exists.
   */
  async checkPassword(username: string, password: string): Promise<PasswordCheck> {
    const user = typeof username === 'string' ? await this.get(username) : undefined;
    const hash = user?.passwordHash ?? (await decoyPasswordHash());
    const matches = await verifyPassword(typeof password === 'string' ? password : '', hash);
    if (!user || user.disabled) return { ok: false, locked: false };
    if (user.lockedUntil !== undefined && user.lockedUntil > Date.now()) return { ok: false, locked: true };
    if (!matches) {
      await this.recordFailure(user);
      return { ok: false, locked: false };
    }
    if (user.failedLogins > 0 || user.lockedUntil !== undefined) {
      const { lockedUntil: _cleared, ...rest } = user;
      await this.save({ ...rest, failedLogins: 0 });
    }
    return { ok: true, user };
  }

  /** Checks a TOTP code; each accepted time step is used once. Failures count towards the lockout. */
  async checkTotp(username: string, code: string): Promise<boolean> {
    const user = await this.get(username);
    if (!user?.totp || typeof code !== 'string' || !/^\d{6}$/.test(code)) {
      if (user) await this.recordFailure(user);
      return false;
    }
    if (user.lockedUntil !== undefined && user.lockedUntil > Date.now()) return false;
    const result = verifySync({
      secret: this.box.open(user.totp.sealedSecret),
      token: code,
      epochTolerance: TOTP_TOLERANCE_SECONDS,
      ...(user.totp.lastStep !== undefined ? { afterTimeStep: user.totp.lastStep } : {}),
    });
    if (!result.valid) {
      await this.recordFailure(user);
      return false;
    }
    await this.save({ ...user, failedLogins: 0, totp: { ...user.totp, lastStep: acceptedStep(result) } });
    return true;
  }

  /** Adds a verified passkey; false when the user is gone, has it already or has too many. */
  async addPasskey(username: string, passkey: Passkey): Promise<boolean> {
    const user = await this.get(username);
    if (!user || user.passkeys.length >= MAX_PASSKEYS || user.passkeys.some((p) => p.id === passkey.id)) return false;
    await this.save({ ...user, passkeys: [...user.passkeys, passkey] });
    return true;
  }

  async removePasskey(username: string, id: string): Promise<boolean> {
    const user = await this.get(username);
    if (!user?.passkeys.some((p) => p.id === id)) return false;
    await this.save({ ...user, passkeys: user.passkeys.filter((p) => p.id !== id) });
    return true;
  }

  /** A passkey sign-in passed: its new signature counter is kept and the failure count cleared. */
  async passkeyUsed(username: string, id: string, counter: number): Promise<void> {
    const user = await this.get(username);
    if (!user) return;
    const passkeys = user.passkeys.map((p) => (p.id === id ? { ...p, counter, lastUsedAt: Date.now() } : p));
    await this.save({ ...user, passkeys, failedLogins: 0 });
  }

  /** A failed second factor other than TOTP (a passkey): counts towards the lockout like a wrong code. */
  async recordFailedLogin(username: string): Promise<void> {
    const user = await this.get(username);
    if (user) await this.recordFailure(user);
  }

  /** The TOTP secret, for tests and enrolment screens only. */
  totpSecret(user: User): string | undefined {
    return user.totp ? this.box.open(user.totp.sealedSecret) : undefined;
  }

  private async recordFailure(user: User): Promise<void> {
    const failedLogins = user.failedLogins + 1;
    const locked = failedLogins >= MAX_FAILED_LOGINS;
    await this.save({
      ...user,
      failedLogins: locked ? 0 : failedLogins,
      ...(locked ? { lockedUntil: Date.now() + LOCKOUT_MS } : {}),
    });
  }
}

export function isLocked(user: User): boolean {
  return user.lockedUntil !== undefined && user.lockedUntil > Date.now();
}

export function totpUri(username: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: username, secret });
}

/** The time step the accepted code belongs to (the verify result's union type hides it for HOTP). */
function acceptedStep(result: object): number {
  return (result as { timeStep?: number }).timeStep ?? Math.floor(Date.now() / 30_000);
}

// What every page handler shares: the auth service, the repository services (for the patient picker), the
// pending requests, the login throttle, the passkey relying party, and small helpers for form parameters,
// CSRF and the session.
import type { Request, Response } from 'express';
import type { AccessContext } from '../../../resources/access';
import type { RepositoryServices } from '../../../resources/repository';
import { randomToken, safeEqual } from '../crypto';
import { ROLES } from '../roles';
import { grantsOf } from '../scopes';
import type { AuthAudit } from '../audit';
import type { AuthService } from '../service';
import type { Session } from '../sessions';
import type { User } from '../users';
import type { PasskeyRelyingParty } from '../webauthn';
import { CSRF_COOKIE, SESSION_COOKIE, readCookie, setCookie } from './cookies';
import type { LoginThrottle } from './throttle';
import type { PendingAuthorizations } from './pending';

export interface PagesContext {
  auth: AuthService;
  services: RepositoryServices;
  pending: PendingAuthorizations;
  throttle: LoginThrottle;
  passkeys: PasskeyRelyingParty;
  /** Cookies get `Secure` when the server is reached over https. */
  secure: boolean;
  audit: AuthAudit;
}

/** A sign-in step in the audit trail: who tried (the username they gave), from where, and how it ended. */
export async function auditSignIn(
  ctx: PagesContext,
  req: Request,
  username: string,
  subtype: 'login' | 'logout' | 'revoke',
  failure?: string,
): Promise<void> {
  const access: AccessContext = {
    actor: username ? `user/${username}` : 'anonymous',
    ...(username ? { userId: username } : {}),
    ip: clientIp(req),
  };
  await ctx.audit(access, { subtype, outcome: failure ? '4' : '0', ...(failure ? { outcomeText: failure } : {}) });
}

/** A parameter given exactly once as a string; a repeated or structured one is `DUPLICATE`. */
export const DUPLICATE = Symbol('duplicate');
export type Param = string | undefined | typeof DUPLICATE;

export function paramOf(params: Record<string, unknown>, name: string): Param {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : DUPLICATE;
}

/** A form field as a string ('' when absent or repeated). */
export function field(req: Request, name: string): string {
  const value = paramOf(bodyOf(req), name);
  return typeof value === 'string' ? value : '';
}

export function bodyOf(req: Request): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

export function sameToken(expected: string | undefined, given: string): boolean {
  return expected !== undefined && given.length > 0 && safeEqual(expected, given);
}

/** The pre-login CSRF token: the double-submit cookie's value, set when absent. */
export function preLoginCsrf(ctx: PagesContext, req: Request, res: Response): string {
  const existing = readCookie(req, CSRF_COOKIE);
  if (existing) return existing;
  const token = randomToken(24);
  setCookie(res, CSRF_COOKIE, token, ctx.secure);
  return token;
}

export interface LiveSession {
  id: string;
  session: Session;
}

/** The browser's live session, its idle clock restarted. */
export async function liveSession(ctx: PagesContext, req: Request): Promise<LiveSession | undefined> {
  const id = readCookie(req, SESSION_COOKIE);
  const session = await ctx.auth.sessions.touch(id);
  return id && session ? { id, session } : undefined;
}

/** Staff always need a second factor; patients when they enrolled one (TOTP or a passkey). */
export function needsSecondFactor(user: User): boolean {
  return (ROLES[user.role]?.staff ?? true) || user.totp !== undefined || user.passkeys.length > 0;
}

/** What a signed-in user may look up in the pages themselves (the patient picker): their role's user/ scopes. */
export function userAccess(user: User): AccessContext {
  return {
    actor: `user/${user.username}`,
    grants: grantsOf(ROLES[user.role]?.userScopes ?? []),
    userId: user.username,
    role: user.role,
    ...(user.fhirUser ? { fhirUser: user.fhirUser } : {}),
  };
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

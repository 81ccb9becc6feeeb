// A passkey as the second factor, instead of a TOTP code, for users who enrolled one: the pending session
// (password passed) asks for a challenge, the browser signs it, and a verified answer ends the session and
// starts an authenticated one under a new id, as a TOTP code does. Failures count towards the lockout.
import type { Request, Response } from 'express';
import { isLocked } from '../users';
import { auditSignIn, clientIp } from './context';
import { jsonSession, jsonString, sendJson } from './json-api';
import { TOO_MANY_ATTEMPTS, nextUrl, startSession } from './login';
import type { PagesContext } from './context';

const REFUSED = 'That passkey did not work. Try again, or use a code from your authenticator app.';

/** POST /auth/login/passkey/options: the WebAuthn request options for the session's user. */
export async function passkeyLoginOptions(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await jsonSession(ctx, req, res);
  if (!live) return;
  if (live.session.authenticated) return sendJson(res, 200, { redirect: nextUrl(jsonString(req, 'request')) });
  const user = await ctx.auth.users.get(live.session.username);
  if (!user || user.passkeys.length === 0) return sendJson(res, 400, { error: 'You have no passkey yet.' });
  sendJson(res, 200, { ...(await ctx.passkeys.authenticationOptions(live.id, user)) });
}

/** POST /auth/login/passkey: `{ request, credential }`, the browser's answer to the challenge. */
export async function loginWithPasskey(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const requestId = jsonString(req, 'request');
  const live = await jsonSession(ctx, req, res);
  if (!live) return;
  if (live.session.authenticated) return sendJson(res, 200, { redirect: nextUrl(requestId) });
  const address = clientIp(req);
  if (ctx.throttle.blocked(address)) {
    res.setHeader('Retry-After', '60');
    return sendJson(res, 429, { error: TOO_MANY_ATTEMPTS });
  }
  const user = await ctx.auth.users.get(live.session.username);
  if (!user || user.disabled) return sendJson(res, 401, { error: REFUSED });
  const credential = (req.body as Record<string, unknown> | undefined)?.credential;
  const result = await ctx.passkeys.verifyAuthentication(live.id, user, credential);
  if (!result.ok && result.reason === 'no-challenge') {
    return sendJson(res, 400, { error: 'The passkey request had expired. Try again.' });
  }
  if (!result.ok || isLocked(user)) {
    ctx.throttle.fail(address);
    if (!isLocked(user)) await ctx.auth.users.recordFailedLogin(user.username);
    await auditSignIn(ctx, req, user.username, 'login', 'passkey refused');
    return sendJson(res, 401, { error: REFUSED });
  }
  await ctx.auth.users.passkeyUsed(user.username, result.value.id, result.value.counter);
  await startSession(ctx, req, res, user.username, true);
  await auditSignIn(ctx, req, user.username, 'login');
  sendJson(res, 200, { redirect: nextUrl(requestId) });
}

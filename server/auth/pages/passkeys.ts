// Passkey enrolment for a signed-in user: GET /auth/passkeys lists the user's passkeys with a button to add
// one (the browser creates it, POST /auth/passkeys/options and POST /auth/passkeys check and store it) and a
// form to remove each. Every change needs the session's CSRF token.
import type { Request, Response } from 'express';
import type { Passkey, User } from '../users';
import { field, liveSession, sameToken, type LiveSession, type PagesContext } from './context';
import { hiddenField, html, seeOther, sendErrorPage, sendPage, type Html } from './html';
import { jsonSession, sendJson } from './json-api';

const PAGE = '/auth/passkeys';

/** The signed-in user of a live, fully authenticated session. */
async function signedInUser(ctx: PagesContext, live: LiveSession | undefined): Promise<User | undefined> {
  if (!live?.session.authenticated) return undefined;
  const user = await ctx.auth.users.get(live.session.username);
  return user && !user.disabled ? user : undefined;
}

/** GET /auth/passkeys */
export async function showPasskeys(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  const user = await signedInUser(ctx, live);
  if (!live || !user) return seeOther(res, '/auth/login');
  const done = String(req.query.done);
  const notice = Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
  const body = html`<h1>Passkeys</h1>
    <p>
      A passkey lets you sign in with your fingerprint, face or screen lock instead of a code from your authenticator
      app.
    </p>
    ${notice ? html`<p class="success" role="status">${notice}</p>` : ''}
    <h2>Your passkeys</h2>
    ${
      user.passkeys.length === 0
        ? html`<p class="muted">You have no passkeys yet.</p>`
        : html`<ul class="items">
            ${user.passkeys.map((p, i) => passkeyItem(p, i, live.session.csrf))}
          </ul>`
    }
    <p class="error" id="passkey-status" role="alert" hidden></p>
    <button type="button" id="passkey" data-mode="register" data-csrf="${live.session.csrf}" hidden>
      Add a passkey
    </button>
    <p class="notice" id="passkey-unsupported">This browser cannot make passkeys.</p>
    <p class="back"><a href="/auth/login">Back</a></p>`;
  sendPage(res, { title: 'Passkeys', body, scripts: true });
}

const NOTICES: Record<string, string> = {
  added: 'Your passkey was added. Next time, use it after your password.',
  removed: 'The passkey was removed.',
};

function passkeyItem(passkey: Passkey, index: number, csrf: string): Html {
  const used = passkey.lastUsedAt ? `last used ${day(passkey.lastUsedAt)}` : 'not used yet';
  return html`<li>
    <span
      ><strong>Passkey ${index + 1}</strong><br /><span class="muted"
        >${passkey.createdAt ? `Added ${day(passkey.createdAt)}, ` : ''}${used}</span
      ></span
    >
    <form method="post" action="/auth/passkeys/remove">
      ${hiddenField('csrf', csrf)} ${hiddenField('id', passkey.id)}
      <button type="submit" class="secondary" aria-label="Remove passkey ${index + 1}">Remove</button>
    </form>
  </li>`;
}

function day(epochMs: number): string {
  return new Date(epochMs).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

/** POST /auth/passkeys/options: WebAuthn creation options for the signed-in user. */
export async function passkeyRegistrationOptions(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await jsonSession(ctx, req, res);
  if (!live) return;
  const user = await signedInUser(ctx, live);
  if (!user) return sendJson(res, 403, { error: 'Finish signing in first.' });
  sendJson(res, 200, { ...(await ctx.passkeys.registrationOptions(live.id, user)) });
}

/** POST /auth/passkeys: `{ credential }`, the new passkey, verified against the session's challenge. */
export async function addPasskey(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await jsonSession(ctx, req, res);
  if (!live) return;
  const user = await signedInUser(ctx, live);
  if (!user) return sendJson(res, 403, { error: 'Finish signing in first.' });
  const credential = (req.body as Record<string, unknown> | undefined)?.credential;
  const result = await ctx.passkeys.verifyRegistration(live.id, user, credential);
  if (!result.ok) {
    const error =
      result.reason === 'no-challenge'
        ? 'The passkey request had expired. Try again.'
        : 'The passkey could not be checked. Try again.';
    return sendJson(res, 400, { error });
  }
  if (!(await ctx.auth.users.addPasskey(user.username, result.value))) {
    return sendJson(res, 409, { error: 'This passkey cannot be added: it is there already, or you have too many.' });
  }
  sendJson(res, 201, { redirect: `${PAGE}?done=added` });
}

/** POST /auth/passkeys/remove (a form). */
export async function removePasskey(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  const user = await signedInUser(ctx, live);
  if (!live || !user) return seeOther(res, '/auth/login');
  if (!sameToken(live.session.csrf, field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The form had expired. Reload the page and try again.');
  }
  await ctx.auth.users.removePasskey(user.username, field(req, 'id'));
  seeOther(res, `${PAGE}?done=removed`);
}

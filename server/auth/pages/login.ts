// Sign-in: username and password, then a second factor for staff (and patients who enrolled one): a TOTP code
// or a passkey (passkey-login.ts). Every failed password gets the same message whatever the reason (unknown
// user, wrong password, disabled or locked account), and each factor passed starts a new session.
import type { Request, Response } from 'express';
import { ROLES } from '../roles';
import { CSRF_COOKIE, SESSION_COOKIE, readCookie, setCookie } from './cookies';
import {
  clientIp,
  field,
  liveSession,
  needsSecondFactor,
  preLoginCsrf,
  sameToken,
  auditSignIn,
  type LiveSession,
  type PagesContext,
} from './context';
import { hiddenField, html, seeOther, sendErrorPage, sendPage, type Html } from './html';

export const WRONG_LOGIN = 'Wrong username or password';
export const TOO_MANY_ATTEMPTS = 'Too many attempts from this network. Wait a minute, then try again.';

/** Where the browser goes after each sign-in step: the pending request, or the sign-in status page. */
export function nextUrl(requestId: string): string {
  return requestId ? `/auth/authorize/${encodeURIComponent(requestId)}` : '/auth/login';
}

/**
 * The origins a page's forms may end up at: the app of the pending request, since a sign-in step's POST is
 * answered with redirects that end there when the request fails or completes (CSP form-action covers them).
 */
export async function requestOrigins(ctx: PagesContext, requestId: string): Promise<string[]> {
  const pending = requestId ? await ctx.pending.get(requestId) : undefined;
  return pending ? [new URL(pending.redirectUri).origin] : [];
}

export async function renderLogin(
  ctx: PagesContext,
  req: Request,
  res: Response,
  options: { requestId: string; clientId?: string; error?: string; status?: number; username?: string },
): Promise<void> {
  const csrf = preLoginCsrf(ctx, req, res);
  const body = html`<h1>Sign in</h1>
    ${options.clientId ? html`<p>to continue to <strong>${options.clientId}</strong></p>` : ''}
    ${errorBox(options.error)}
    <form method="post" action="/auth/login">
      ${hiddenField('csrf', csrf)} ${hiddenField('request', options.requestId)}
      <label for="username">Username</label>
      <input
        id="username"
        name="username"
        type="text"
        autocomplete="username"
        autocapitalize="none"
        spellcheck="false"
        required
        value="${options.username ?? ''}"
      />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit">Sign in</button>
    </form>`;
  sendPage(res, {
    title: 'Sign in',
    body,
    status: options.status,
    formOrigins: await requestOrigins(ctx, options.requestId),
  });
}

export interface SecondFactorOptions {
  requestId: string;
  csrf: string;
  /** The user has a TOTP secret: show the code form. */
  totp: boolean;
  /** The user has a passkey: show the passkey button (made visible by the script where passkeys work). */
  passkey: boolean;
  error?: string;
  status?: number;
  formOrigins?: string[];
}

/** The second-factor step: a passkey button and a TOTP code form, for the factors the user has. */
export function renderSecondFactor(res: Response, options: SecondFactorOptions): void {
  const { requestId, csrf } = options;
  const submit = options.passkey
    ? html`<button type="submit" class="secondary">Continue</button>`
    : html`<button type="submit">Continue</button>`;
  const codeForm = html`<form method="post" action="/auth/login/totp">
    ${hiddenField('csrf', csrf)} ${hiddenField('request', requestId)}
    <label for="code">6-digit code</label>
    <input
      id="code"
      name="code"
      type="text"
      inputmode="numeric"
      pattern="[0-9]{6}"
      maxlength="6"
      autocomplete="one-time-code"
      required
    />
    ${submit}
  </form>`;
  if (!options.passkey) {
    const body = html`<h1>Enter your sign-in code</h1>
      <p>Open your authenticator app and enter the 6-digit code for HMS.</p>
      ${errorBox(options.error)} ${codeForm}`;
    return sendPage(res, { title: 'Sign-in code', body, status: options.status, formOrigins: options.formOrigins });
  }
  const body = html`<h1>Confirm it is you</h1>
    <p>Use your passkey: your fingerprint, face or screen lock.</p>
    ${errorBox(options.error)}
    <p class="error" id="passkey-status" role="alert" hidden></p>
    <button type="button" id="passkey" data-mode="login" data-csrf="${csrf}" data-request="${requestId}" hidden>
      Use a passkey
    </button>
    <p class="notice" id="passkey-unsupported">
      This browser cannot use passkeys.${options.totp ? ' Enter a code from your authenticator app instead.' : ''}
    </p>
    ${
      options.totp
        ? html`<p class="or">or</p>
            <p>Enter the 6-digit code from your authenticator app.</p>
            ${codeForm}`
        : ''
    }`;
  sendPage(res, {
    title: 'Confirm it is you',
    body,
    status: options.status,
    scripts: true,
    formOrigins: options.formOrigins,
  });
}

/** The second-factor step for the session's user. */
export async function showSecondFactor(
  ctx: PagesContext,
  res: Response,
  live: LiveSession,
  options: { requestId: string; error?: string; status?: number },
): Promise<void> {
  const user = await ctx.auth.users.get(live.session.username);
  renderSecondFactor(res, {
    ...options,
    formOrigins: await requestOrigins(ctx, options.requestId),
    csrf: live.session.csrf,
    totp: user?.totp !== undefined,
    passkey: (user?.passkeys.length ?? 0) > 0,
  });
}

export function errorBox(message: string | undefined): Html | string {
  return message ? html`<p class="error" role="alert">${message}</p>` : '';
}

/** POST /auth/login: the password step. */
export async function loginWithPassword(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const requestId = field(req, 'request');
  if (!sameToken(readCookie(req, CSRF_COOKIE), field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The sign-in form had expired. Reload the page and sign in.');
  }
  const address = clientIp(req);
  const username = field(req, 'username');
  if (ctx.throttle.blocked(address)) {
    res.setHeader('Retry-After', '60');
    return renderLogin(ctx, req, res, { requestId, error: TOO_MANY_ATTEMPTS, status: 429, username });
  }
  const check = await ctx.auth.users.checkPassword(username, field(req, 'password'));
  if (!check.ok) {
    ctx.throttle.fail(address);
    await auditSignIn(ctx, req, username, 'login', check.locked ? 'account locked' : 'password refused');
    return renderLogin(ctx, req, res, { requestId, error: WRONG_LOGIN, status: 401, username });
  }
  const complete = !needsSecondFactor(check.user);
  await startSession(ctx, req, res, check.user.username, complete);
  if (complete) await auditSignIn(ctx, req, check.user.username, 'login');
  seeOther(res, nextUrl(requestId));
}

/** POST /auth/login/totp: the second factor, on the session the password step started. */
export async function loginWithTotp(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const requestId = field(req, 'request');
  const live = await liveSession(ctx, req);
  if (!live) {
    return renderLogin(ctx, req, res, { requestId, error: 'Your sign-in expired. Please sign in again.', status: 401 });
  }
  if (!sameToken(live.session.csrf, field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The form had expired. Reload the page and try again.');
  }
  if (live.session.authenticated) return seeOther(res, nextUrl(requestId));
  const address = clientIp(req);
  if (ctx.throttle.blocked(address)) {
    res.setHeader('Retry-After', '60');
    return showSecondFactor(ctx, res, live, { requestId, error: TOO_MANY_ATTEMPTS, status: 429 });
  }
  if (!(await ctx.auth.users.checkTotp(live.session.username, field(req, 'code').trim()))) {
    ctx.throttle.fail(address);
    await auditSignIn(ctx, req, live.session.username, 'login', 'TOTP code refused');
    const error = 'That code did not work. Enter the newest code from your authenticator app.';
    return showSecondFactor(ctx, res, live, { requestId, error, status: 401 });
  }
  await startSession(ctx, req, res, live.session.username, true);
  await auditSignIn(ctx, req, live.session.username, 'login');
  seeOther(res, nextUrl(requestId));
}

/** Ends the browser's current session, if any, and starts a new one under a new id. */
export async function startSession(
  ctx: PagesContext,
  req: Request,
  res: Response,
  username: string,
  authenticated: boolean,
): Promise<void> {
  const previous = readCookie(req, SESSION_COOKIE);
  if (previous) await ctx.auth.sessions.end(previous);
  const { id } = await ctx.auth.sessions.create(username, authenticated);
  setCookie(res, SESSION_COOKIE, id, ctx.secure);
}

/** GET /auth/login: sign in without an app (for the hospital's own pages), or see who is signed in. */
export async function loginStatus(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  if (!live) return renderLogin(ctx, req, res, { requestId: '' });
  if (!live.session.authenticated) return showSecondFactor(ctx, res, live, { requestId: '' });
  const user = await ctx.auth.users.get(live.session.username);
  const role = user ? ROLES[user.role] : undefined;
  const body = html`<h1>You are signed in</h1>
    <p>Signed in as <strong>${live.session.username}</strong>${role?.staff ? ' (staff)' : ''}.</p>
    <p><a href="/auth/passkeys">Passkeys</a>: sign in with your fingerprint, face or screen lock.</p>
    <p><a href="/auth/apps">Connected apps</a>: see and revoke the apps you allowed.</p>
    <form method="post" action="/auth/logout">
      ${hiddenField('csrf', live.session.csrf)}
      <button type="submit">Sign out</button>
    </form>`;
  sendPage(res, { title: 'Signed in', body });
}

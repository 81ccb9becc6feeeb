// EHR launch from the hospital's own pages, and sign-out. GET /auth/launch shows a confirmation whose form
// (CSRF-protected) posts to POST /auth/launch, which makes a single-use launch handle bound to the signed-in
// staff user, the app and the patient, and sends the browser to the app's launch URL.
import type { Request, Response } from 'express';
import { Repository } from '../../../resources/repository';
import { ROLES } from '../roles';
import { SESSION_COOKIE, clearCookie } from './cookies';
import { auditSignIn, field, liveSession, sameToken, userAccess, type LiveSession, type PagesContext } from './context';
import { hiddenField, html, sendErrorPage, sendPage, setPageHeaders } from './html';

const ID = /^[A-Za-z0-9.-]{1,64}$/;

interface LaunchRequest {
  clientId: string;
  patient: string;
  encounter?: string;
}

/** The signed-in staff user's session, or an error page. */
async function staffSession(ctx: PagesContext, req: Request, res: Response): Promise<LiveSession | undefined> {
  const live = await liveSession(ctx, req);
  const user = live?.session.authenticated ? await ctx.auth.users.get(live.session.username) : undefined;
  if (!live || !user || user.disabled) {
    sendErrorPage(res, 401, 'Please sign in', 'Sign in to the hospital system, then open the app again.');
    return undefined;
  }
  if (!ROLES[user.role]?.staff) {
    sendErrorPage(res, 403, 'Not available', 'Only hospital staff can open apps for a patient.');
    return undefined;
  }
  return live;
}

function launchRequest(params: Record<string, unknown>): LaunchRequest | undefined {
  const text = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : '');
  const clientId = text('client_id');
  const patient = text('patient');
  const encounter = text('encounter');
  if (!clientId || !ID.test(patient) || (encounter && !ID.test(encounter))) return undefined;
  return { clientId, patient, ...(encounter ? { encounter } : {}) };
}

/** GET /auth/launch?client_id&patient[&encounter]: asks the user to confirm opening the app. */
export async function confirmLaunch(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await staffSession(ctx, req, res);
  if (!live) return;
  const launch = launchRequest(req.query as Record<string, unknown>);
  if (!launch) return sendErrorPage(res, 400, 'Cannot open the app', 'The app, patient or visit is missing.');
  const body = html`<h1>Open <strong>${launch.clientId}</strong>?</h1>
    <p>
      The app will open with <strong>Patient/${launch.patient}</strong>${
        launch.encounter ? html` and visit <strong>Encounter/${launch.encounter}</strong>` : ''
      }.
    </p>
    <form method="post" action="/auth/launch">
      ${hiddenField('csrf', live.session.csrf)} ${hiddenField('client_id', launch.clientId)}
      ${hiddenField('patient', launch.patient)} ${launch.encounter ? hiddenField('encounter', launch.encounter) : ''}
      <button type="submit">Open the app</button>
    </form>`;
  // The form's POST redirects to the app's launch URL: CSP form-action must allow that origin (Chromium checks
  // redirects), as the consent page allows the redirect URI's.
  const launchUrl = (await ctx.auth.clients.get(launch.clientId))?.launchUrl;
  sendPage(res, { title: 'Open app', body, formOrigins: launchUrl ? [new URL(launchUrl).origin] : [] });
}

/** POST /auth/launch */
export async function launchApp(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await staffSession(ctx, req, res);
  if (!live) return;
  if (!sameToken(live.session.csrf, field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The form had expired. Reload the page and try again.');
  }
  const launch = launchRequest((req.body ?? {}) as Record<string, unknown>);
  const client = launch ? await ctx.auth.clients.get(launch.clientId) : undefined;
  if (!launch || !client?.active || !client.launchUrl) {
    return sendErrorPage(res, 400, 'Cannot open the app', 'The app is not registered for launching from here.');
  }
  if (!(await patientVisible(ctx, live, launch.patient))) {
    return sendErrorPage(res, 404, 'Cannot open the app', 'That patient record could not be opened.');
  }
  const handle = await ctx.auth.tokens.createLaunch({ username: live.session.username, ...launch });
  const url = new URL(client.launchUrl);
  url.searchParams.set('iss', ctx.auth.settings.baseUrl);
  url.searchParams.set('launch', handle);
  setPageHeaders(res, [url.origin]);
  res.redirect(303, url.toString());
}

async function patientVisible(ctx: PagesContext, live: LiveSession, patient: string): Promise<boolean> {
  const user = await ctx.auth.users.get(live.session.username);
  if (!user) return false;
  const found = await new Repository(ctx.services, userAccess(user)).read('Patient', patient).catch(() => undefined);
  return found !== undefined && !found.deleted;
}

/** GET /auth/logout: a sign-out button (a link alone must not end a session). */
export async function confirmLogout(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  if (!live) return signedOut(res);
  const body = html`<h1>Sign out?</h1>
    <p>Signed in as <strong>${live.session.username}</strong>.</p>
    <form method="post" action="/auth/logout">
      ${hiddenField('csrf', live.session.csrf)}
      <button type="submit">Sign out</button>
    </form>`;
  sendPage(res, { title: 'Sign out', body });
}

/** POST /auth/logout */
export async function logout(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  if (!live) return signedOut(res);
  if (!sameToken(live.session.csrf, field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The form had expired. Reload the page and try again.');
  }
  await ctx.auth.sessions.end(live.id);
  await auditSignIn(ctx, req, live.session.username, 'logout');
  clearCookie(res, SESSION_COOKIE, ctx.secure);
  signedOut(res);
}

function signedOut(res: Response): void {
  sendPage(res, {
    title: 'Signed out',
    body: html`<h1>You are signed out</h1>
      <p>You can close this window.</p>`,
  });
}

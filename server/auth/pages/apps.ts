// The connected apps of a signed-in user (SMART's management_endpoint): every app they allowed, what it may
// do, and a button that revokes it at once: its tokens stop working and its refresh token is refused.
import type { Request, Response } from 'express';
import { describeScope } from './scope-text';
import type { Grant } from '../tokens';
import { auditSignIn, field, liveSession, sameToken, type PagesContext } from './context';
import { hiddenField, html, seeOther, sendErrorPage, sendPage, type Html } from './html';

export const APPS_PAGE = '/auth/apps';

/** GET /auth/apps */
export async function showApps(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  if (!live?.session.authenticated) return seeOther(res, `/auth/login`);
  const grants = await ctx.auth.tokens.grantsOf(live.session.username);
  const revoked = req.query.done === 'revoked';
  const body = html`<h1>Connected apps</h1>
    <p>These apps can reach your records because you allowed them. Revoke one and it stops at once.</p>
    ${revoked ? html`<p class="success" role="status">The app's access was revoked.</p>` : ''}
    ${
      grants.length === 0
        ? html`<p class="muted">No app has access.</p>`
        : html`<ul class="items">
            ${grants.map((g) => appItem(g, live.session.csrf))}
          </ul>`
    }
    <p class="back"><a href="/auth/login">Back</a></p>`;
  sendPage(res, { title: 'Connected apps', body });
}

function appItem(grant: Grant, csrf: string): Html {
  const scopes = grant.scope.split(' ').filter((s) => s.length > 0);
  return html`<li>
    <span
      ><strong>${grant.clientId}</strong><br /><span class="muted"
        >Allowed
        ${new Date(grant.createdAt).toLocaleDateString('en-GB', {
          day: 'numeric',
          month: 'long',
          year: 'numeric',
        })}:
        ${scopes.map((s) => describeScope(s, grant.role === 'patient')).join('; ')}</span
      ></span
    >
    <form method="post" action="${APPS_PAGE}/revoke">
      ${hiddenField('csrf', csrf)} ${hiddenField('grant', grant.id)}
      <button type="submit" class="secondary" aria-label="Revoke ${grant.clientId}">Revoke</button>
    </form>
  </li>`;
}

/** POST /auth/apps/revoke: only a grant of the signed-in user. */
export async function revokeApp(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const live = await liveSession(ctx, req);
  if (!live?.session.authenticated) return seeOther(res, `/auth/login`);
  if (!sameToken(live.session.csrf, field(req, 'csrf'))) {
    return sendErrorPage(res, 403, 'Please try again', 'The form had expired. Reload the page and try again.');
  }
  const grant = await ctx.auth.tokens.grant(field(req, 'grant'));
  if (grant && grant.userId === live.session.username && !grant.revoked) {
    await ctx.auth.tokens.revokeGrant(grant.id);
    await auditSignIn(ctx, req, live.session.username, 'revoke');
  }
  seeOther(res, `${APPS_PAGE}?done=revoked`);
}

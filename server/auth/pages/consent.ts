// The consent page: each scope the user may grant, ticked by default and each one deselectable, in plain
// language, with a clear notice for offline_access. Allow issues a code for the ticked scopes only; Deny
// sends the app access_denied.
import type { Request, Response } from 'express';
import { ROLES } from '../roles';
import { sessionDigest } from '../sessions';
import { bodyOf, type PagesContext } from './context';
import { AuthorizeError, redirectError, redirectToApp, type DecisionStep } from './authorize';
import { hiddenField, html, sendPage } from './html';
import type { PendingAuthorization } from './pending';
import { describeScope } from './scope-text';

type ConsentStep = Extract<DecisionStep, { kind: 'consent' }>;

export function renderConsent(
  res: Response,
  requestId: string,
  pending: PendingAuthorization,
  step: ConsentStep,
  /** Staff see whose record it is: name, birth date and id. */
  patientLabel?: string,
): void {
  const patientUser = !ROLES[step.user.role]?.staff;
  const offline = step.scopes.includes('offline_access');
  const choices = step.scopes.map(
    (scope, i) =>
      html`<label class="choice" for="scope-${i}"
        ><input id="scope-${i}" type="checkbox" name="scope" value="${scope}" checked /><span
          >${describeScope(scope, patientUser)}</span
        ></label
      >`,
  );
  const whose = patientUser ? 'your data' : step.patient ? "this patient's record" : 'the records you can see';
  const body = html`<h1>Allow <strong>${pending.clientId}</strong> to use ${whose}?</h1>
    <p>Signed in as <strong>${step.user.username}</strong>.</p>
    ${
      step.patient && !patientUser
        ? html`<p>Patient: <strong>${patientLabel ?? `Patient/${step.patient}`}</strong></p>`
        : ''
    }
    <form method="post" action="/auth/consent">
      ${hiddenField('csrf', step.live.session.csrf)} ${hiddenField('request', requestId)}
      <fieldset>
        <legend>This app will be able to:</legend>
        ${choices}
      </fieldset>
      <p class="muted">Untick anything you do not want to share.</p>
      ${
        offline
          ? html`<p class="notice" role="note">
              This app will keep access until you revoke it, even when you are not using it.
            </p>`
          : ''
      }
      <div class="actions">
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        <button type="submit" name="decision" value="allow">Allow</button>
      </div>
    </form>`;
  sendPage(res, { title: 'Allow access', body, formOrigins: [new URL(pending.redirectUri).origin] });
}

/** The user's decision, on a request that was still at the consent step. */
export async function decide(
  ctx: PagesContext,
  req: Request,
  res: Response,
  requestId: string,
  pending: PendingAuthorization,
  step: ConsentStep,
): Promise<void> {
  if (!(await ctx.pending.finish(requestId))) {
    throw new AuthorizeError('invalid_request', 'This authorization request was answered already');
  }
  const ticked = new Set([bodyOf(req).scope].flat().filter((s): s is string => typeof s === 'string'));
  const granted = step.scopes.filter((s) => ticked.has(s));
  if (bodyOf(req).decision !== 'allow' || granted.length === 0) {
    return redirectError(ctx, res, pending, new AuthorizeError('access_denied', 'The user did not allow access'));
  }
  const keepsPatient = granted.some((s) => s.startsWith('patient/') || s === 'launch' || s === 'launch/patient');
  const code = await ctx.auth.tokens.issueCode({
    clientId: pending.clientId,
    userId: step.user.username,
    role: step.user.role,
    ...(step.user.fhirUser ? { fhirUser: step.user.fhirUser } : {}),
    scope: granted.join(' '),
    ...(keepsPatient && step.patient ? { patient: step.patient } : {}),
    ...(keepsPatient && step.encounter ? { encounter: step.encounter } : {}),
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    ...(pending.nonce ? { nonce: pending.nonce } : {}),
    sessionId: sessionDigest(step.live.id),
    authTime: step.live.session.createdAt,
    ehrLaunch: pending.launch !== undefined,
  });
  redirectToApp(ctx, res, pending.redirectUri, { code, state: pending.state });
}

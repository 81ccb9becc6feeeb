// The steps of a pending authorization request, in the order a user meets them: sign in, second factor,
// patient (staff on a standalone launch), consent. GET /auth/authorize/{id} shows the current step; the
// patient and consent forms post here and are checked against the same state.
import type { Request, Response } from 'express';
import type { Patient } from '@medplum/fhirtypes';
import { Repository } from '../../../resources/repository';
import { ROLES } from '../roles';
import { AuthorizeError, decisionStep, redirectError, requestNotFound, type DecisionStep } from './authorize';
import { field, liveSession, sameToken, userAccess, type PagesContext } from './context';
import { decide, renderConsent } from './consent';
import { hiddenField, html, seeOther, sendErrorPage, sendPage } from './html';
import { errorBox, renderLogin, requestOrigins, showSecondFactor } from './login';
import type { PendingAuthorization } from './pending';

interface Resolved {
  pending: PendingAuthorization;
  step: DecisionStep;
}

/**
 * The request and the signed-in user's step in it; undefined when a page or redirect was already sent
 * (expired request, sign-in needed, CSRF failure, an error for the app). A form's CSRF token is checked
 * before anything else.
 */
async function resolve(
  ctx: PagesContext,
  req: Request,
  res: Response,
  requestId: string,
  csrf?: string,
): Promise<Resolved | undefined> {
  const live = await liveSession(ctx, req);
  if (csrf !== undefined && live && !sameToken(live.session.csrf, csrf)) {
    sendErrorPage(res, 403, 'Please try again', 'The form had expired. Go back, reload the page and try again.');
    return undefined;
  }
  const pending = await ctx.pending.get(requestId);
  if (!pending) {
    requestNotFound(res);
    return undefined;
  }
  if (!live) {
    await renderLogin(ctx, req, res, { requestId, clientId: pending.clientId });
    return undefined;
  }
  if (!live.session.authenticated) {
    await showSecondFactor(ctx, res, live, { requestId });
    return undefined;
  }
  const user = await ctx.auth.users.get(live.session.username);
  if (!user || user.disabled) {
    await ctx.auth.sessions.end(live.id);
    await renderLogin(ctx, req, res, { requestId, clientId: pending.clientId });
    return undefined;
  }
  try {
    if (pending.username !== undefined && pending.username !== user.username) {
      throw new AuthorizeError('access_denied', 'The request was started by another user');
    }
    if (pending.username === undefined) await ctx.pending.save(requestId, { ...pending, username: user.username });
    return { pending: { ...pending, username: user.username }, step: await decisionStep(ctx, pending, user, live) };
  } catch (error) {
    if (!(error instanceof AuthorizeError)) throw error;
    await ctx.pending.finish(requestId);
    redirectError(ctx, res, pending, error);
    return undefined;
  }
}

/** GET /auth/authorize/{id} */
export async function showStep(ctx: PagesContext, req: Request, res: Response, requestId: string): Promise<void> {
  const resolved = await resolve(ctx, req, res, requestId);
  if (!resolved) return;
  const { pending, step } = resolved;
  if (step.kind === 'consent') {
    return renderConsent(res, requestId, pending, step, await consentPatientLabel(ctx, step));
  }
  renderPicker(res, requestId, step.live.session.csrf, { formOrigins: await requestOrigins(ctx, requestId) });
}

/** POST /auth/consent */
export async function postConsent(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const requestId = field(req, 'request');
  const resolved = await resolve(ctx, req, res, requestId, field(req, 'csrf'));
  if (!resolved) return;
  const { pending, step } = resolved;
  if (step.kind !== 'consent') return seeOther(res, `/auth/authorize/${encodeURIComponent(requestId)}`);
  try {
    await decide(ctx, req, res, requestId, pending, step);
  } catch (error) {
    if (!(error instanceof AuthorizeError)) throw error;
    requestNotFound(res);
  }
}

/** POST /auth/patient: search patients by family name, or choose one. */
export async function postPatient(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const requestId = field(req, 'request');
  const csrf = field(req, 'csrf');
  const resolved = await resolve(ctx, req, res, requestId, csrf);
  if (!resolved) return;
  const { pending, step } = resolved;
  if (step.kind !== 'pick-patient') return seeOther(res, `/auth/authorize/${encodeURIComponent(requestId)}`);
  const repo = new Repository(ctx.services, userAccess(step.user));
  const chosen = field(req, 'patient');
  if (chosen) {
    const found = /^[A-Za-z0-9.-]{1,64}$/.test(chosen) && (await repo.read('Patient', chosen).catch(() => undefined));
    if (!found || found.deleted) {
      return renderPicker(res, requestId, csrf, {
        error: 'That patient record could not be opened.',
        formOrigins: await requestOrigins(ctx, requestId),
      });
    }
    await ctx.pending.save(requestId, { ...pending, patient: chosen });
    return seeOther(res, `/auth/authorize/${encodeURIComponent(requestId)}`);
  }
  const family = field(req, 'family').trim();
  if (!family) {
    const formOrigins = await requestOrigins(ctx, requestId);
    return renderPicker(res, requestId, csrf, { error: 'Enter a family name to search.', formOrigins });
  }
  const { page } = await repo.search(
    ['Patient'],
    [
      ['family', family],
      ['_count', String(PICKER_RESULTS)],
    ],
  );
  const patients = page.entries.filter((e) => e.json).map((e) => JSON.parse(e.json as string) as Patient);
  renderPicker(res, requestId, csrf, { family, patients, formOrigins: await requestOrigins(ctx, requestId) });
}

const PICKER_RESULTS = 20;

function renderPicker(
  res: Response,
  requestId: string,
  csrf: string,
  options: { family?: string; patients?: Patient[]; error?: string; formOrigins: string[] },
): void {
  const results = options.patients
    ? options.patients.length === 0
      ? html`<p>No patient found with that family name.</p>`
      : html`<form method="post" action="/auth/patient">
          ${hiddenField('csrf', csrf)} ${hiddenField('request', requestId)}
          <fieldset>
            <legend>Choose the patient</legend>
            ${options.patients.map(
              (p, i) =>
                html`<label class="choice" for="patient-${i}"
                  ><input id="patient-${i}" type="radio" name="patient" value="${p.id}" required /><span
                    >${patientLabel(p)}</span
                  ></label
                >`,
            )}
          </fieldset>
          <button type="submit">Continue with this patient</button>
        </form>`
    : '';
  const body = html`<h1>Choose a patient</h1>
    <p>The app needs a patient record to work with.</p>
    ${errorBox(options.error)}
    <form method="post" action="/auth/patient">
      ${hiddenField('csrf', csrf)} ${hiddenField('request', requestId)}
      <label for="family">Family name</label>
      <input id="family" name="family" type="search" autocomplete="off" required value="${options.family ?? ''}" />
      <button type="submit" class="secondary">Search</button>
    </form>
    ${results}`;
  sendPage(res, { title: 'Choose a patient', body, formOrigins: options.formOrigins });
}

/** The launch patient as staff see it on the consent page, read with their own role's access. */
async function consentPatientLabel(
  ctx: PagesContext,
  step: Extract<DecisionStep, { kind: 'consent' }>,
): Promise<string | undefined> {
  if (!step.patient || !ROLES[step.user.role]?.staff) return undefined;
  const found = await new Repository(ctx.services, userAccess(step.user))
    .read('Patient', step.patient)
    .catch(() => undefined);
  return found?.json ? patientLabel(JSON.parse(found.json) as Patient) : undefined;
}

function patientLabel(patient: Patient): string {
  const name = patient.name?.[0];
  const display = [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || 'Unnamed patient';
  return `${display}${patient.birthDate ? `, born ${patient.birthDate}` : ''} (Patient/${patient.id})`;
}

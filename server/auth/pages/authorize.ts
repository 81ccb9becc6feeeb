// GET and POST /auth/authorize (authorize-post): the client and its exact redirect URI are checked first and
// a failure there is our own error page, never a redirect; every later failure goes back to the app as
// `error` + `state` (RFC 6749 4.1.2.1). A valid request is stored server-side and the browser continues at
// /auth/authorize/{id}, which shows the step the user is at: sign in, second factor, patient, consent.
import type { Request, Response } from 'express';
import type { Client } from '../clients';
import { ROLES, roleCeiling } from '../roles';
import { CONTEXT_SCOPES, narrowScopes, splitScopes } from '../scopes';
import type { User } from '../users';
import { DUPLICATE, paramOf, type LiveSession, type PagesContext, type Param } from './context';
import { seeOther, sendErrorPage, setPageHeaders } from './html';
import type { PendingAuthorization } from './pending';

/** Errors the authorization endpoint sends back to the app. */
export type AuthorizeErrorCode =
  'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'access_denied' | 'unauthorized_client';

export class AuthorizeError extends Error {
  constructor(
    readonly code: AuthorizeErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export async function startAuthorization(ctx: PagesContext, req: Request, res: Response): Promise<void> {
  const params = (req.method === 'POST' ? (req.body ?? {}) : req.query) as Record<string, unknown>;
  const client = await registeredClient(ctx, paramOf(params, 'client_id'));
  const redirectUri = paramOf(params, 'redirect_uri');
  if (!client) {
    return sendErrorPage(res, 400, 'Unknown app', 'This app is not registered here, so it cannot sign you in.');
  }
  if (typeof redirectUri !== 'string' || !client.redirectUris.includes(redirectUri)) {
    return sendErrorPage(
      res,
      400,
      'Wrong return address',
      'The app asked to send you back to an address it has not registered. Nothing was shared with it.',
    );
  }
  const state = paramOf(params, 'state');
  try {
    const pending = await checkRequest(ctx, client, params, redirectUri);
    const id = await ctx.pending.create(pending);
    seeOther(res, `/auth/authorize/${id}`);
  } catch (error) {
    if (!(error instanceof AuthorizeError)) throw error;
    redirectToApp(ctx, res, redirectUri, {
      error: error.code,
      error_description: error.description,
      ...(typeof state === 'string' ? { state } : {}),
    });
  }
}

async function registeredClient(ctx: PagesContext, clientId: Param): Promise<Client | undefined> {
  if (typeof clientId !== 'string') return undefined;
  const client = await ctx.auth.clients.get(clientId);
  return client?.active && client.type !== 'backend' ? client : undefined;
}

const required = (params: Record<string, unknown>, name: string): string => {
  const value = paramOf(params, name);
  if (value === DUPLICATE) throw new AuthorizeError('invalid_request', `${name} must appear once`);
  if (!value) throw new AuthorizeError('invalid_request', `${name} is required`);
  return value;
};

const optional = (params: Record<string, unknown>, name: string): string | undefined => {
  const value = paramOf(params, name);
  if (value === DUPLICATE) throw new AuthorizeError('invalid_request', `${name} must appear once`);
  return value || undefined;
};

async function checkRequest(
  ctx: PagesContext,
  client: Client,
  params: Record<string, unknown>,
  redirectUri: string,
): Promise<PendingAuthorization> {
  const responseType = required(params, 'response_type');
  if (responseType !== 'code') throw new AuthorizeError('unsupported_response_type', 'response_type must be code');
  const state = required(params, 'state');
  const aud = required(params, 'aud');
  if (withoutTrailingSlash(aud) !== withoutTrailingSlash(ctx.auth.settings.baseUrl)) {
    throw new AuthorizeError('invalid_request', `aud must be this server's FHIR base URL`);
  }
  const method = optional(params, 'code_challenge_method');
  const challenge = optional(params, 'code_challenge');
  if (method !== 'S256' || !challenge) {
    throw new AuthorizeError('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256');
  }
  if (!CHALLENGE.test(challenge)) throw new AuthorizeError('invalid_request', 'code_challenge is malformed');
  const scope = splitScopes(optional(params, 'scope'));
  if (scope.length === 0) throw new AuthorizeError('invalid_scope', 'scope is required');
  const handle = optional(params, 'launch');
  const launch = handle === undefined ? undefined : await ctx.auth.tokens.useLaunch(handle);
  if (handle !== undefined && (!launch || launch.clientId !== client.id)) {
    throw new AuthorizeError('invalid_request', 'The launch is unknown, expired, used already or for another app');
  }
  const nonce = optional(params, 'nonce');
  return {
    clientId: client.id,
    redirectUri,
    state,
    scope: scope.join(' '),
    codeChallenge: challenge,
    ...(nonce ? { nonce } : {}),
    ...(launch ? { launch } : {}),
    createdAt: Date.now(),
  };
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Sends the browser back to the app with these parameters and our issuer (RFC 9207). */
export function redirectToApp(
  ctx: PagesContext,
  res: Response,
  redirectUri: string,
  params: Record<string, string>,
): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries({ ...params, iss: ctx.auth.issuer })) url.searchParams.append(name, value);
  setPageHeaders(res, [url.origin]);
  res.redirect(303, url.toString());
}

export function redirectError(
  ctx: PagesContext,
  res: Response,
  pending: PendingAuthorization,
  error: AuthorizeError,
): void {
  redirectToApp(ctx, res, pending.redirectUri, {
    error: error.code,
    error_description: error.description,
    state: pending.state,
  });
}

/** Where a signed-in user is in a request: choosing a patient, or deciding on these scopes. */
export type DecisionStep =
  | { kind: 'pick-patient'; user: User; live: LiveSession }
  | { kind: 'consent'; user: User; live: LiveSession; scopes: string[]; patient?: string; encounter?: string };

/**
 * The scopes the user may grant this app and the patient context they need. Throws AuthorizeError when the
 * request cannot go on (another user's launch, nothing grantable, no patient record).
 */
export async function decisionStep(
  ctx: PagesContext,
  pending: PendingAuthorization,
  user: User,
  live: LiveSession,
): Promise<DecisionStep> {
  const { launch } = pending;
  if (launch && launch.username !== user.username) {
    throw new AuthorizeError('invalid_request', 'The launch was made for another user');
  }
  const client = await ctx.auth.clients.get(pending.clientId);
  if (!client?.active) throw new AuthorizeError('unauthorized_client', 'The app is no longer registered');
  const scopes = grantableScopes(pending, client, user);
  if (scopes.length === 0) throw new AuthorizeError('invalid_scope', 'None of the requested scopes can be granted');
  const needsPatient = scopes.some((s) => s.startsWith('patient/') || s === 'launch/patient');
  const patient = patientContext(pending, user, needsPatient);
  if (needsPatient && !patient) return { kind: 'pick-patient', user, live };
  return {
    kind: 'consent',
    user,
    live,
    scopes,
    ...(patient ? { patient } : {}),
    ...(launch?.encounter ? { encounter: launch.encounter } : {}),
  };
}

/** Requested ∩ the client's ceiling ∩ the user's role; launch scopes only where there is such a context. */
function grantableScopes(pending: PendingAuthorization, client: Client, user: User): string[] {
  const context = [...CONTEXT_SCOPES].filter((s) => s !== 'admin');
  const allowed = narrowScopes(narrowScopes(splitScopes(pending.scope), splitScopes(client.scope)), [
    ...roleCeiling(user.role),
    ...context,
  ]);
  return allowed.filter((s) => {
    if (s === 'launch') return pending.launch !== undefined;
    if (s === 'launch/encounter') return pending.launch?.encounter !== undefined;
    return true;
  });
}

/** The patient of the request: a patient user's own record, the EHR launch's patient, or the picked one. */
function patientContext(pending: PendingAuthorization, user: User, needsPatient: boolean): string | undefined {
  if (ROLES[user.role]?.staff) return pending.launch?.patient ?? pending.patient;
  const own = /^Patient\/([A-Za-z0-9.-]{1,64})$/.exec(user.fhirUser ?? '')?.[1];
  if (pending.launch?.patient && pending.launch.patient !== own) {
    throw new AuthorizeError('access_denied', 'A patient can only share their own record');
  }
  if (needsPatient && !own) throw new AuthorizeError('access_denied', 'This account is not linked to a patient record');
  return own;
}

export function requestNotFound(res: Response): void {
  sendErrorPage(
    res,
    400,
    'This sign-in has expired',
    'Go back to the app and start again. Sign-in requests last 15 minutes and can be used once.',
  );
}

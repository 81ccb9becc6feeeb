// Drives the authorization pages as a browser would (supertest agent keeping cookies): authorize, sign in,
// second factor, patient picker, consent, token exchange. Shared by the authorize*.test.ts files.
import crypto from 'node:crypto';
import { generateSync } from 'otplib';
import request from 'supertest';
import type { RequestListener } from 'node:http';
import { BASE_URL, createThroughApi, patient, type TestApp } from '../../support/app';

export const REDIRECT_URI = 'http://127.0.0.1:9/cb';
export const LAUNCH_URL = 'http://127.0.0.1:9/launch';
export const PASSWORD = 'correct horse battery staple';
export const CLIENT_ID = 'test-app';

export type Agent = ReturnType<typeof request.agent>;

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = crypto.randomBytes(48).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export interface World {
  p1: string;
  p2: string;
  patientUser: string;
}

/** A public client, two patients (Alpha and Beta) and a patient user who is P1. */
export async function setUpWorld(t: TestApp): Promise<World> {
  await t.auth.clients.add({ id: CLIENT_ID, type: 'public', redirectUris: [REDIRECT_URI], launchUrl: LAUNCH_URL });
  const p1 = await createThroughApi(t, patient({ name: [{ family: 'Alpha', given: ['Ann'] }] }));
  const p2 = await createThroughApi(t, patient({ name: [{ family: 'Beta', given: ['Bob'] }] }));
  await t.auth.users.add({ username: 'pat1', role: 'patient', password: PASSWORD, fhirUser: `Patient/${p1}` });
  return { p1, p2, patientUser: 'pat1' };
}

/** A new clinician (each has a fresh TOTP secret, so tests do not reuse each other's codes). */
export async function newClinician(t: TestApp, username: string): Promise<{ username: string; secret: string }> {
  const { user } = await t.auth.users.add({
    username,
    role: 'clinician',
    password: PASSWORD,
    fhirUser: 'Practitioner/pr1',
  });
  return { username, secret: t.auth.users.totpSecret(user) as string };
}

export function totp(secret: string, offsetSeconds = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSeconds });
}

export function authorizeParams(challenge: string, overrides: Record<string, string | undefined> = {}) {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'launch/patient openid fhirUser patient/*.rs',
    state: 'state-123',
    aud: BASE_URL,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** The value of a hidden (or any) input by name in a page. */
export function hidden(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`No ${name} field in the page:\n${page}`);
  return match[1];
}

export function formOf(fields: [string, string][]): string {
  return new URLSearchParams(fields).toString();
}

/** GET /auth/authorize; expects the redirect to the request's step page and returns its path. */
export async function authorize(agent: Agent, params: Record<string, string>): Promise<string> {
  const res = await agent.get('/auth/authorize').query(params);
  expect(res.status).toBe(303);
  expect(res.headers.location).toMatch(/^\/auth\/authorize\/[A-Za-z0-9_-]+$/);
  return res.headers.location as string;
}

export async function postLogin(agent: Agent, page: string, username: string, password: string) {
  return agent
    .post('/auth/login')
    .type('form')
    .send({ csrf: hidden(page, 'csrf'), request: hidden(page, 'request'), username, password });
}

/** Signs in from a login page (password, then TOTP when `secret` is given); returns the page that follows. */
export async function signIn(agent: Agent, url: string, username: string, secret?: string): Promise<request.Response> {
  let page = await agent.get(url);
  expect(page.text).toContain('Sign in');
  let res = await postLogin(agent, page.text, username, PASSWORD);
  expect(res.status).toBe(303);
  page = await agent.get(res.headers.location);
  if (secret) {
    expect(page.text).toContain('6-digit code');
    res = await agent
      .post('/auth/login/totp')
      .type('form')
      .send({ csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), code: totp(secret) });
    expect(res.status).toBe(303);
    page = await agent.get(res.headers.location);
  }
  return page;
}

export function scopesOffered(page: string): string[] {
  return [...page.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1]);
}

/** Answers the consent page; returns the redirect's URL. */
export async function consent(
  agent: Agent,
  page: string,
  options: { untick?: string[]; decision?: 'allow' | 'deny' } = {},
): Promise<URL> {
  const scopes = scopesOffered(page).filter((s) => !(options.untick ?? []).includes(s));
  const res = await agent
    .post('/auth/consent')
    .type('form')
    .send(
      formOf([
        ['csrf', hidden(page, 'csrf')],
        ['request', hidden(page, 'request')],
        ...scopes.map((s): [string, string] => ['scope', s]),
        ['decision', options.decision ?? 'allow'],
      ]),
    );
  expect(res.status).toBe(303);
  return new URL(res.headers.location);
}

export async function exchange(app: RequestListener, code: string, verifier: string | undefined, clientId = CLIENT_ID) {
  return request(app)
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
      ...(verifier !== undefined ? { code_verifier: verifier } : {}),
    });
}

/** A patient user's whole standalone launch: returns the code and the verifier. */
export async function patientCode(
  t: TestApp,
  overrides: Record<string, string> = {},
): Promise<{ code: string; verifier: string; agent: Agent }> {
  const agent = request.agent(t.app);
  const { verifier, challenge } = pkce();
  const step = await authorize(agent, authorizeParams(challenge, overrides));
  const page = await signIn(agent, step, 'pat1');
  const url = await consent(agent, page.text);
  return { code: url.searchParams.get('code') as string, verifier, agent };
}

// The world of the SMART browser tests: the real server on one loopback origin (http://127.0.0.1:<port>),
// our fhirclient test app (test/fixtures/smart-app) served on another (http://localhost:<port>) so the browser
// applies CORS, a public client registered for it, two patients, and page helpers for the sign-in steps.
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { generateSync } from 'otplib';
import type { Page } from 'playwright-core';
import { createThroughApi, patient, startTestApp, type TestApp } from '../support/app';
import { listen } from '../support/chromium';

export const CLIENT_ID = 'smart-test-app';
export const PASSWORD = 'correct horse battery staple';
/** Playwright waits: generous, for a busy 2-core machine. */
export const WAIT_MS = 60_000;
export const SCREENS_DIR = '/tmp/screens';

const APP_DIR = path.join(__dirname, '../fixtures/smart-app');
const FHIR_CLIENT_JS = require.resolve('fhirclient/build/fhir-client.js');

export interface SmartWorld {
  t: TestApp;
  /** The FHIR base URL, the `iss` of every launch. */
  fhirBase: string;
  /** The server's origin (authorization pages under /auth). */
  serverOrigin: string;
  /** The test app's origin, a different one. */
  appOrigin: string;
  /** Ann Alpha, the patient user's record and the EHR launch's patient. */
  p1: string;
  /** Bob Beta, whom no token of these tests may read. */
  p2: string;
  close(): Promise<void>;
}

export async function startSmartWorld(): Promise<SmartWorld> {
  // The port is bound before the app starts (the app needs its public URL), so no other process can take it.
  let app: RequestListener = (_req, res) => res.writeHead(503).end();
  const server = await listen((req, res) => app(req, res));
  const serverOrigin = server.url;
  const fhirBase = `${serverOrigin}/fhir`;
  const t = await startTestApp({ baseUrl: fhirBase });
  app = t.app;
  const statics = await listen(serveTestApp);
  const appOrigin = `http://localhost:${new URL(statics.url).port}`;
  await t.auth.clients.add({
    id: CLIENT_ID,
    type: 'public',
    redirectUris: [`${appOrigin}/index.html`],
    launchUrl: `${appOrigin}/launch.html`,
  });
  const p1 = await createThroughApi(t, patient({ name: [{ family: 'Alpha', given: ['Ann'] }] }));
  const p2 = await createThroughApi(t, patient({ name: [{ family: 'Beta', given: ['Bob'] }] }));
  return {
    t,
    fhirBase,
    serverOrigin,
    appOrigin,
    p1,
    p2,
    close: async () => {
      await statics.close();
      await server.close();
      await t.close();
    },
  };
}

const STATIC_FILES: Record<string, string> = {
  '/launch.html': path.join(APP_DIR, 'launch.html'),
  '/index.html': path.join(APP_DIR, 'index.html'),
  '/fhir-client.js': FHIR_CLIENT_JS,
};

function serveTestApp(req: IncomingMessage, res: ServerResponse): void {
  const file = STATIC_FILES[new URL(req.url ?? '/', 'http://app').pathname];
  if (!file || req.method !== 'GET') {
    res.writeHead(404).end();
    return;
  }
  const type = file.endsWith('.js') ? 'text/javascript' : 'text/html';
  res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(fs.readFileSync(file));
}

/** A patient user who is Ann Alpha (patients without an enrolled TOTP sign in with the password alone). */
export async function addPatientUser(world: SmartWorld, username: string): Promise<void> {
  await world.t.auth.users.add({ username, role: 'patient', password: PASSWORD, fhirUser: `Patient/${world.p1}` });
}

/** A clinician, with the TOTP secret staff always get (a fresh user per test: codes are single-use per step). */
export async function addClinician(world: SmartWorld, username: string): Promise<string> {
  const { user } = await world.t.auth.users.add({
    username,
    role: 'clinician',
    password: PASSWORD,
    fhirUser: 'Practitioner/pr1',
  });
  const secret = world.t.auth.users.totpSecret(user);
  if (!secret) throw new Error('A clinician has no TOTP secret');
  return secret;
}

export function launchUrl(world: SmartWorld, query: Record<string, string> = {}): string {
  return `${world.appOrigin}/launch.html?${new URLSearchParams({ iss: world.fhirBase, ...query })}`;
}

/** The sign-in form: waits for it, fills it and submits. */
export async function signIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.locator('#username').waitFor();
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

/** The second-factor form: waits for it and sends the current code. */
export async function enterTotp(page: Page, secret: string): Promise<void> {
  await page.locator('#code').waitFor();
  await page.fill('#code', generateSync({ secret }));
  await page.click('button[type=submit]');
}

/** The consent page: waits for it, unticks these scopes and allows the rest. Returns the scopes offered. */
export async function allowScopes(page: Page, untick: string[] = []): Promise<string[]> {
  const boxes = page.locator('input[type=checkbox][name=scope]');
  await boxes.first().waitFor();
  const offered = await boxes.evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
  for (const scope of untick) await page.uncheck(`input[name=scope][value="${scope}"]`);
  await page.click('button[name=decision][value=allow]');
  return offered;
}

/** What the test app shows once FHIR.oauth2.ready() settled: its context, or the error it got. */
export interface AppView {
  error: string;
  patientName: string;
  patientId: string;
  scope: string[];
  banner: string;
  tokenTail: string;
}

export async function appView(page: Page): Promise<AppView> {
  await page.locator('#context:not([hidden]), #error:not([hidden])').first().waitFor();
  const text = async (id: string) => ((await page.textContent(`#${id}`)) ?? '').trim();
  return {
    error: await text('error'),
    patientName: await text('patient-name'),
    patientId: await text('patient-id'),
    scope: (await text('scope')).split(/\s+/).filter(Boolean),
    banner: await text('banner'),
    tokenTail: await text('token-tail'),
  };
}

/** Asks the app to read another patient; returns what it shows ("read: <name>" or "failed: <status>"). */
export async function readOtherPatient(page: Page, id: string): Promise<string> {
  await page.fill('#other-id', id);
  await page.click('#read-other');
  const result = page.locator('#other-result');
  await page.waitForFunction(() => document.getElementById('other-result')?.textContent !== '');
  return ((await result.textContent()) ?? '').trim();
}

/** Clicks the app's refresh button; returns what it shows ("refreshed <tail> read <name>" or "failed: ..."). */
export async function refreshToken(page: Page): Promise<string> {
  await page.click('#refresh');
  await page.waitForFunction(() => document.getElementById('refresh-result')?.textContent !== '');
  return ((await page.textContent('#refresh-result')) ?? '').trim();
}

/** A full-page screenshot in /tmp/screens. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS_DIR, `${name}.png`), fullPage: true });
}

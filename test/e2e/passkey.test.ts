// A staff passkey in a real browser: Chromium with a virtual authenticator (DevTools protocol, WebAuthn
// domain) signs a clinician in with password and TOTP, enrols a passkey on /auth/passkeys, signs out, and signs
// in again with password and passkey. Screenshots of the passkey pages go to /tmp/screens/ for review.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { findFreePort } from '../bench/server-process';
import { openBrowser, type BrowserSession } from '../support/chromium';
import { startTestApp, type TestApp } from '../support/app';
import { PASSWORD, newClinician, totp } from '../server/auth/authorize-support';

const SCREENS = '/tmp/screens';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let t: TestApp;
let server: http.Server;
let browser: BrowserSession;
/** WebAuthn needs a domain: passkeys cannot belong to an IP address, so the browser uses localhost. */
let origin: string;

beforeAll(async () => {
  const port = await findFreePort('127.0.0.1');
  origin = `http://localhost:${port}`;
  t = await startTestApp({ baseUrl: `${origin}/fhir` });
  // Not chromium.ts's listen(): its dynamic import('node:http') needs --experimental-vm-modules under Jest.
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  browser = await openBrowser({ viewport: DESKTOP });
  fs.mkdirSync(SCREENS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await t?.close();
});

async function screenshots(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(SCREENS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

async function enterPassword(page: Page, username: string): Promise<void> {
  await page.goto(`${origin}/auth/login`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
}

test('a clinician enrols a passkey and signs in with password and passkey instead of TOTP', async () => {
  const { page, context } = browser;
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  const { username, secret } = await newClinician(t, 'dr-passkey');

  await enterPassword(page, username);
  await page.getByRole('heading', { name: 'Enter your sign-in code' }).waitFor();
  expect(await page.locator('#passkey').count()).toBe(0);
  await page.fill('#code', totp(secret));
  await page.click('button[type=submit]');
  await page.getByRole('heading', { name: 'You are signed in' }).waitFor();

  await page.getByRole('link', { name: 'Passkeys' }).click();
  await page.getByRole('heading', { name: 'Passkeys', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Add a passkey' }).waitFor();
  expect(await page.locator('#passkey-unsupported').isHidden()).toBe(true);
  await screenshots(page, 'passkeys-empty');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByText('Your passkey was added.').waitFor();
  await screenshots(page, 'passkeys-added');

  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].rpId).toBe('localhost');
  const stored = (await t.auth.users.get(username))?.passkeys ?? [];
  expect(stored.map((p) => p.id)).toEqual([Buffer.from(credentials[0].credentialId, 'base64').toString('base64url')]);

  await page.goto(`${origin}/auth/logout`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();

  await enterPassword(page, username);
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
  await screenshots(page, 'second-factor-passkey');
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.getByRole('heading', { name: 'You are signed in' }).waitFor();
  expect(await page.textContent('main')).toContain(username);
  expect((await t.auth.users.get(username))?.passkeys[0].lastUsedAt).toEqual(expect.any(Number));
});

// The authorization pages under their strict CSP in a real browser (Debian's Chromium): the inline style the
// CSP allows by hash is applied, and the browser reports no CSP violation on the pages with and without the
// passkey script.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBrowser, type BrowserSession } from '../../support/chromium';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
let server: http.Server;
let origin: string;
let browser: BrowserSession;

beforeAll(async () => {
  // The port is known only once listening; the pages used here do not depend on the base URL.
  t = await startTestApp();
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

test.each(['/auth/login', '/auth/apps', '/auth/logout'])('%s renders styled with no CSP violation', async (path) => {
  const { page } = browser;
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto(`${origin}${path}`);
  expect(response?.headers()['content-security-policy']).toBeDefined();
  await page.waitForLoadState('load');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(246, 247, 249)');
  expect(violations).toEqual([]);
  page.removeAllListeners('console');
});

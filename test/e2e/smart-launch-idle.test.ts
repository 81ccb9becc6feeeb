// Idle logoff in the browser: a sign-in on /auth/login lives while it is used and ends after
// SESSION_IDLE_MINUTES (15 in the test settings) without activity, so the app's next launch asks to sign in
// again. The server runs in this Jest process, so moving Date.now moves its clock (the browser's is untouched;
// Playwright's own timeouts use performance.now).
import { openBrowser, type BrowserSession } from '../support/chromium';
import {
  CLIENT_ID,
  WAIT_MS,
  addPatientUser,
  allowScopes,
  appView,
  launchUrl,
  signIn,
  startSmartWorld,
  type SmartWorld,
} from './smart-app-support';

let world: SmartWorld;
let browser: BrowserSession | undefined;
let clock: jest.SpyInstance<number, []> | undefined;

beforeAll(async () => {
  world = await startSmartWorld();
});
afterAll(() => world?.close());
afterEach(async () => {
  clock?.mockRestore();
  await browser?.close();
});

const realNow = Date.now;

/** From now on the server's clock runs this many minutes ahead of the real one. */
function advanceServerClock(minutes: number): void {
  clock?.mockRestore();
  clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow.call(Date) + minutes * 60_000);
}

test('the sign-in ends after 15 idle minutes, not while in use, and the app launch asks to sign in again', async () => {
  expect(world.t.auth.settings.sessionIdleMinutes).toBe(15);
  await addPatientUser(world, 'idle-ann');
  browser = await openBrowser();
  const page = browser.page;
  page.setDefaultTimeout(WAIT_MS);

  await page.goto(`${world.serverOrigin}/auth/login`);
  await signIn(page, 'idle-ann');
  await page.getByText('You are signed in').waitFor();

  // In use: each page restarts the idle clock, so 14 minutes, then 14 more, keep the session.
  advanceServerClock(14);
  await page.goto(launchUrl(world));
  await allowScopes(page);
  expect((await appView(page)).patientName).toBe('Ann Alpha');
  advanceServerClock(28);
  await page.goto(`${world.serverOrigin}/auth/login`);
  await page.getByText('You are signed in').waitFor();

  // Idle: 16 minutes after the last page.
  advanceServerClock(44);
  await page.goto(launchUrl(world));
  await page.waitForURL(`${world.serverOrigin}/auth/authorize/**`);
  await page.locator('#username').waitFor();
  const main = (await page.textContent('main')) ?? '';
  expect(main).toContain(`to continue to ${CLIENT_ID}`);
  expect(main).not.toContain('Allow');
  await page.goto(`${world.serverOrigin}/auth/login`);
  await page.locator('#password').waitFor();
  expect(await page.textContent('main')).not.toContain('You are signed in');

  // Signing in again continues where the app left off.
  await page.goBack();
  await signIn(page, 'idle-ann');
  await allowScopes(page);
  expect((await appView(page)).patientName).toBe('Ann Alpha');
});

// The sign-in, second-factor, patient-picker and consent pages at desktop (1280x800) and phone (390x844) width,
// on a clinician's standalone launch of the test app: full-page screenshots in /tmp/screens for a person to
// look at, and the check a machine can make, that no page scrolls sideways.
import type { Page } from 'playwright-core';
import { openBrowser } from '../support/chromium';
import {
  PASSWORD,
  WAIT_MS,
  addClinician,
  allowScopes,
  appView,
  enterTotp,
  launchUrl,
  screenshot,
  signIn,
  startSmartWorld,
  type SmartWorld,
} from './smart-app-support';

let world: SmartWorld;
beforeAll(async () => {
  world = await startSmartWorld();
});
afterAll(() => world?.close());

const VIEWPORTS = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

/** Screenshot of the page as it is, and the widths that would make it scroll sideways. */
async function capture(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const widths = await page.evaluate(() => ({
    content: document.documentElement.scrollWidth,
    viewport: document.documentElement.clientWidth,
  }));
  expect({ page: name, fits: widths.content <= widths.viewport }).toEqual({ page: name, fits: true });
}

test.each(VIEWPORTS)('the authorization pages at $name width', async ({ name, viewport }) => {
  const secret = await addClinician(world, `dr-${name}`);
  const browser = await openBrowser({ viewport });
  try {
    const page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(launchUrl(world));
    await page.locator('#username').waitFor();
    await capture(page, `login-${name}`);

    await signIn(page, `dr-${name}`, `${PASSWORD} but wrong`);
    await page.locator('.error').waitFor();
    await capture(page, `login-error-${name}`);
    await signIn(page, `dr-${name}`);

    await page.locator('#code').waitFor();
    await capture(page, `totp-${name}`);
    await enterTotp(page, secret);

    await page.fill('#family', 'Alpha');
    await page.click('button[type=submit]');
    await page.locator('input[name=patient]').first().waitFor();
    await capture(page, `patient-picker-${name}`);
    await page.check(`input[name=patient][value="${world.p1}"]`);
    await page.click('text=Continue with this patient');

    await page.locator('input[name=scope]').first().waitFor();
    await capture(page, `consent-${name}`);
    await allowScopes(page);
    const view = await appView(page);
    expect(view.error).toBe('');
    expect(view.patientName).toBe('Ann Alpha');
    expect(view.banner).toBe('true');
  } finally {
    await browser.close();
  }
});

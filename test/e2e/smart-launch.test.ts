// A real SMART client in a real browser (smart.md §3): our fhirclient test app on its own origin, driven in
// headless Chromium, completes a standalone patient launch (sign-in, consent with one scope unticked, token,
// reads limited to the patient, refresh) and an EHR launch, and gets no code when the `aud` it sends is
// rewritten.
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { openBrowser, type BrowserSession } from '../support/chromium';
import {
  CLIENT_ID,
  WAIT_MS,
  addClinician,
  addPatientUser,
  allowScopes,
  appView,
  enterTotp,
  launchUrl,
  readOtherPatient,
  refreshToken,
  signIn,
  startSmartWorld,
  type SmartWorld,
} from './smart-app-support';

const OBSERVATIONS = 'patient/Observation.rs';

let world: SmartWorld;
let browser: BrowserSession | undefined;

beforeAll(async () => {
  world = await startSmartWorld();
});
afterAll(() => world?.close());

beforeEach(async () => {
  browser = await openBrowser();
  browser.page.setDefaultTimeout(WAIT_MS);
});
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

async function auditEvents(query: string): Promise<AuditEvent[]> {
  const res = await world.t.api().get(`/fhir/AuditEvent?${query}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle<AuditEvent>).entry ?? []).map((e) => e.resource as AuditEvent);
}

function page() {
  if (!browser) throw new Error('No browser');
  return browser.page;
}

test('standalone patient launch: sign-in, consent without one scope, reads limited to the patient, refresh', async () => {
  await addPatientUser(world, 'ann');
  const tokenCalls: string[] = [];
  page().on('request', (r) => {
    if (r.url() === `${world.serverOrigin}/auth/token` && r.method() === 'POST') tokenCalls.push(r.url());
  });

  await page().goto(launchUrl(world));
  await page().waitForURL(`${world.serverOrigin}/auth/authorize/**`);
  expect(await page().textContent('main')).toContain(`to continue to ${CLIENT_ID}`);
  await signIn(page(), 'ann');
  const offered = await allowScopes(page(), [OBSERVATIONS]);
  expect(offered).toEqual(expect.arrayContaining([OBSERVATIONS, 'patient/Patient.rs', 'offline_access']));

  const view = await appView(page());
  expect(view.error).toBe('');
  expect(page().url()).toMatch(new RegExp(`^${world.appOrigin}/index\\.html`));
  expect(view.patientName).toBe('Ann Alpha');
  expect(view.patientId).toBe(world.p1);
  expect(view.scope).toEqual(expect.arrayContaining(['patient/Patient.rs', 'launch/patient', 'offline_access']));
  expect(view.scope).not.toContain(OBSERVATIONS);
  expect(view.banner).toBe('true');
  expect(tokenCalls).toHaveLength(1);

  expect(await readOtherPatient(page(), world.p2)).toBe('failed: 404');
  expect(await readOtherPatient(page(), world.p1)).toBe('read: Ann Alpha');

  const reads = await auditEvents(`patient=${world.p1}&subtype=read`);
  const appReads = reads.filter(
    (e) =>
      e.agent.some((a) => a.who?.identifier?.value === CLIENT_ID) &&
      e.entity?.some((x) => x.what?.reference === `Patient/${world.p1}`),
  );
  expect(appReads.length).toBeGreaterThan(0);
  expect(appReads.map((e) => e.outcome)).toEqual(appReads.map(() => '0'));
  const refused = await auditEvents(`patient=${world.p2}&subtype=read&outcome=4`);
  expect(refused.filter((e) => e.agent.some((a) => a.who?.identifier?.value === CLIENT_ID))).not.toHaveLength(0);

  const refreshed = await refreshToken(page());
  const match = /^refreshed (\S+) read Ann Alpha$/.exec(refreshed);
  expect(match).not.toBeNull();
  expect(match?.[1]).not.toBe(view.tokenTail);
  expect(tokenCalls).toHaveLength(2);
});

test('EHR launch by a signed-in clinician: the launch patient, no patient banner, nobody else', async () => {
  const secret = await addClinician(world, 'dr-ehr');
  await page().goto(`${world.serverOrigin}/auth/login`);
  await signIn(page(), 'dr-ehr');
  await enterTotp(page(), secret);
  await page().getByText('You are signed in').waitFor();

  await page().goto(
    `${world.serverOrigin}/auth/launch?${new URLSearchParams({ client_id: CLIENT_ID, patient: world.p1 })}`,
  );
  await page().click('button[type=submit]');
  await page().waitForURL(`${world.appOrigin}/launch.html?**`);
  const launched = new URL(page().url());
  expect(launched.searchParams.get('iss')).toBe(world.fhirBase);
  expect(launched.searchParams.get('launch')).toMatch(/^[A-Za-z0-9_-]{22,}$/);

  const offered = await allowScopes(page());
  expect(offered).toContain('launch');
  const view = await appView(page());
  expect(view.error).toBe('');
  expect(view.patientName).toBe('Ann Alpha');
  expect(view.patientId).toBe(world.p1);
  expect(view.scope).toEqual(expect.arrayContaining(['launch', 'patient/Patient.rs', OBSERVATIONS]));
  expect(view.banner).toBe('false');
  expect(await readOtherPatient(page(), world.p2)).toBe('failed: 404');
});

test('an authorize request whose aud is rewritten gets an error and no code', async () => {
  const evil = 'https://evil.example/fhir';
  /** What fhirclient sent before the rewrite. */
  const sentAud: string[] = [];
  const codeOrToken: string[] = [];
  await page().route(
    (url) => url.origin === world.serverOrigin && url.pathname === '/auth/authorize',
    (route) => {
      const url = new URL(route.request().url());
      sentAud.push(url.searchParams.get('aud') ?? '');
      url.searchParams.set('aud', evil);
      return route.continue({ url: url.toString() });
    },
  );
  page().on('request', (r) => {
    const url = new URL(r.url());
    if (url.searchParams.has('code') || url.pathname === '/auth/token') codeOrToken.push(r.url());
  });

  await page().goto(launchUrl(world));
  const view = await appView(page());
  expect(view.error).toMatch(/^Error: invalid_request: aud must be this server's FHIR base URL/);
  expect(view.patientName).toBe('');
  expect(sentAud).toEqual([world.fhirBase]);
  expect(codeOrToken).toEqual([]);
});

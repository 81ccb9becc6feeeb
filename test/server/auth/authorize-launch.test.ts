// EHR launch (smart.md §5 row 24): our launch helper makes a single-use handle bound to the staff user, the
// app and the patient; a tampered, guessed, expired, replayed, other app's or other user's launch fails.
import request from 'supertest';
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';
import {
  CLIENT_ID,
  LAUNCH_URL,
  REDIRECT_URI,
  authorize,
  authorizeParams,
  consent,
  exchange,
  hidden,
  newClinician,
  pkce,
  signIn,
  type Agent,
  type World,
  setUpWorld,
} from './authorize-support';

let t: TestApp;
let world: World;
let staff: Agent;
const SCOPE = 'launch openid fhirUser patient/*.rs';

beforeAll(async () => {
  t = await startTestApp();
  world = await setUpWorld(t);
  await t.auth.clients.add({ id: 'other-app', type: 'public', redirectUris: [REDIRECT_URI] });
  const { username, secret } = await newClinician(t, 'clin-ehr');
  staff = request.agent(t.app);
  const page = await signIn(staff, '/auth/login', username, secret);
  expect(page.text).toContain('You are signed in');
});
afterAll(() => t.close());

async function launchFromEhr(agent: Agent, patient: string, encounter?: string): Promise<URL> {
  const query = { client_id: CLIENT_ID, patient, ...(encounter ? { encounter } : {}) };
  const page = await agent.get('/auth/launch').query(query);
  expect(page.status).toBe(200);
  const res = await agent
    .post('/auth/launch')
    .type('form')
    .send({ ...query, csrf: hidden(page.text, 'csrf') });
  expect(res.status).toBe(303);
  return new URL(res.headers.location);
}

/** The app's redirect after authorize with this launch; follows the step page when a session exists. */
async function appRedirect(agent: Agent, launch: string): Promise<URL> {
  const res = await agent.get('/auth/authorize').query(authorizeParams(pkce().challenge, { launch, scope: SCOPE }));
  expect(res.status).toBe(303);
  if (res.headers.location.startsWith('/auth/')) {
    const step = await agent.get(res.headers.location);
    expect(step.status).toBe(303);
    return new URL(step.headers.location);
  }
  return new URL(res.headers.location);
}

function expectLaunchError(url: URL): void {
  expect(url.origin + url.pathname).toBe(REDIRECT_URI);
  expect(url.searchParams.get('error')).toBe('invalid_request');
  expect(url.searchParams.get('state')).toBe('state-123');
  expect(url.searchParams.has('code')).toBe(false);
}

test('an EHR launch gives the launched patient and encounter, without a patient banner', async () => {
  const launchUrl = await launchFromEhr(staff, world.p1, 'enc-1');
  expect(launchUrl.origin + launchUrl.pathname).toBe(LAUNCH_URL);
  expect(launchUrl.searchParams.get('iss')).toBe(BASE_URL);
  const handle = launchUrl.searchParams.get('launch') as string;
  expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const { verifier, challenge } = pkce();
  const scope = `${SCOPE} launch/encounter`;
  const step = await authorize(staff, authorizeParams(challenge, { launch: handle, scope }));
  const page = await staff.get(step);
  expect(page.text).toContain('Allow <strong>test-app</strong>');
  const url = await consent(staff, page.text);
  const token = await exchange(t.app, url.searchParams.get('code') as string, verifier);
  expect(token.status).toBe(200);
  expect(token.body).toMatchObject({ patient: world.p1, encounter: 'enc-1', need_patient_banner: false, scope });

  // The same handle again: it was used.
  expectLaunchError(await appRedirect(staff, handle));
});

test('tampered, guessed, expired, other-app and other-user launches fail', async () => {
  const handle = (await launchFromEhr(staff, world.p1)).searchParams.get('launch') as string;
  expectLaunchError(await appRedirect(staff, `${handle.slice(0, -1)}${handle.endsWith('A') ? 'B' : 'A'}`));
  expectLaunchError(await appRedirect(staff, 'guessed'));

  const otherApp = await t.auth.tokens.createLaunch({ username: 'clin-ehr', clientId: 'other-app', patient: world.p1 });
  expectLaunchError(await appRedirect(staff, otherApp));

  const otherUser = await t.auth.tokens.createLaunch({ username: 'someone', clientId: CLIENT_ID, patient: world.p2 });
  expectLaunchError(await appRedirect(staff, otherUser));

  const late = await t.auth.tokens.createLaunch({ username: 'clin-ehr', clientId: CLIENT_ID, patient: world.p1 });
  const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 5 * 60_000 + 1000);
  try {
    expectLaunchError(await appRedirect(staff, late));
  } finally {
    clock.mockRestore();
  }
});

test('a launch made before sign-in is checked against the user who signs in', async () => {
  const foreign = await t.auth.tokens.createLaunch({ username: 'someone', clientId: CLIENT_ID, patient: world.p1 });
  const agent = request.agent(t.app);
  const step = await authorize(agent, authorizeParams(pkce().challenge, { launch: foreign, scope: SCOPE }));
  const page = await agent.get(step);
  const login = await agent
    .post('/auth/login')
    .type('form')
    .send({
      csrf: hidden(page.text, 'csrf'),
      request: hidden(page.text, 'request'),
      username: 'pat1',
      password: 'correct horse battery staple',
    });
  const after = await agent.get(login.headers.location);
  expect(after.status).toBe(303);
  expectLaunchError(new URL(after.headers.location));
});

test('only a signed-in staff user with the CSRF token can launch an app', async () => {
  const anonymous = await request(t.app).post('/auth/launch').type('form').send({ client_id: CLIENT_ID });
  expect(anonymous.status).toBe(401);
  const forged = await staff.post('/auth/launch').type('form').send({ client_id: CLIENT_ID, patient: world.p1 });
  expect(forged.status).toBe(403);
  expect(forged.headers.location).toBeUndefined();
  const page = await staff.get('/auth/launch').query({ client_id: CLIENT_ID, patient: world.p1 });
  const noLaunchUrl = await staff
    .post('/auth/launch')
    .type('form')
    .send({ client_id: 'other-app', patient: world.p1, csrf: hidden(page.text, 'csrf') });
  expect(noLaunchUrl.status).toBe(400);

  const patient = request.agent(t.app);
  await signIn(patient, '/auth/login', 'pat1');
  const denied = await patient.get('/auth/launch').query({ client_id: CLIENT_ID, patient: world.p1 });
  expect(denied.status).toBe(403);
});

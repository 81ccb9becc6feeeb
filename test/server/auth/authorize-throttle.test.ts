// Password guessing (smart.md §5 rows 11 and 25): a locked account answers like a wrong password, and past
// ten failures a minute from one address every sign-in attempt gets 429 without being checked.
import request from 'supertest';
import { MAX_FAILED_LOGINS } from '../../../server/auth/users';
import { startTestApp, type TestApp } from '../../support/app';
import { PASSWORD, authorize, authorizeParams, pkce, postLogin, setUpWorld } from './authorize-support';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await setUpWorld(t);
});
afterAll(() => t.close());

async function attempt(username: string, password: string): Promise<request.Response> {
  const agent = request.agent(t.app);
  const step = await authorize(agent, authorizeParams(pkce().challenge));
  return postLogin(agent, (await agent.get(step)).text, username, password);
}

test('a locked account gets the generic message; the eleventh failure a minute gets 429', async () => {
  for (let i = 0; i < MAX_FAILED_LOGINS; i++) expect((await attempt('pat1', 'not the password')).status).toBe(401);
  const locked = await attempt('pat1', PASSWORD);
  expect(locked.status).toBe(401);
  expect(locked.text).toContain('Wrong username or password');
  for (let i = MAX_FAILED_LOGINS + 1; i < 10; i++) expect((await attempt('nobody', PASSWORD)).status).toBe(401);
  const throttled = await attempt('nobody', PASSWORD);
  expect(throttled.status).toBe(429);
  expect(throttled.headers['retry-after']).toBe('60');
  expect(throttled.text).toContain('Too many attempts');
  const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 61_000);
  try {
    expect((await attempt('nobody', PASSWORD)).status).toBe(401);
  } finally {
    clock.mockRestore();
  }
});

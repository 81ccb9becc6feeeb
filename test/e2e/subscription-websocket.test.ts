// A websocket subscription in a real browser: headless Chromium opens the server's /ws/subscriptions-r4, binds
// with a token from $get-ws-binding-token, and receives the handshake and the notification of an Encounter
// written over the FHIR API — what a worklist app does instead of polling. Bad tokens and paths are refused.
import http from 'node:http';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { findFreePort } from '../bench/server-process';
import { openBrowser, type BrowserSession } from '../support/chromium';
import { FHIR_JSON, patient, putThroughApi, startTestApp, type TestApp } from '../support/app';
import { acceptSubscriptionSockets, type SubscriptionSockets } from '../../server/http/subscription-sockets';
import { BACKPORT } from '../../resources/subscriptions/definition';
import { TOPIC_BASE } from '../../resources/subscriptions/topics';

let t: TestApp;
let server: http.Server;
let sockets: SubscriptionSockets;
let browser: BrowserSession;
let origin: string;

beforeAll(async () => {
  const port = await findFreePort('127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  t = await startTestApp({ baseUrl: `${origin}/fhir` });
  server = http.createServer(t.app);
  sockets = acceptSubscriptionSockets(server, t.services.subscriptions);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  browser = await openBrowser();
  await putThroughApi(t, patient({ id: 'ward-p1' }));
});

afterAll(async () => {
  await browser?.close();
  await sockets?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await t?.close();
});

async function websocketSubscription(): Promise<string> {
  const res = await t
    .api()
    .post('/fhir/Subscription')
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'ward worklist',
      criteria: `${TOPIC_BASE}/encounter`,
      _criteria: {
        extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'patient=Patient/ward-p1' }],
      },
      channel: {
        type: 'websocket',
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'full-resource' }] },
      },
    });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

test('Chromium binds with a token and receives the handshake and the events of its subscription', async () => {
  const id = await websocketSubscription();
  const res = await t.api().get(`/fhir/Subscription/${id}/$get-ws-binding-token`).expect(200);
  const binding = res.body as Parameters;
  const url = param(binding, 'websocket-url')?.valueUrl as string;
  expect(url).toBe(`ws://127.0.0.1:${new URL(origin).port}/ws/subscriptions-r4`);
  const statement = (await t.anonymous().get('/fhir/metadata')).body as {
    rest: { extension: { valueUri: string }[] }[];
  };
  expect(statement.rest[0].extension.map((e) => e.valueUri)).toEqual([url]);
  expect(param(binding, 'subscription')?.valueString).toBe(id);
  expect(Date.parse(param(binding, 'expiration')?.valueDateTime as string)).toBeGreaterThan(Date.now());

  const { page } = browser;
  await page.goto(`${origin}/fhir/metadata`);
  await page.evaluate(
    ({ url, token }) =>
      new Promise<void>((resolve, reject) => {
        const received: string[] = [];
        (window as unknown as { received: string[] }).received = received;
        const socket = new WebSocket(url);
        socket.onmessage = (event) => received.push(String(event.data));
        socket.onopen = () => {
          socket.send(JSON.stringify({ type: 'bind-with-token', payload: { token } }));
          resolve();
        };
        socket.onerror = () => reject(new Error('the websocket failed'));
      }),
    { url, token: param(binding, 'token')?.valueString as string },
  );
  const received = async (count: number): Promise<Bundle[]> => {
    await page.waitForFunction((n) => (window as unknown as { received: string[] }).received.length >= n, count);
    const texts = await page.evaluate(() => (window as unknown as { received: string[] }).received);
    return texts.map((text) => JSON.parse(text) as Bundle);
  };
  const [handshake] = await received(1);
  expect(param(handshake.entry?.[0].resource as Parameters, 'type')?.valueCode).toBe('handshake');

  await putThroughApi(t, {
    resourceType: 'Encounter',
    id: 'ward-e1',
    status: 'arrived',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/ward-p1' },
  });
  const [, event] = await received(2);
  expect(param(event.entry?.[0].resource as Parameters, 'type')?.valueCode).toBe('event-notification');
  expect(event.entry?.[1].resource).toMatchObject({ resourceType: 'Encounter', id: 'ward-e1', status: 'arrived' });
});

test('an unknown token, a bad message and another path are refused', async () => {
  const { page } = browser;
  await page.goto(`${origin}/fhir/metadata`);
  const closes = await page.evaluate(
    (wsOrigin) =>
      Promise.all(
        [
          ['/ws/subscriptions-r4', JSON.stringify({ type: 'bind-with-token', payload: { token: 'forged' } })],
          ['/ws/subscriptions-r4', 'bind please'],
          ['/ws/other', ''],
        ].map(
          ([path, message]) =>
            new Promise<number>((resolve) => {
              const socket = new WebSocket(`${wsOrigin}${path}`);
              socket.onopen = () => socket.send(message);
              socket.onclose = (event) => resolve(event.code);
            }),
        ),
      ),
    origin.replace('http:', 'ws:'),
  );
  expect(closes).toEqual([4401, 4400, 1006]);
});

test('a binding token is only for websocket subscriptions the caller may read', async () => {
  const rest = await t
    .api()
    .post('/fhir/Subscription')
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'x',
      criteria: 'Patient',
      channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/hook' },
    });
  const refused = await t.api().get(`/fhir/Subscription/${rest.body.id}/$get-ws-binding-token`);
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body)).toMatch(/does not use the websocket channel/);
  await t.api().get('/fhir/Subscription/nope/$get-ws-binding-token').expect(404);
  const all = await t.api().get('/fhir/Subscription/$get-ws-binding-token').expect(200);
  expect((all.body as Parameters).parameter?.filter((p) => p.name === 'subscription').length).toBeGreaterThan(0);
  // A token binds at most 100 subscriptions: it travels in one websocket message.
  const many = Array.from({ length: 101 }, (_, i) => `id=s${i}`).join('&');
  const tooMany = await t.api().get(`/fhir/Subscription/$get-ws-binding-token?${many}`);
  expect(tooMany.status).toBe(400);
  expect(JSON.stringify(tooMany.body)).toMatch(/at most 100 subscriptions/);
});

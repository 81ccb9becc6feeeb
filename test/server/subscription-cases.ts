// Subscriptions end to end (shared by the SQLite and MongoDB-adapter test files): Subscriptions created over
// the FHIR API, writes over the API, notifications received by a real HTTP endpoint on 127.0.0.1 — R4 criteria-based (empty POST, PUT of the resource) and
// Backport topic-based (handshake, numbered id-only and full-resource notifications, $status), the grants of
// the subscriber, the endpoint policy, and a failing endpoint putting the subscription in error.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Bundle, Parameters, Subscription } from '@medplum/fhirtypes';
import { BACKPORT } from '../../resources/subscriptions/definition';
import { TOPIC_BASE } from '../../resources/subscriptions/topics';
import { FHIR_JSON, observation, patient, putThroughApi, type TestApp } from '../support/app';
import type { ServiceSettings } from '../../server/services';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

class Receiver {
  readonly received: Received[] = [];
  /** Status to answer with; 200 unless a test makes the endpoint fail. */
  status = 200;
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(this.status).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  async waitFor(count: number, filter: (r: Received) => boolean = () => true): Promise<Received[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const matching = this.received.filter(filter);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${matching.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Every case, against the app `startApp` opens (with these service settings). */
export function describeSubscriptions(
  name: string,
  startApp: (services: Partial<ServiceSettings>) => Promise<TestApp>,
): void {
  describe(`Subscriptions on ${name}`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let endpoint: string;

    beforeAll(async () => {
      t = await startApp({ subscriptionDelivery: { retryDelayMs: 10, attempts: 2, maxFailures: 2 } });
      receiver = new Receiver();
      endpoint = await receiver.start();
      await putThroughApi(t, patient({ id: 'p1' }));
      await putThroughApi(t, patient({ id: 'p2', name: [{ family: 'Other' }] }));
    });

    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    beforeEach(() => {
      receiver.received.length = 0;
      receiver.status = 200;
    });

    async function subscribe(subscription: Record<string, unknown>, api = t.api()): Promise<Subscription> {
      const res = await api
        .post('/fhir/Subscription')
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Subscription', reason: 'test', ...subscription });
      expect([res.status, res.status === 201 ? '' : JSON.stringify(res.body)]).toEqual([201, '']);
      return res.body as Subscription;
    }

    async function statusOf(id: string): Promise<string> {
      return ((await t.api().get(`/fhir/Subscription/${id}`)).body as Subscription).status;
    }

    async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const topicSubscription = (
      content: string,
      filters: string[],
      extra: Record<string, unknown> = {},
      channelExtensions: Record<string, unknown>[] = [],
    ) => ({
      status: 'requested',
      criteria: `${TOPIC_BASE}/encounter`,
      ...(filters.length > 0
        ? {
            _criteria: {
              extension: filters.map((valueString) => ({ url: `${BACKPORT}/backport-filter-criteria`, valueString })),
            },
          }
        : {}),
      channel: {
        type: 'rest-hook',
        endpoint: `${endpoint}/hook`,
        header: ['Authorization: Bearer hook-secret'],
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: content }] },
        ...(channelExtensions.length > 0 ? { extension: channelExtensions } : {}),
      },
      ...extra,
    });

    const encounter = (id: string, subject: string, status = 'in-progress') => ({
      resourceType: 'Encounter',
      id,
      status,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: subject },
    });

    const statusParameters = (bundle: Bundle) => bundle.entry?.[0].resource as Parameters;
    const valueOf = (p: Parameters, name: string) => {
      const found = p.parameter?.find((x) => x.name === name);
      return found?.valueString ?? found?.valueCode;
    };

    test('R4 criteria-based rest-hook: active at once, an empty POST per matching write, nothing for others', async () => {
      const sub = await subscribe({
        status: 'requested',
        criteria: 'Observation?subject=Patient/p1',
        channel: { type: 'rest-hook', endpoint: `${endpoint}/r4` },
      });
      await eventually(async () => (await statusOf(sub.id!)) === 'active', 'the subscription active');
      await putThroughApi(t, { ...observation('Patient/p2'), id: 'o-other' });
      await putThroughApi(t, { ...observation('Patient/p1'), id: 'o-mine' });
      const [notification] = await receiver.waitFor(1);
      expect(notification).toMatchObject({ method: 'POST', url: '/r4', body: '' });
      expect(receiver.received).toHaveLength(1);
      await t.api().delete(`/fhir/Subscription/${sub.id}`).expect(204);
    });

    test('R4 with a payload: the resource is PUT to [endpoint]/[Type]/[id]', async () => {
      const sub = await subscribe({
        status: 'active',
        criteria: 'Observation?subject=Patient/p1&status=final',
        channel: { type: 'rest-hook', endpoint: `${endpoint}/fhir`, payload: 'application/fhir+json' },
      });
      expect(sub.status).toBe('requested');
      await eventually(async () => (await statusOf(sub.id!)) === 'active', 'the subscription active');
      await putThroughApi(t, { ...observation('Patient/p1'), id: 'o-put', status: 'final' });
      const [put] = await receiver.waitFor(1);
      expect(put.method).toBe('PUT');
      expect(put.url).toBe('/fhir/Observation/o-put');
      expect(JSON.parse(put.body)).toMatchObject({ resourceType: 'Observation', id: 'o-put' });
      await t.api().delete(`/fhir/Subscription/${sub.id}`).expect(204);
    });

    test('topic rest-hook: handshake, then numbered notifications with the channel headers; $status counts them', async () => {
      const sub = await subscribe(topicSubscription('id-only', ['patient=Patient/p1']));
      const [handshake] = await receiver.waitFor(1);
      expect(handshake.headers.authorization).toBe('Bearer hook-secret');
      expect(handshake.headers['content-type']).toBe('application/fhir+json');
      expect(valueOf(statusParameters(JSON.parse(handshake.body) as Bundle), 'type')).toBe('handshake');
      await eventually(async () => (await statusOf(sub.id!)) === 'active', 'the subscription active');

      await putThroughApi(t, encounter('e1', 'Patient/p1'));
      await putThroughApi(t, encounter('e-other', 'Patient/p2'));
      await putThroughApi(t, encounter('e1', 'Patient/p1', 'finished'));
      const events = await receiver.waitFor(2, (r) => r.body.includes('event-notification'));
      const bundles = events.map((r) => JSON.parse(r.body) as Bundle);
      expect(bundles.map((b) => valueOf(statusParameters(b), 'events-since-subscription-start'))).toEqual(['1', '2']);
      expect(bundles.map((b) => b.entry?.[1])).toEqual([
        {
          fullUrl: 'http://localhost:8080/fhir/Encounter/e1',
          request: { method: 'POST', url: 'Encounter' },
          response: { status: '201' },
        },
        {
          fullUrl: 'http://localhost:8080/fhir/Encounter/e1',
          request: { method: 'PUT', url: 'Encounter/e1' },
          response: { status: '200' },
        },
      ]);
      expect(bundles.every((b) => b.entry?.[1].resource === undefined)).toBe(true);

      const status = (await t.api().get(`/fhir/Subscription/${sub.id}/$status`).expect(200)).body as Bundle;
      expect(status.type).toBe('searchset');
      const parameters = status.entry?.[0].resource as Parameters;
      expect(valueOf(parameters, 'status')).toBe('active');
      expect(valueOf(parameters, 'type')).toBe('query-status');
      expect(valueOf(parameters, 'events-since-subscription-start')).toBe('2');
      const byType = (await t.api().get(`/fhir/Subscription/$status?id=${sub.id}&status=active`).expect(200))
        .body as Bundle;
      expect(byType.total).toBe(1);

      // $events tells the recent events again, by number, at the content level asked for.
      const replay = (
        await t.api().get(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=2&content=full-resource`).expect(200)
      ).body as Bundle;
      const replayed = statusParameters(replay);
      expect(valueOf(replayed, 'type')).toBe('query-event');
      const numbers = replayed.parameter
        ?.filter((p) => p.name === 'notification-event')
        .map((p) => p.part?.find((x) => x.name === 'event-number')?.valueString);
      expect(numbers).toEqual(['2']);
      expect(replay.entry?.[1].resource).toMatchObject({ resourceType: 'Encounter', id: 'e1', status: 'finished' });
      const all = (await t.api().get(`/fhir/Subscription/${sub.id}/$events`).expect(200)).body as Bundle;
      expect(all.entry).toHaveLength(3);
      expect(all.entry?.[1].resource).toBeUndefined();
      const bad = await t.api().get(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=two`).expect(400);
      expect(bad.body.issue[0].diagnostics).toMatch(/eventsSinceNumber must be an event number/);
      await t.api().get(`/fhir/Subscription/${sub.id}/$events?content=everything`).expect(400);
      await t.api().get('/fhir/Subscription/nope/$events').expect(404);

      // A deletion is an event too (topics trigger on delete): the entry is a DELETE without the resource.
      await t.api().delete('/fhir/Encounter/e1').expect(204);
      const [deletion] = (await receiver.waitFor(3, (r) => r.body.includes('event-notification'))).slice(2);
      const deleted = JSON.parse(deletion.body) as Bundle;
      expect(valueOf(statusParameters(deleted), 'events-since-subscription-start')).toBe('3');
      expect(deleted.entry?.[1]).toEqual({
        fullUrl: 'http://localhost:8080/fhir/Encounter/e1',
        request: { method: 'DELETE', url: 'Encounter/e1' },
        response: { status: '204' },
      });
      await t.api().delete(`/fhir/Subscription/${sub.id}`).expect(204);
    });

    test('full-resource carries the resource only to a subscriber that may read it', async () => {
      const tokenFor = async (scope: string) =>
        (
          await t.auth.tokens.issueAccessToken(
            { clientId: 'ward-board', userId: 'nurse', role: 'clinician', scope },
            600_000,
          )
        ).token;
      const cannotRead = request
        .agent(t.app)
        .set('Authorization', `Bearer ${await tokenFor('user/Subscription.cruds')}`);
      const refused = await cannotRead
        .post('/fhir/Subscription')
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Subscription', reason: 'x', ...topicSubscription('full-resource', []) });
      expect(refused.status).toBe(403);
      // A granular grant: finished encounters only.
      const scope = 'user/Subscription.cruds user/Encounter.rs?status=finished';
      const narrow = request.agent(t.app).set('Authorization', `Bearer ${await tokenFor(scope)}`);
      const sub = await subscribe(topicSubscription('full-resource', []), narrow);
      await eventually(async () => (await statusOf(sub.id!)) === 'active', 'the subscription active');
      receiver.received.length = 0;
      await putThroughApi(t, encounter('e-open', 'Patient/p2'));
      await putThroughApi(t, encounter('e-done', 'Patient/p1', 'finished'));
      const [event] = await receiver.waitFor(1, (r) => r.body.includes('event-notification'));
      const bundle = JSON.parse(event.body) as Bundle;
      expect(bundle.entry?.[1].resource).toMatchObject({ resourceType: 'Encounter', id: 'e-done' });
      await new Promise((r) => setTimeout(r, 100));
      expect(receiver.received.filter((r) => r.body.includes('e-open'))).toEqual([]);
      await t.api().delete(`/fhir/Subscription/${sub.id}`).expect(204);
    });

    test('criteria with a chain are confirmed by the store; heartbeats come while nothing happens', async () => {
      const chained = await subscribe({
        status: 'requested',
        criteria: 'Observation?subject:Patient.family=Other',
        channel: { type: 'rest-hook', endpoint: `${endpoint}/chain` },
      });
      const beating = await subscribe(
        topicSubscription('empty', ['patient=Patient/nobody'], {}, [
          { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 1 },
        ]),
      );
      await eventually(async () => (await statusOf(chained.id!)) === 'active', 'the chained subscription active');
      await putThroughApi(t, { ...observation('Patient/p1'), id: 'o-chain-p1' });
      await putThroughApi(t, { ...observation('Patient/p2'), id: 'o-chain-p2' });
      const [hit] = await receiver.waitFor(1, (r) => r.url === '/chain');
      expect(hit.method).toBe('POST');
      const [heartbeat] = await receiver.waitFor(1, (r) => r.body.includes('"heartbeat"'));
      const status = statusParameters(JSON.parse(heartbeat.body) as Bundle);
      expect(valueOf(status, 'events-since-subscription-start')).toBe('0');
      expect(receiver.received.filter((r) => r.url === '/chain')).toHaveLength(1);
      await t.api().delete(`/fhir/Subscription/${chained.id}`).expect(204);
      await t.api().delete(`/fhir/Subscription/${beating.id}`).expect(204);
    });

    test('a failing endpoint puts the subscription in error with the reason; the event count goes on', async () => {
      const sub = await subscribe(topicSubscription('id-only', ['patient=Patient/p2']));
      await eventually(async () => (await statusOf(sub.id!)) === 'active', 'the subscription active');
      receiver.status = 503;
      await putThroughApi(t, encounter('e-f1', 'Patient/p2'));
      await putThroughApi(t, encounter('e-f2', 'Patient/p2'));
      await eventually(async () => (await statusOf(sub.id!)) === 'error', 'the subscription in error');
      const stored = (await t.api().get(`/fhir/Subscription/${sub.id}`)).body as Subscription;
      expect(stored.error).toMatch(/2 notifications in a row failed; the last: the endpoint answered 503/);
    });

    test.each([
      [{ criteria: 'Observation?bogus=1', channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/x' } }, /bogus/],
      [
        { criteria: 'Observation', channel: { type: 'rest-hook', endpoint: 'https://elsewhere.example/x' } },
        /SUBSCRIPTION_ENDPOINT_HOSTS/,
      ],
      [{ criteria: 'Observation', status: 'error', channel: { type: 'websocket' } }, /Only the server/],
      [{ criteria: `${TOPIC_BASE}/nothing`, channel: { type: 'websocket' } }, /Unknown subscription topic/],
    ])('refused with a 400 naming the problem: %j', async (subscription, message) => {
      const res = await t
        .api()
        .post('/fhir/Subscription')
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Subscription', status: 'requested', reason: 'x', ...subscription });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(message);
    });

    test('the CapabilityStatement lists the topics and the backport profile', async () => {
      const statement = (await t.anonymous().get('/fhir/metadata')).body as {
        instantiates: string[];
        rest: { resource: { type: string; supportedProfile?: string[]; extension?: { valueCanonical: string }[] }[] }[];
      };
      expect(statement.instantiates).toContain(
        'http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/backport-subscription-server-r4',
      );
      const subscription = statement.rest[0].resource.find((r) => r.type === 'Subscription');
      expect(subscription?.supportedProfile).toEqual([
        'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription',
      ]);
      expect(subscription?.extension?.map((e) => e.valueCanonical)).toContain(`${TOPIC_BASE}/encounter`);
    });
  });
}

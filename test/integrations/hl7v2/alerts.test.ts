// Operator alerts: one per condition, channel and quiet period (counts accumulate in between), queue age and
// silent feeds per thresholds, the webhook getting JSON without message content, failures reported not thrown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alerts, type AlertSettings } from '../../../integrations/hl7v2/alerts';
import type { ChannelCounters } from '../../../integrations/hl7v2/message-store/port';

const MINUTE = 60_000;
const T0 = Date.parse('2024-05-01T10:00:00Z');
const settings = (overrides: Partial<AlertSettings> = {}): AlertSettings => ({
  queueAgeMinutes: 15,
  silentMinutes: 60,
  quietMinutes: 30,
  ...overrides,
});
const counters = (overrides: Partial<ChannelCounters> = {}): ChannelCounters => ({
  received: 10,
  processed: 8,
  errored: 0,
  rejected: 0,
  queued: 2,
  ...overrides,
});

function alerts(overrides: Partial<AlertSettings> = {}) {
  const reports: string[] = [];
  return { alerts: new Alerts(settings(overrides), (p) => reports.push(p)), reports };
}

describe('errored', () => {
  test('raises once per quiet period per channel and kind; counts accumulate meanwhile', () => {
    const { alerts: a } = alerts();
    a.errored('lab', 'errors', T0);
    a.errored('lab', 'errors', T0 + MINUTE);
    a.errored('lab', 'errors', T0 + 2 * MINUTE);
    a.errored('lab', 'conflict', T0 + 2 * MINUTE);
    a.errored('adt', 'errors', T0 + 3 * MINUTE);
    expect(a.sent.map((s) => [s.kind, s.channel, s.count])).toEqual([
      ['errors', 'lab', 1],
      ['conflict', 'lab', 1],
      ['errors', 'adt', 1],
    ]);
    a.errored('lab', 'errors', T0 + 29 * MINUTE);
    expect(a.sent).toHaveLength(3);
    a.errored('lab', 'errors', T0 + 30 * MINUTE);
    expect(a.sent[3]).toMatchObject({
      kind: 'errors',
      channel: 'lab',
      count: 4,
      at: new Date(T0 + 30 * MINUTE).toISOString(),
      text: 'Messages went to the error queue',
    });
    a.errored('lab', 'errors', T0 + 61 * MINUTE);
    expect(a.sent[4]).toMatchObject({ count: 1 });
  });

  test('without a webhook alerts are only kept (the last 100)', () => {
    const { alerts: a, reports } = alerts({ quietMinutes: 0 });
    for (let i = 0; i < 120; i++) a.errored(`ch${i}`, 'errors', T0);
    expect(a.sent).toHaveLength(100);
    expect(a.sent[0].channel).toBe('ch20');
    expect(reports).toEqual([]);
  });
});

describe('check', () => {
  test('queue-age: raised when the oldest waiting message is older than the threshold', () => {
    const { alerts: a } = alerts();
    a.check('lis', 'outbound', counters({ oldestWaitingAt: T0 - 10 * MINUTE }), T0);
    a.check('lis', 'outbound', counters(), T0);
    expect(a.sent).toEqual([]);
    a.check('lis', 'outbound', counters({ oldestWaitingAt: T0 - 16.5 * MINUTE, queued: 7 }), T0);
    expect(a.sent).toEqual([
      {
        kind: 'queue-age',
        channel: 'lis',
        count: 7,
        minutes: 16,
        at: new Date(T0).toISOString(),
        text: 'Messages are waiting too long',
      },
    ]);
  });

  test('queue-age: quiet period follows the clock given to check()', () => {
    const { alerts: a } = alerts();
    const stuck = counters({ oldestWaitingAt: T0 - 20 * MINUTE });
    a.check('lis', 'outbound', stuck, T0);
    a.check('lis', 'outbound', stuck, T0 + 10 * MINUTE);
    expect(a.sent).toHaveLength(1);
    a.check('lis', 'outbound', stuck, T0 + 31 * MINUTE);
    expect(a.sent.map((s) => s.minutes)).toEqual([20, 51]);
  });

  test('silent-feed: inbound only, past the threshold, never when 0 or before a first message', () => {
    const { alerts: a } = alerts();
    a.check('adt', 'inbound', counters({ lastMessageAt: T0 - 59 * MINUTE }), T0);
    a.check('lis', 'outbound', counters({ lastMessageAt: T0 - 600 * MINUTE }), T0);
    a.check('new', 'inbound', counters(), T0);
    expect(a.sent).toEqual([]);
    a.check('adt', 'inbound', counters({ lastMessageAt: T0 - 61 * MINUTE }), T0);
    expect(a.sent).toEqual([
      {
        kind: 'silent-feed',
        channel: 'adt',
        minutes: 61,
        at: new Date(T0).toISOString(),
        text: 'No message received for a while',
      },
    ]);
    const never = alerts({ silentMinutes: 0 }).alerts;
    never.check('adt', 'inbound', counters({ lastMessageAt: T0 - 10_000 * MINUTE }), T0);
    expect(never.sent).toEqual([]);
  });

  test('both conditions at once raise both', () => {
    const { alerts: a } = alerts();
    a.check('adt', 'inbound', counters({ oldestWaitingAt: T0 - 90 * MINUTE, lastMessageAt: T0 - 90 * MINUTE }), T0);
    expect(a.sent.map((s) => s.kind)).toEqual(['queue-age', 'silent-feed']);
  });
});

describe('webhook', () => {
  let server: http.Server;
  let respond: number;
  const bodies: { contentType?: string; body: string }[] = [];
  let received: () => void = () => undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push({ contentType: req.headers['content-type'], body });
        res.writeHead(respond).end('ok');
        received();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/hl7?token=secret`;
  const nextRequest = () => new Promise<void>((resolve) => (received = resolve));

  test('receives the alert as JSON, with no message content', async () => {
    respond = 204;
    bodies.length = 0;
    const { alerts: a, reports } = alerts({ webhook: url() });
    const arrived = nextRequest();
    a.errored('lab', 'conflict', T0);
    await arrived;
    expect(bodies).toHaveLength(1);
    expect(bodies[0].contentType).toBe('application/json');
    const alert = JSON.parse(bodies[0].body);
    expect(alert).toEqual({
      kind: 'conflict',
      channel: 'lab',
      count: 1,
      at: new Date(T0).toISOString(),
      text: 'A message reused a control id with other content',
    });
    expect(Object.keys(alert).sort()).toEqual(['at', 'channel', 'count', 'kind', 'text']);
    expect(reports).toEqual([]);
  });

  test('an error answer is reported through the callback', async () => {
    respond = 500;
    const reported = new Promise<string>((resolve) => {
      const a = new Alerts(settings({ webhook: url() }), resolve);
      expect(() => a.errored('lab', 'errors', T0)).not.toThrow();
    });
    expect(await reported).toBe('alert webhook answered 500');
  });

  test('an unreachable webhook is reported, not thrown, and does not name the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const reported = new Promise<string>((resolve) => {
      const a = new Alerts(settings({ webhook: `http://127.0.0.1:${port}/?token=secret` }), resolve);
      a.check('lis', 'outbound', counters({ oldestWaitingAt: T0 - 60 * MINUTE }), T0);
      expect(a.sent).toHaveLength(1);
    });
    const problem = await reported;
    expect(problem).toMatch(/^alert webhook failed: TypeError/);
    expect(problem).toContain('ECONNREFUSED');
    expect(problem).not.toContain('secret');
  });

  test('a report callback that throws does not become an unhandled rejection', async () => {
    respond = 500;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const arrived = nextRequest();
      let calls = 0;
      const a = new Alerts(settings({ webhook: url() }), () => {
        calls++;
        throw new Error('logger down');
      });
      a.errored('lab', 'errors', T0);
      await arrived;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls).toBeGreaterThan(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

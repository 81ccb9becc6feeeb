// The error queue through the admin API: a message that fails mapping is listed with its reason and
// location, is fixed by edit-and-resend (a derived message, the original discarded) or discarded with a
// reason; every action is audited; only admins get in; the status endpoint counts per channel.
import type { AuditEvent, Observation } from '@medplum/fhirtypes';
import { backendKey, clientCredentialsForm, registerBackendClient } from '../../../support/tokens';
import { adt, oru, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;
const mrn = uid('MRN');

beforeAll(async () => {
  server = await startInbound();
  await server.send(adt(mrn));
});
afterAll(() => server.close());

/** A result whose OBR-4 is empty: accepted (AA after the store), then in the error queue. */
async function failingResult(filler = uid('F')): Promise<{ id: string; filler: string }> {
  const text = oru(mrn, filler, '5.4', {}, '');
  expect(parseAck(await server.send(text)).code).toBe('AA');
  await server.bridge.idle();
  const [stored] = await server.messages(`status=error&type=${encodeURIComponent('ORU^R01')}&count=1`);
  return { id: stored.id, filler };
}

const post = (path: string, body?: unknown) => server.call('POST', `/admin/hl7/messages/${path}`, body);

async function adminEvents(): Promise<AuditEvent[]> {
  const bundle = await server.call('GET', 'AuditEvent?subtype=admin&_count=500');
  expect(bundle.status).toBe(200);
  return (bundle.body.entry ?? []).map((e: { resource: AuditEvent }) => e.resource);
}

describe('a message that fails mapping', () => {
  let failed: { id: string; filler: string };

  test('is in the queue with its reason, code and location', async () => {
    failed = await failingResult();
    const queue = await server.messages('status=error');
    expect(queue.find((m) => m.id === failed.id)).toMatchObject({
      status: 'error',
      type: 'ORU^R01',
      error: { reason: 'map', code: '101', location: 'OBR^1^4', text: expect.stringMatching(/OBR-4/) },
    });
    const detail = await server.message(failed.id);
    expect(detail.history.map((e) => e.status)).toEqual(['received', 'error']);
    expect(detail.raw).toContain(`OBR|1||${failed.filler}^LIS||`);
  });

  test('edit and resend: a derived message is processed, the original is discarded', async () => {
    const { raw } = await server.message(failed.id);
    const fixed = raw.replace(`${failed.filler}^LIS||`, `${failed.filler}^LIS|2345-7^Glucose^LN|`);
    const res = await post(`${failed.id}/resend`, { message: fixed });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed', derivedFrom: failed.id, type: 'ORU^R01' });
    expect(res.body.id).not.toBe(failed.id);
    const original = await server.message(failed.id);
    expect(original.status).toBe('discarded');
    expect(original.history.at(-1)).toMatchObject({ status: 'resent', detail: `edited copy ${res.body.id}` });
    expect(original.history.at(-1)?.actor).toMatch(/^client\//);
    const [observation] = await server.search<Observation>(
      `Observation?identifier=${encodeURIComponent(`urn:hms:v2:result:LIS|${failed.filler}\\|2345-7`)}`,
    );
    expect(observation.meta?.source).toBe(`hl7v2:default#${res.body.id}`);
    expect((await server.messages('status=error')).map((m) => m.id)).not.toContain(failed.id);
    // The copy is found by the patient like the original was.
    expect((await server.messages(`patient=${mrn}&type=${encodeURIComponent('ORU^R01')}`)).map((m) => m.id)).toContain(
      res.body.id,
    );
  });

  test('a processed message is not edited, nor discarded (409)', async () => {
    const [processed] = await server.messages('status=processed&count=1');
    expect((await post(`${processed.id}/resend`, { message: 'MSH|^~\\&|X' })).status).toBe(409);
    expect((await post(`${processed.id}/discard`, { reason: 'no' })).status).toBe(409);
  });

  test('an edit must be a message', async () => {
    const { id } = await failingResult();
    expect((await post(`${id}/resend`, {})).status).toBe(400);
    expect((await post(`${id}/resend`, { message: 'PID|1||X' })).status).toBe(400);
    expect((await server.message(id)).status).toBe('error');
  });
});

describe('discard and reprocess', () => {
  test('a discard needs a reason (400 without), then the message leaves the queue', async () => {
    const { id } = await failingResult();
    expect((await post(`${id}/discard`)).status).toBe(400);
    expect((await post(`${id}/discard`, { reason: '   ' })).status).toBe(400);
    expect((await server.message(id)).status).toBe('error');
    const res = await post(`${id}/discard`, { reason: 'test order, never run' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('discarded');
    expect((await server.message(id)).history.at(-1)).toMatchObject({
      status: 'discarded',
      detail: 'test order, never run',
    });
  });

  test('reprocessing an unknown id is 404', async () => {
    expect((await post('999999/reprocess')).status).toBe(404);
    expect((await post('not-a-number/reprocess')).status).toBe(404);
    expect((await post('999999/discard', { reason: 'x' })).status).toBe(404);
    expect((await server.call('GET', '/admin/hl7/messages/999999')).status).toBe(404);
  });

  test('reprocessing a message that still fails keeps it in the queue, with the attempt in its history', async () => {
    const { id } = await failingResult();
    const res = await post(`${id}/reprocess`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'error', error: { reason: 'map', location: 'OBR^1^4' } });
    expect((await server.message(id)).history.map((e) => e.status)).toEqual([
      'received',
      'error',
      'reprocessed',
      'error',
    ]);
  });
});

test('each action is in the audit trail, naming the message; a refused one as a failure', async () => {
  const { id } = await failingResult();
  await server.message(id);
  await post(`${id}/discard`);
  await post(`${id}/reprocess`);
  await post(`${id}/discard`, { reason: 'duplicate of another order' });
  await post(`${id}/resend`, {});
  const events = await adminEvents();
  const outcome = (text: string) => events.filter((e) => e.outcomeDesc === text).map((e) => e.outcome);
  expect(outcome(`hl7 message read ${id}`)).toEqual(['0']);
  expect(outcome(`hl7 message reprocess ${id}`)).toEqual(['0']);
  expect(outcome(`hl7 message discard ${id}`).sort()).toEqual(['0', '4']);
  expect(outcome(`hl7 message edit and resend ${id}`)).toEqual(['4']);
  const discard = events.find((e) => e.outcomeDesc === `hl7 message discard ${id}` && e.outcome === '0');
  expect(discard?.agent?.some((a) => a.requestor && /^hl7-test-/.test(a.who?.identifier?.value ?? ''))).toBe(true);
  expect(JSON.stringify(events)).not.toContain('duplicate of another order');
  expect(JSON.stringify(events)).not.toContain(mrn);
});

describe('access', () => {
  const paths = ['/admin/hl7/status', '/admin/hl7/messages?status=error'];

  test('without a token: 401', async () => {
    for (const path of paths) {
      const res = await fetch(`${new URL(server.baseUrl).origin}${path}`);
      expect(res.status).toBe(401);
    }
  });

  test('with a token lacking the admin scope: 403, and nothing changes', async () => {
    const { id } = await failingResult();
    const key = await backendKey();
    const clientId = `no-admin-${uid()}`;
    await registerBackendClient(server.running.auth, clientId, key, 'system/*.cruds');
    const form = await clientCredentialsForm(server.running.auth, clientId, key, 'system/*.cruds');
    const token = await fetch(server.running.auth.tokenUrl, { method: 'POST', body: new URLSearchParams(form) });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const origin = new URL(server.baseUrl).origin;
    const call = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    for (const path of paths) expect((await call(path)).status).toBe(403);
    expect((await call(`/admin/hl7/messages/${id}/discard`, 'POST', { reason: 'x' })).status).toBe(403);
    expect((await server.message(id)).status).toBe('error');
    // The same token still reads FHIR: the refusal is about the admin scope only.
    expect((await call('/fhir/Patient?_count=1')).status).toBe(200);
  });
});

test('GET /admin/hl7/status counts received, processed, errored and rejected, with lastMessageAt', async () => {
  type Status = { id: string; received: number; processed: number; errored: number; rejected: number };
  const status = async () => {
    const res = await server.call('GET', '/admin/hl7/status');
    expect(res.status).toBe(200);
    expect(res.body.port).toBe(server.mllpPort);
    return (res.body.channels as (Status & { lastMessageAt?: string })[]).find((c) => c.id === 'default')!;
  };
  const before = await status();
  const sentAt = Date.now();
  await server.send(adt(uid('MRN')));
  await failingResult();
  await server.send(adt(uid('MRN'), 'DOE^JANE', { type: 'ADT^A99' }));
  await server.bridge.idle();
  const after = await status();
  expect({
    received: after.received - before.received,
    processed: after.processed - before.processed,
    errored: after.errored - before.errored,
    rejected: after.rejected - before.rejected,
  }).toEqual({ received: 3, processed: 1, errored: 1, rejected: 1 });
  expect(Date.parse(after.lastMessageAt ?? '')).toBeGreaterThanOrEqual(sentAt - 1000);
  const all = await server.messages('channel=default');
  expect(after.received).toBe(all.length);
});

// The HL7 bridge's admin endpoints under /admin/hl7: status, channels, the message browser and the error
// queue's actions. Mounted behind the admin API's check (admin scope), audit and error rendering; viewing a
// message's content, reprocessing, resending and discarding are each an audited action naming the message.
import type { Request, Router } from 'express';
import type { Hl7Bridge } from '../integrations/hl7v2/bridge';
import { ChannelError } from '../integrations/hl7v2/channels';
import { ErrorQueueError } from '../integrations/hl7v2/error-queue';
import type { MessageQuery, MessageStatus, StoredMessage } from '../integrations/hl7v2/message-store/port';
import { AdminError, objectBody, type AdminHandle, type AdminRoutes } from './auth/admin-api';

const STATUSES = new Set<MessageStatus>([
  'received',
  'processed',
  'rejected',
  'error',
  'conflict',
  'discarded',
  'queued',
  'sent',
]);
const MAX_PAGE = 200;

export function hl7AdminRoutes(bridge: Hl7Bridge | undefined): AdminRoutes {
  return (router: Router, handle: AdminHandle) => {
    const on = (action: string, work: (bridge: Hl7Bridge, req: Request) => Promise<[number, unknown]>) =>
      handle(action, async (req) => {
        if (!bridge) throw new AdminError(404, 'The HL7 bridge is off (HL7_MLLP_PORT=off)');
        try {
          return await work(bridge, req);
        } catch (error) {
          if (error instanceof ErrorQueueError) throw new AdminError(error.status, error.message);
          if (error instanceof ChannelError) throw new AdminError(400, error.message);
          throw error;
        }
      });
    const id = (req: Request) => String(req.params.id);
    router.get(
      '/hl7/status',
      on('hl7 status', async (b) => [200, { port: b.port, channels: await b.status(), alerts: b.alerts.sent }]),
    );
    router.get(
      '/hl7/channels',
      on('hl7 channel list', async (b) => [200, b.channels.list()]),
    );
    router.put(
      '/hl7/channels/:id',
      on('hl7 channel save', async (b, req) => {
        const body = objectBody(req);
        if (body.id !== undefined && body.id !== req.params.id)
          throw new AdminError(400, 'The body id differs from the URL');
        const channel = await b.channels.put({ ...body, id: req.params.id });
        b.syncDispatchers();
        return [200, channel];
      }),
    );
    router.delete(
      '/hl7/channels/:id',
      on('hl7 channel remove', async (b, req) => {
        if (!(await b.channels.remove(id(req))))
          throw new AdminError(404, 'No such channel saved through the admin API');
        b.syncDispatchers();
        return [200, { removed: id(req) }];
      }),
    );
    router.get(
      '/hl7/messages',
      on('hl7 message search', async (b, req) => [200, (await b.store.search(messageQuery(req))).map(summary)]),
    );
    router.get(
      '/hl7/messages/:id',
      handleMessage(on, 'read', async (b, req) => {
        const message = await b.store.get(id(req));
        if (!message) throw new AdminError(404, `No message ${id(req)}`);
        return [
          200,
          {
            ...summary(message),
            raw: text(message.raw),
            ack: message.ack,
            outputs: message.outputs,
            history: await b.store.history(message.id),
          },
        ];
      }),
    );
    router.post(
      '/hl7/messages/:id/reprocess',
      handleMessage(on, 'reprocess', async (b, req) => [200, summary(await b.errors.reprocess(id(req), actorOf(req)))]),
    );
    router.post(
      '/hl7/messages/:id/resend',
      handleMessage(on, 'edit and resend', async (b, req) => {
        const edited = objectBody(req).message;
        if (typeof edited !== 'string')
          throw new AdminError(400, 'The body needs the edited message text in "message"');
        return [200, summary(await b.errors.editAndResend(id(req), edited, actorOf(req)))];
      }),
    );
    router.post(
      '/hl7/messages/:id/discard',
      handleMessage(on, 'discard', async (b, req) => {
        const reason = objectBody(req).reason;
        if (typeof reason !== 'string') throw new AdminError(400, 'A discard needs a "reason"');
        return [200, summary(await b.errors.discard(id(req), reason, actorOf(req)))];
      }),
    );
  };
}

/** The audited action names the message, so the trail says who viewed or changed which one. */
function handleMessage(
  on: (
    action: string,
    work: (bridge: Hl7Bridge, req: Request) => Promise<[number, unknown]>,
  ) => ReturnType<AdminHandle>,
  verb: string,
  work: (bridge: Hl7Bridge, req: Request) => Promise<[number, unknown]>,
): ReturnType<AdminHandle> {
  return (req, res, next) => on(`hl7 message ${verb} ${String(req.params.id)}`, work)(req, res, next);
}

function actorOf(req: Request): string {
  const access = req.res?.locals.access as { actor?: string } | undefined;
  return access?.actor ?? 'admin';
}

function messageQuery(req: Request): MessageQuery {
  const q = req.query as Record<string, unknown>;
  const one = (name: string) => (typeof q[name] === 'string' && q[name] !== '' ? (q[name] as string) : undefined);
  const statuses = one('status')?.split(',');
  if (statuses?.some((s) => !STATUSES.has(s as MessageStatus)))
    throw new AdminError(400, `status must be among ${[...STATUSES].join(', ')}`);
  const direction = one('direction');
  if (direction && direction !== 'in' && direction !== 'out') throw new AdminError(400, 'direction must be in or out');
  const count = one('count') ? Number(one('count')) : 50;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE)
    throw new AdminError(400, `count must be 1-${MAX_PAGE}`);
  return {
    count,
    ...(one('channel') ? { channel: one('channel') } : {}),
    ...(direction ? { direction: direction as 'in' | 'out' } : {}),
    ...(statuses ? { status: statuses as MessageStatus[] } : {}),
    ...(one('type') ? { type: one('type') } : {}),
    ...(one('controlId') ? { controlId: one('controlId') } : {}),
    ...(one('patient') ? { patientId: one('patient') } : {}),
    ...(one('since') ? { since: time(one('since') as string, 'since') } : {}),
    ...(one('until') ? { until: time(one('until') as string, 'until') } : {}),
    ...(one('before') ? { before: one('before') } : {}),
  };
}

function time(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AdminError(400, `${name} must be a date or date-time`);
  return ms;
}

/** A message without its content: what the list shows. */
function summary(message: StoredMessage) {
  return {
    id: message.id,
    channel: message.channel,
    direction: message.direction,
    status: message.status,
    type: message.type,
    controlId: message.controlId,
    sendingApplication: message.sendingApplication,
    sendingFacility: message.sendingFacility,
    receivedAt: new Date(message.receivedAt).toISOString(),
    updatedAt: new Date(message.updatedAt).toISOString(),
    attempts: message.attempts,
    ...(message.error ? { error: message.error } : {}),
    ...(message.derivedFrom ? { derivedFrom: message.derivedFrom } : {}),
  };
}

/** The raw bytes as text for a person: UTF-8 when valid, Latin-1 otherwise; segments on their own lines. */
function text(raw: Buffer): string {
  const utf8 = raw.toString('utf8');
  return (utf8.includes('\uFFFD') ? raw.toString('latin1') : utf8).replace(/\r/g, '\n');
}

// The MessageStore contract, run against every adapter (message-store.test.ts): storing and reading raw
// bytes, deduplication and conflicts, updates and history, searches, the inbound and outbound queues,
// counters, purging and settings.
import { createHash } from 'node:crypto';
import type {
  MessageEvent,
  MessageStore,
  NewMessage,
  StoredMessage,
} from '../../../../integrations/hl7v2/message-store/port';

export interface OpenedStore {
  store: MessageStore;
  close(): Promise<void>;
}

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function hl7(controlId: string, extra = ''): Buffer {
  return Buffer.from(`MSH|^~\\&|LAB|HOSP|HMS|HOSP|20240101120000||ORU^R01|${controlId}|P|2.5.1\rPID|1||P1${extra}\r`);
}

/** An inbound message; contentHash follows raw unless given. */
export function inbound(overrides: Partial<NewMessage> = {}): NewMessage {
  const controlId = overrides.controlId ?? 'C1';
  const raw = overrides.raw ?? hl7(controlId);
  return {
    channel: 'lab',
    direction: 'in',
    receivedAt: T0,
    status: 'received',
    raw,
    sendingApplication: 'LAB',
    sendingFacility: 'HOSP',
    controlId,
    type: 'ORU^R01',
    contentHash: sha256(raw),
    ...overrides,
  };
}

/** An outbound message for a FHIR version (sourceKey). */
export function outbound(overrides: Partial<NewMessage> = {}): NewMessage {
  const raw =
    overrides.raw ??
    Buffer.from(`MSH|^~\\&|HMS|HOSP|LIS|LAB|20240101120000||ORM^O01|${overrides.sourceKey ?? 'x'}|P|2.5.1\r`);
  return {
    channel: 'orders',
    direction: 'out',
    receivedAt: T0,
    status: 'queued',
    raw,
    sendingApplication: 'HMS',
    sendingFacility: 'HOSP',
    controlId: `O-${overrides.sourceKey ?? 'x'}`,
    type: 'ORM^O01',
    contentHash: sha256(raw),
    ...overrides,
  };
}

const event = (at: number, status: MessageEvent['status'], detail?: string): MessageEvent => ({
  at,
  status,
  actor: 'processor',
  ...(detail ? { detail } : {}),
});

export function messageStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: MessageStore;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.close();
    });

    /** Receives a message that must be stored (not a duplicate). */
    async function stored(message: NewMessage, since = 0): Promise<StoredMessage> {
      const result = await store.receive(message, since);
      expect(result.duplicateOf).toBeUndefined();
      return result.message;
    }

    describe('receive and read', () => {
      test('receive stores the message and returns it with an id; get and history read it back', async () => {
        const message = inbound({ patientId: 'P1', ack: 'MSH|ACK' });
        const result = await store.receive(message, T0 - MINUTE);
        expect(result.duplicateOf).toBeUndefined();
        expect(result.conflictWith).toBeUndefined();
        const { id, ...rest } = result.message;
        expect(id).toMatch(/^\d+$/);
        expect(rest).toEqual({ ...message, updatedAt: T0, attempts: 0 });
        expect(await store.get(id)).toEqual(result.message);
        expect(await store.history(id)).toEqual([{ at: T0, status: 'received', actor: 'mllp' }]);
      });

      test('raw bytes round trip exactly, including bytes that are not UTF-8', async () => {
        const raw = Buffer.concat([
          Buffer.from('MSH|^~\\&|LAB|HOSP|||20240101||ADT^A01|B1|P|2.3|||||||8859/1\rPID|1||P1||M'),
          Buffer.from([0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0d, 0x1c]),
        ]);
        const { id } = await stored(inbound({ raw, controlId: 'B1', type: 'ADT^A01' }));
        const read = await store.get(id);
        expect(Buffer.isBuffer(read?.raw)).toBe(true);
        expect(read?.raw.equals(raw)).toBe(true);
        expect(read?.contentHash).toBe(sha256(raw));
        const [found] = await store.search({ controlId: 'B1', count: 1 });
        expect(found.raw.equals(raw)).toBe(true);
      });

      test('ids are distinct and increase with arrival', async () => {
        const ids: number[] = [];
        for (const controlId of ['A', 'B', 'C']) ids.push(Number((await stored(inbound({ controlId }))).id));
        expect(ids[0]).toBeLessThan(ids[1]);
        expect(ids[1]).toBeLessThan(ids[2]);
      });

      test('get and history of an unknown or malformed id', async () => {
        expect(await store.get('999999')).toBeUndefined();
        expect(await store.get('abc')).toBeUndefined();
        expect(await store.get('')).toBeUndefined();
        expect(await store.history('999999')).toEqual([]);
      });
    });

    describe('duplicates and conflicts', () => {
      test('the same key and bytes is a duplicate: no new row, a duplicate event on the original', async () => {
        const first = await stored(inbound(), T0 - MINUTE);
        const again = await store.receive(inbound({ receivedAt: T0 + 5000 }), T0 - MINUTE);
        expect(again.duplicateOf?.id).toBe(first.id);
        expect(again.message.id).toBe(first.id);
        expect(again.message.raw.equals(first.raw)).toBe(true);
        expect(again.conflictWith).toBeUndefined();
        expect(await store.search({ count: 10 })).toHaveLength(1);
        expect(await store.history(first.id)).toEqual([
          { at: T0, status: 'received', actor: 'mllp' },
          { at: T0 + 5000, status: 'duplicate', actor: 'mllp' },
        ]);
      });

      test('a duplicate of a processed message returns it as it is now', async () => {
        const first = await stored(inbound());
        await store.update(first.id, { status: 'processed', ack: 'MSH|AA' }, event(T0 + 1, 'processed'));
        const again = await store.receive(inbound({ receivedAt: T0 + 2 }), T0 - MINUTE);
        expect(again.duplicateOf).toMatchObject({ id: first.id, status: 'processed', ack: 'MSH|AA' });
      });

      test('the same key with other bytes is stored as a conflict held for a person', async () => {
        const first = await stored(inbound(), T0 - MINUTE);
        const other = inbound({ raw: hl7('C1', '^changed'), receivedAt: T0 + 10 });
        const result = await store.receive(other, T0 - MINUTE);
        expect(result.duplicateOf).toBeUndefined();
        expect(result.conflictWith?.id).toBe(first.id);
        expect(result.message.id).not.toBe(first.id);
        expect(result.message.status).toBe('conflict');
        expect(result.message.error).toMatchObject({ reason: 'conflict', code: '205' });
        expect(result.message.error?.text).toContain(first.id);
        const read = await store.get(result.message.id);
        expect(read).toMatchObject({ status: 'conflict', error: { reason: 'conflict' } });
        expect(read?.raw.equals(other.raw)).toBe(true);
        expect(await store.history(result.message.id)).toEqual([{ at: T0 + 10, status: 'conflict', actor: 'mllp' }]);
        expect(await store.history(first.id)).toHaveLength(1);
        // A third copy of the conflicting bytes is a duplicate of the conflict.
        const third = await store.receive(inbound({ raw: hl7('C1', '^changed'), receivedAt: T0 + 20 }), T0 - MINUTE);
        expect(third.duplicateOf?.id).toBe(result.message.id);
      });

      test('a message stored with another status than received is not turned into a conflict', async () => {
        await stored(inbound());
        const result = await store.receive(inbound({ raw: hl7('C1', '^x'), status: 'rejected' }), T0 - MINUTE);
        expect(result.conflictWith).toBeUndefined();
        expect(result.message.status).toBe('rejected');
      });

      test('the key is (MSH-3, MSH-4, MSH-10) of inbound messages', async () => {
        const first = await stored(inbound());
        for (const other of [
          inbound({ sendingApplication: 'LAB2' }),
          inbound({ sendingFacility: 'OTHER' }),
          inbound({ controlId: 'C2', raw: hl7('C1') }),
        ]) {
          const result = await store.receive(other, T0 - MINUTE);
          expect(result.duplicateOf).toBeUndefined();
          expect(result.conflictWith).toBeUndefined();
          expect(result.message.id).not.toBe(first.id);
        }
        // An outbound message with the same header fields is no earlier copy of an inbound one.
        const out = await store.enqueue(outbound({ sendingApplication: 'X', controlId: 'D1', sourceKey: 'k' }));
        const result = await store.receive(inbound({ sendingApplication: 'X', controlId: 'D1', raw: out!.raw }), 0);
        expect(result.duplicateOf).toBeUndefined();
        expect(result.message.status).toBe('received');
      });

      test('a duplicate outside the window is stored anew', async () => {
        const first = await stored(inbound());
        const later = T0 + 3 * MINUTE;
        const result = await store.receive(inbound({ receivedAt: later }), later - MINUTE);
        expect(result.duplicateOf).toBeUndefined();
        expect(result.conflictWith).toBeUndefined();
        expect(result.message.id).not.toBe(first.id);
        expect(result.message.status).toBe('received');
        // The window includes its start.
        const edge = await store.receive(inbound({ receivedAt: later + 1 }), later);
        expect(edge.duplicateOf?.id).toBe(result.message.id);
      });

      test('rejected messages do not count for deduplication', async () => {
        const rejected = await stored(inbound({ status: 'rejected', error: { reason: 'parse', text: 'bad' } }));
        const same = await store.receive(inbound({ receivedAt: T0 + 1 }), T0 - MINUTE);
        expect(same.duplicateOf).toBeUndefined();
        expect(same.conflictWith).toBeUndefined();
        expect(same.message.id).not.toBe(rejected.id);
        expect(same.message.status).toBe('received');
        expect((await store.get(rejected.id))?.error).toEqual({ reason: 'parse', text: 'bad' });
      });

      test('messages with an empty MSH-10 are neither duplicates nor conflicts', async () => {
        const first = await stored(inbound({ controlId: '' }));
        const copy = await store.receive(inbound({ controlId: '', receivedAt: T0 + 1 }), T0 - MINUTE);
        expect(copy.message.id).not.toBe(first.id);
        expect(copy.conflictWith).toBeUndefined();
        expect(copy.message.status).toBe('received');
      });
    });

    describe('update and note', () => {
      test('update changes the given fields, sets updatedAt and appends an event', async () => {
        const { id } = await stored(inbound());
        const outputs = {
          bundle: { resourceType: 'Bundle', entry: [{ fullUrl: 'urn:uuid:1' }] },
          written: ['Patient/1'],
        };
        const updated = await store.update(
          id,
          { status: 'processed', ack: 'MSH|AA', outputs, patientId: 'P9', attempts: 2, nextAttemptAt: T0 + 99 },
          event(T0 + 100, 'processed', 'applied'),
        );
        expect(updated).toMatchObject({
          id,
          status: 'processed',
          ack: 'MSH|AA',
          outputs,
          patientId: 'P9',
          attempts: 2,
          nextAttemptAt: T0 + 99,
          receivedAt: T0,
          updatedAt: T0 + 100,
          controlId: 'C1',
        });
        expect(await store.get(id)).toEqual(updated);
        expect(await store.history(id)).toEqual([
          { at: T0, status: 'received', actor: 'mllp' },
          { at: T0 + 100, status: 'processed', actor: 'processor', detail: 'applied' },
        ]);
        // Fields not named stay as they are.
        const again = await store.update(id, {}, event(T0 + 200, 'reprocessed'));
        expect(again).toEqual({ ...updated, updatedAt: T0 + 200 });
      });

      test('error null clears the error; nextAttemptAt null clears the time', async () => {
        const { id } = await stored(inbound());
        const error = { reason: 'map' as const, code: '207', location: 'PID^1^3', text: 'No identifier' };
        const failed = await store.update(
          id,
          { status: 'error', error, nextAttemptAt: T0 + 5 },
          event(T0 + 1, 'error'),
        );
        expect(failed.error).toEqual(error);
        const cleared = await store.update(
          id,
          { status: 'processed', error: null, nextAttemptAt: null },
          event(T0 + 2, 'processed'),
        );
        expect(cleared.error).toBeUndefined();
        expect(cleared.nextAttemptAt).toBeUndefined();
        const read = await store.get(id);
        expect(read).not.toHaveProperty('error');
        expect(read).not.toHaveProperty('nextAttemptAt');
        expect(read?.status).toBe('processed');
      });

      test('update of an unknown message rejects', async () => {
        await expect(store.update('424242', { status: 'processed' }, event(T0, 'processed'))).rejects.toThrow();
        await expect(store.update('nope', { status: 'processed' }, event(T0, 'processed'))).rejects.toThrow();
      });

      test('note appends to the history and leaves the message as it is', async () => {
        const message = await stored(inbound());
        await store.note(message.id, { at: T0 + 1, status: 'attempt', actor: 'sender', detail: 'connect refused' });
        await store.note(message.id, { at: T0 + 2, status: 'resent', actor: 'user/7' });
        expect(await store.get(message.id)).toEqual(message);
        expect(await store.history(message.id)).toEqual([
          { at: T0, status: 'received', actor: 'mllp' },
          { at: T0 + 1, status: 'attempt', actor: 'sender', detail: 'connect refused' },
          { at: T0 + 2, status: 'resent', actor: 'user/7' },
        ]);
      });
    });

    describe('search', () => {
      /** Six messages, oldest first: [lab C1, lab C2 rejected, adt A1 P2, lab C3 P1 processed, orders out, lab C4]. */
      async function fill(): Promise<StoredMessage[]> {
        const all: StoredMessage[] = [];
        all.push(await stored(inbound({ controlId: 'C1', patientId: 'P1', receivedAt: T0 })));
        all.push(await stored(inbound({ controlId: 'C2', status: 'rejected', receivedAt: T0 + 1000 })));
        all.push(
          await stored(
            inbound({ channel: 'adt', controlId: 'A1', type: 'ADT^A01', patientId: 'P2', receivedAt: T0 + 2000 }),
          ),
        );
        const c3 = await stored(inbound({ controlId: 'C3', patientId: 'P1', receivedAt: T0 + 3000 }));
        all.push(await store.update(c3.id, { status: 'processed' }, event(T0 + 3500, 'processed')));
        all.push((await store.enqueue(outbound({ sourceKey: 'ServiceRequest/1/_history/1', receivedAt: T0 + 4000 })))!);
        all.push(await stored(inbound({ controlId: 'C4', receivedAt: T0 + 5000 })));
        return all;
      }

      test('newest first, by each criterion', async () => {
        const [c1, c2, a1, c3, out, c4] = await fill();
        expect(ids(await store.search({ count: 100 }))).toEqual(ids([c4, out, c3, a1, c2, c1]));
        expect(ids(await store.search({ channel: 'lab', count: 100 }))).toEqual(ids([c4, c3, c2, c1]));
        expect(ids(await store.search({ direction: 'out', count: 100 }))).toEqual(ids([out]));
        expect(ids(await store.search({ direction: 'in', channel: 'adt', count: 100 }))).toEqual(ids([a1]));
        expect(ids(await store.search({ status: ['rejected', 'processed'], count: 100 }))).toEqual(ids([c3, c2]));
        expect(ids(await store.search({ status: [], count: 100 }))).toHaveLength(6);
        expect(ids(await store.search({ type: 'ADT^A01', count: 100 }))).toEqual(ids([a1]));
        expect(ids(await store.search({ controlId: 'C3', count: 100 }))).toEqual(ids([c3]));
        expect(ids(await store.search({ patientId: 'P1', count: 100 }))).toEqual(ids([c3, c1]));
        expect(ids(await store.search({ since: T0 + 2000, count: 100 }))).toEqual(ids([c4, out, c3, a1]));
        expect(ids(await store.search({ until: T0 + 2000, count: 100 }))).toEqual(ids([c2, c1]));
        expect(ids(await store.search({ since: T0 + 1000, until: T0 + 4000, count: 100 }))).toEqual(ids([c3, a1, c2]));
        expect(ids(await store.search({ channel: 'lab', status: ['received'], patientId: 'P1', count: 100 }))).toEqual(
          ids([c1]),
        );
        expect(await store.search({ channel: 'none', count: 100 })).toEqual([]);
      });

      test('paging with before, newest first', async () => {
        const [c1, c2, a1, c3, out, c4] = await fill();
        const first = await store.search({ count: 2 });
        expect(ids(first)).toEqual(ids([c4, out]));
        const second = await store.search({ count: 2, before: first[1].id });
        expect(ids(second)).toEqual(ids([c3, a1]));
        const third = await store.search({ count: 2, before: second[1].id });
        expect(ids(third)).toEqual(ids([c2, c1]));
        expect(await store.search({ count: 2, before: third[1].id })).toEqual([]);
        expect(ids(await store.search({ channel: 'lab', count: 1, before: c4.id }))).toEqual(ids([c3]));
        expect(await store.search({ count: 0 })).toEqual([]);
      });

      test('search returns whole messages', async () => {
        const [c1] = await fill();
        expect(await store.search({ controlId: 'C1', count: 5 })).toEqual([await store.get(c1.id)]);
      });
    });

    describe('queues', () => {
      test('unprocessed returns the received messages of a channel, oldest first', async () => {
        const a = await stored(inbound({ controlId: 'A', receivedAt: T0 }));
        const b = await stored(inbound({ controlId: 'B', receivedAt: T0 + 1 }));
        const c = await stored(inbound({ controlId: 'C', receivedAt: T0 + 2 }));
        await stored(inbound({ controlId: 'D', channel: 'adt' }));
        await stored(inbound({ controlId: 'E', status: 'rejected' }));
        await store.update(b.id, { status: 'processed' }, event(T0 + 3, 'processed'));
        expect(ids(await store.unprocessed('lab'))).toEqual(ids([a, c]));
        expect(await store.unprocessed('none')).toEqual([]);
      });

      test('enqueue stores once per (channel, sourceKey)', async () => {
        const first = await store.enqueue(outbound({ sourceKey: 'ServiceRequest/1/_history/2' }));
        expect(first).toMatchObject({ status: 'queued', sourceKey: 'ServiceRequest/1/_history/2', attempts: 0 });
        expect(await store.get(first!.id)).toEqual(first);
        expect(await store.history(first!.id)).toEqual([{ at: T0, status: 'queued', actor: 'queue' }]);
        expect(
          await store.enqueue(outbound({ sourceKey: 'ServiceRequest/1/_history/2', receivedAt: T0 + 1 })),
        ).toBeUndefined();
        const elsewhere = await store.enqueue(
          outbound({ channel: 'billing', sourceKey: 'ServiceRequest/1/_history/2' }),
        );
        expect(elsewhere).toBeDefined();
        expect(elsewhere!.id).not.toBe(first!.id);
        expect(await store.enqueue(outbound({ sourceKey: 'ServiceRequest/1/_history/3' }))).toBeDefined();
        expect(await store.search({ direction: 'out', count: 10 })).toHaveLength(3);
      });

      test('enqueue without a sourceKey always stores', async () => {
        const a = await store.enqueue(outbound({ derivedFrom: '7' }));
        const b = await store.enqueue(outbound({ derivedFrom: '7' }));
        expect(a).toBeDefined();
        expect(b).toBeDefined();
        expect(a!.id).not.toBe(b!.id);
        expect((await store.get(a!.id))?.derivedFrom).toBe('7');
        expect(await store.get(a!.id)).not.toHaveProperty('sourceKey');
      });

      test('concurrent enqueues of the same sourceKey store one', async () => {
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            store.enqueue(outbound({ sourceKey: 'Task/9/_history/1', receivedAt: T0 + i })),
          ),
        );
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        expect(await store.search({ direction: 'out', count: 10 })).toHaveLength(1);
      });

      test('nextQueued returns the oldest queued message, due by the time when given', async () => {
        expect(await store.nextQueued('orders')).toBeUndefined();
        const a = (await store.enqueue(outbound({ sourceKey: 'a', receivedAt: T0 })))!;
        const b = (await store.enqueue(outbound({ sourceKey: 'b', receivedAt: T0 + 1 })))!;
        const c = (await store.enqueue(outbound({ sourceKey: 'c', receivedAt: T0 + 2, nextAttemptAt: T0 + 50 })))!;
        await store.enqueue(outbound({ sourceKey: 'z', channel: 'other' }));
        expect((await store.nextQueued('orders'))?.id).toBe(a.id);
        expect((await store.nextQueued('orders', T0))?.id).toBe(a.id);
        // a waits for a retry; b has no time set, so it is due.
        await store.update(a.id, { attempts: 1, nextAttemptAt: T0 + 100 }, event(T0 + 10, 'attempt'));
        expect((await store.nextQueued('orders'))?.id).toBe(a.id);
        expect((await store.nextQueued('orders', T0 + 20))?.id).toBe(b.id);
        await store.update(b.id, { status: 'sent', ack: 'MSH|AA' }, event(T0 + 20, 'sent'));
        expect(await store.nextQueued('orders', T0 + 20)).toBeUndefined();
        expect((await store.nextQueued('orders', T0 + 50))?.id).toBe(c.id);
        expect((await store.nextQueued('orders', T0 + 100))?.id).toBe(a.id);
        // A cleared time is due at once.
        await store.update(a.id, { nextAttemptAt: null }, event(T0 + 30, 'attempt'));
        expect((await store.nextQueued('orders', T0 + 30))?.id).toBe(a.id);
        await store.update(a.id, { status: 'error', error: { reason: 'nak', text: 'AE' } }, event(T0 + 40, 'error'));
        expect((await store.nextQueued('orders'))?.id).toBe(c.id);
      });
    });

    test('counters per channel', async () => {
      expect(await store.counters('lab')).toEqual({ received: 0, processed: 0, errored: 0, rejected: 0, queued: 0 });
      const r1 = await stored(inbound({ controlId: 'R1', receivedAt: T0 + 100 }));
      const r2 = await stored(inbound({ controlId: 'R2', receivedAt: T0 + 200 }));
      const p = await stored(inbound({ controlId: 'P', receivedAt: T0 + 50 }));
      await store.update(p.id, { status: 'processed' }, event(T0 + 300, 'processed'));
      const e = await stored(inbound({ controlId: 'E', receivedAt: T0 + 400 }));
      await store.update(e.id, { status: 'error', error: { reason: 'map', text: 'x' } }, event(T0 + 401, 'error'));
      await stored(inbound({ controlId: 'R1', raw: hl7('R1', '^other'), receivedAt: T0 + 500 }));
      await stored(inbound({ controlId: 'X', status: 'rejected', receivedAt: T0 + 600 }));
      await stored(inbound({ controlId: 'Y', status: 'rejected', receivedAt: T0 + 700 }));
      await stored(inbound({ controlId: 'Z', channel: 'adt', receivedAt: T0 + 9000 }));
      // A duplicate adds no message.
      await store.receive(inbound({ controlId: 'R2', receivedAt: T0 + 800 }), 0);
      expect(r1.status).toBe('received');
      expect(r2.status).toBe('received');
      expect(await store.counters('lab')).toEqual({
        received: 7,
        processed: 1,
        errored: 2,
        rejected: 2,
        queued: 2,
        oldestWaitingAt: T0 + 100,
        lastMessageAt: T0 + 700,
      });

      const q1 = (await store.enqueue(outbound({ sourceKey: 'q1', receivedAt: T0 + 30 })))!;
      await store.enqueue(outbound({ sourceKey: 'q2', receivedAt: T0 + 40 }));
      const s = (await store.enqueue(outbound({ sourceKey: 's', receivedAt: T0 + 10 })))!;
      await store.update(s.id, { status: 'sent' }, event(T0 + 60, 'sent'));
      expect(await store.counters('orders')).toEqual({
        received: 3,
        processed: 1,
        errored: 0,
        rejected: 0,
        queued: 2,
        oldestWaitingAt: T0 + 30,
        lastMessageAt: T0 + 40,
      });
      await store.update(q1.id, { status: 'sent' }, event(T0 + 70, 'sent'));
      expect(await store.counters('orders')).toMatchObject({ processed: 2, queued: 1, oldestWaitingAt: T0 + 40 });
    });

    test('purge removes old finished messages and their history, never waiting or errored ones', async () => {
      const old = T0;
      const processed = await stored(inbound({ controlId: 'P', receivedAt: old }));
      await store.update(processed.id, { status: 'processed' }, event(old + 1, 'processed'));
      await store.note(processed.id, event(old + 2, 'reprocessed'));
      const rejected = await stored(inbound({ controlId: 'R', status: 'rejected', receivedAt: old }));
      const waiting = await stored(inbound({ controlId: 'W', receivedAt: old }));
      const queued = (await store.enqueue(outbound({ sourceKey: 'q', receivedAt: old })))!;
      const sent = (await store.enqueue(outbound({ sourceKey: 's', receivedAt: old })))!;
      await store.update(sent.id, { status: 'sent' }, event(old + 1, 'sent'));
      const errored = await stored(inbound({ controlId: 'E', receivedAt: old }));
      await store.update(errored.id, { status: 'error', error: { reason: 'map', text: 'x' } }, event(old + 1, 'error'));
      const recent = await stored(inbound({ controlId: 'N', receivedAt: old + 10 * MINUTE }));
      await store.update(recent.id, { status: 'processed' }, event(old + 10 * MINUTE, 'processed'));

      expect(await store.purge(old + MINUTE)).toBe(3);
      for (const gone of [processed, rejected, sent]) {
        expect(await store.get(gone.id)).toBeUndefined();
        expect(await store.history(gone.id)).toEqual([]);
      }
      for (const kept of [waiting, queued, errored, recent]) {
        expect(await store.get(kept.id)).toBeDefined();
        expect((await store.history(kept.id)).length).toBeGreaterThan(0);
      }
      expect(await store.purge(old + MINUTE)).toBe(0);
      // The cutoff is exclusive.
      expect(await store.purge(old + 10 * MINUTE)).toBe(0);
      expect(await store.purge(old + 10 * MINUTE + 1)).toBe(1);
      expect(ids(await store.search({ count: 10 }))).toEqual(ids([errored, queued, waiting]));
    });

    test('settings round trip', async () => {
      expect(await store.getSetting('channels')).toBeUndefined();
      const value = { lab: { enabled: true, port: 2575, tables: ['0001'] }, note: 'Grüße' };
      await store.putSetting('channels', value);
      expect(await store.getSetting('channels')).toEqual(value);
      await store.putSetting('channels', { lab: { enabled: false } });
      expect(await store.getSetting('channels')).toEqual({ lab: { enabled: false } });
      await store.putSetting('paused', false);
      await store.putSetting('count', 0);
      await store.putSetting('nothing', null);
      expect(await store.getSetting('paused')).toBe(false);
      expect(await store.getSetting('count')).toBe(0);
      expect(await store.getSetting('nothing')).toBeNull();
      // undefined has no JSON: refused, and an earlier value stays.
      await expect(store.putSetting('paused', undefined)).rejects.toThrow();
      expect(await store.getSetting('paused')).toBe(false);
    });
  });
}

function ids(messages: StoredMessage[]): string[] {
  return messages.map((m) => m.id);
}

// The audit log's part of the store contract: appends atomic with the transaction and chained after what is
// committed, searches newest first with keyset paging, the walk in chain order. Each adapter's test file calls
// describeAuditContract with the same factory as describeStoreContract.
import { GENESIS_HASH, chainHash, verifyChain } from '../../../resources/audit/chain';
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../../../resources/audit/record';
import type { ResourceStore } from '../../../resources/store/port';
import { type StoreFactory, version } from './contract';

const T0 = Date.UTC(2026, 2, 1);
let counter = 0;

/** A record whose JSON differs from every other one's, as AuditEvents with their own ids do. */
export function auditRecord(extra: Partial<AuditRecord> = {}): AuditRecord {
  const id = `ae-${++counter}`;
  const record = { id, recorded: T0 + counter, patients: [], agent: 'Practitioner/7', subtype: 'read', outcome: '0' };
  return { ...record, ...extra, json: JSON.stringify({ resourceType: 'AuditEvent', ...record, ...extra }) };
}

export async function allAuditRecords(store: ResourceStore, after?: number): Promise<StoredAuditRecord[]> {
  const records: StoredAuditRecord[] = [];
  for await (const record of store.auditRecords(after)) records.push(record);
  return records;
}

export function describeAuditContract(name: string, factory: StoreFactory): void {
  describe(`ResourceStore audit log contract: ${name}`, () => {
    let store: ResourceStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(() => cleanup());

    const append = (...records: AuditRecord[]) => store.transaction((tx) => tx.appendAudit(records));

    test('logAudit appends in its own transaction, interleaved with writers, and the chain holds', async () => {
      const logged = Array.from({ length: 20 }, () => auditRecord({ patients: ['p9'] }));
      await Promise.all([
        ...logged.map((r) => store.logAudit([r])),
        append(auditRecord()),
        store
          .transaction(async (tx) => {
            await tx.appendAudit([auditRecord()]);
            throw new Error('rolled back');
          })
          .catch(() => undefined),
      ]);
      expect((await store.readAudit(logged[7].id))?.json).toBe(logged[7].json);
      const all = await allAuditRecords(store);
      expect(all).toHaveLength(21);
      // Appends that wait together (and may share one savepoint) keep the order they were made in.
      const loggedIds = logged.map((r) => r.id);
      expect(all.map((r) => r.id).filter((id) => loggedIds.includes(id))).toEqual(loggedIds);
      expect((await verifyChain(store.auditRecords())).broken).toBeUndefined();
    });

    test('appends chain from the genesis hash; records read back as written', async () => {
      const first = auditRecord({ patients: ['p1', 'p2'] });
      const second = auditRecord();
      await append(first, second);
      const [one, two] = await allAuditRecords(store);
      expect(one).toEqual({ ...first, seq: 1, prevHash: GENESIS_HASH, hash: chainHash(GENESIS_HASH, first.json) });
      expect(two).toMatchObject({ id: second.id, seq: 2, prevHash: one.hash, hash: chainHash(one.hash, second.json) });
      expect(await store.readAudit(first.id)).toEqual(one);
      expect(await store.readAudit('nope')).toBeUndefined();
      await append();
      expect(await verifyChain(store.auditRecords())).toEqual({ checked: 2 });
    });

    test('a transaction that throws leaves no record and no gap; the others of its group chain on', async () => {
      const kept = auditRecord();
      await append(kept);
      const lost = auditRecord();
      const failing = store.transaction(async (tx) => {
        await tx.writeVersion(version('Patient', 'gone', 1));
        await tx.appendAudit([lost]);
        throw new Error('boom');
      });
      const later = [auditRecord(), auditRecord()];
      const succeeding = store.transaction(async (tx) => {
        await tx.writeVersion(version('Patient', 'kept', 1));
        await tx.appendAudit(later);
      });
      await expect(failing).rejects.toThrow('boom');
      await succeeding;
      expect(await store.readAudit(lost.id)).toBeUndefined();
      expect(await store.readCurrent('Patient', 'gone')).toBeUndefined();
      expect(await store.readCurrent('Patient', 'kept')).toBeDefined();
      const records = await allAuditRecords(store);
      expect(records.map((r) => [r.seq, r.id])).toEqual([
        [1, kept.id],
        [2, later[0].id],
        [3, later[1].id],
      ]);
      await append(auditRecord());
      expect(await verifyChain(store.auditRecords())).toEqual({ checked: 4 });
      expect((await allAuditRecords(store, 2)).map((r) => r.seq)).toEqual([3, 4]);
    });

    test('concurrent appends each chain after the one before', async () => {
      const records = Array.from({ length: 30 }, () => auditRecord());
      await Promise.all(records.map((record) => append(record)));
      const walked = await allAuditRecords(store);
      expect(walked.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
      expect(new Set(walked.map((r) => r.id))).toEqual(new Set(records.map((r) => r.id)));
      expect(await verifyChain(store.auditRecords())).toEqual({ checked: 30 });
    });

    test('searches by patient, agent, subtype, outcome and date, newest first, with paging', async () => {
      const r = [
        auditRecord({ patients: ['p1'], subtype: 'read' }),
        auditRecord({ patients: ['p1', 'p2'], subtype: 'search-type', agent: 'client/app' }),
        auditRecord({ patients: ['p2'], subtype: 'read', outcome: '8' }),
        auditRecord({ subtype: 'login', agent: 'user/u1' }),
        auditRecord({ patients: ['p1'], subtype: 'update', agent: 'client/app', outcome: '4' }),
        auditRecord({ patients: ['p1'], subtype: 'read' }),
      ];
      await append(...r.slice(0, 3));
      await append(...r.slice(3));
      const found = async (query: Partial<AuditQuery>) =>
        (await store.searchAudit({ count: 100, ...query })).entries.map((e) => r.findIndex((x) => x.id === e.id));
      expect(await found({})).toEqual([5, 4, 3, 2, 1, 0]);
      expect(await found({ patient: 'p1' })).toEqual([5, 4, 1, 0]);
      expect(await found({ patient: 'p2', outcome: ['8'] })).toEqual([2]);
      expect(await found({ agent: 'client/app' })).toEqual([4, 1]);
      expect(await found({ subtype: ['read', 'login'] })).toEqual([5, 3, 2, 0]);
      expect(await found({ outcome: ['4', '8', '12'] })).toEqual([4, 2]);
      expect(await found({ subtype: [] })).toEqual([]);
      expect(await found({ since: r[1].recorded, until: r[4].recorded })).toEqual([4, 3, 2, 1]);
      expect(await found({ patient: 'p1', since: r[1].recorded, agent: 'client/app' })).toEqual([4, 1]);

      const first = await store.searchAudit({ patient: 'p1', count: 3 });
      expect(first.entries.map((e) => e.seq)).toEqual([6, 5, 2]);
      expect(first.entries[0]).toMatchObject({ patients: ['p1'], prevHash: expect.any(String) });
      const second = await store.searchAudit({ patient: 'p1', count: 3, cursor: first.next });
      expect(second.entries.map((e) => e.seq)).toEqual([1]);
      expect(second.next).toBeUndefined();
      const exact = await store.searchAudit({ count: 6 });
      expect(exact.next).toBeUndefined();
      await expect(store.searchAudit({ count: 2, cursor: 'bogus' })).rejects.toThrow(/Invalid paging cursor/);
    });
  });
}

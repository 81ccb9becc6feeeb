// The MongoDB adapter's own code on mingo (test/support/mingo-database.ts): the shared store contract, plus
// what is the adapter's own (version sequence checks, creation order). The same contract runs on a real
// server in mongo-integration.test.ts where MONGODB_URL is set.
import { guardKey, MongoStore } from '../../../resources/store/mongo/mongo-store';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import { verifyChain } from '../../../resources/audit/chain';
import { allAuditRecords, auditRecord, describeAuditContract } from './audit-contract';
import { describeStoreContract, query, version } from './contract';

const onMingo = async () => {
  // An in-memory bucket stands in for GridFS (tested through the driver in mongo-blobs.test.ts).
  const store = new MongoStore(new MingoDatabase(), new MemoryBucket());
  return { store, cleanup: () => store.close() };
};
describeStoreContract('MongoDB adapter on mingo', onMingo);
describeAuditContract('MongoDB adapter on mingo', onMingo);

describe('MongoDB adapter on mingo', () => {
  test('a version that does not follow the current one is refused, and the transaction leaves nothing', async () => {
    const store = new MongoStore(new MingoDatabase());
    await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'a', 1)));
    const skipping = store.transaction(async (tx) => {
      await tx.writeVersion(version('Patient', 'b', 1));
      await tx.writeVersion(version('Patient', 'a', 3));
    });
    await expect(skipping).rejects.toThrow(/at version 1, not 2/);
    await expect(store.transaction(async (tx) => tx.writeVersion(version('Patient', 'c', 2)))).rejects.toThrow(
      /no version 1/,
    );
    expect(await store.readCurrent('Patient', 'b')).toBeUndefined();
    expect((await store.readCurrent('Patient', 'a'))?.versionId).toBe(1);
    await store.close();
    await store.close();
    await expect(store.transaction(async () => 1)).rejects.toThrow(/closed/);
  });

  test('versions() walks every version in write order, deletions included', async () => {
    const store = new MongoStore(new MingoDatabase());
    await store.transaction(async (tx) => {
      await tx.writeVersion(version('Patient', 'a', 1));
      await tx.writeVersion(version('Observation', 'o', 1));
    });
    await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'a', 2)));
    await store.transaction(async (tx) =>
      tx.writeVersion(version('Observation', 'o', 2, [], { deleted: true, method: 'DELETE', json: undefined })),
    );
    const first = await store.versions({ count: 3 });
    const rest = await store.versions({ count: 3, after: first.next });
    const walked = [...first.entries, ...rest.entries].map((v) => `${v.resourceType}/${v.id}/${v.versionId}`);
    expect(walked).toEqual(['Patient/a/1', 'Observation/o/1', 'Patient/a/2', 'Observation/o/2']);
    expect(rest.next).toBeUndefined();
    expect(first.entries[2].deleted).toBe(false);
    expect(rest.entries[0].deleted).toBe(true);
  });
});

describe('audit log', () => {
  test('verifyChain names the first record edited or removed in the collection', async () => {
    const database = new MingoDatabase();
    const store = new MongoStore(database);
    await store.transaction((tx) => tx.appendAudit([1, 2, 3, 4, 5].map(() => auditRecord())));
    const [, second, third] = await allAuditRecords(store);
    await database.collections.audit.updateOne({ _id: third.id }, { json: third.json.replace('read', 'vread') });
    expect(await verifyChain(store.auditRecords())).toEqual({
      checked: 3,
      broken: { seq: 3, id: third.id, reason: expect.stringMatching(/hash mismatch/) },
    });
    await database.collections.audit.updateOne({ _id: third.id }, { json: third.json });
    // The log has no delete; a removal in the database is what verification must notice.
    const committed = (database as unknown as { committed: { audit: Map<string, unknown> } }).committed;
    committed.audit.delete(second.id);
    expect(await verifyChain(store.auditRecords())).toEqual({
      checked: 2,
      broken: { seq: 3, id: third.id, reason: expect.stringMatching(/seq gap: expected 2/) },
    });
  });
});

describe('conditional criteria guards', () => {
  test('a search inside a transaction writes the guard of its criteria; paging and reads outside do not', async () => {
    const database = new MingoDatabase();
    const store = new MongoStore(database);
    const byCode = (code: string, count = 2) =>
      query('Observation', [{ kind: 'token', param: 'code', values: [{ system: 's', code }] }], { count });
    await store.search(byCode('a'));
    expect(await database.collections.guards.find({})).toEqual([]);
    await store.transaction(async (tx) => {
      await tx.search(byCode('a'));
      await tx.search(byCode('a', 50));
      await tx.search(byCode('b'));
    });
    const guards = await database.collections.guards.find({});
    expect(guards.map((g) => g._id).sort()).toEqual([guardKey(byCode('a')), guardKey(byCode('b'))].sort());
    expect(guardKey(byCode('a'))).toBe(guardKey(byCode('a', 7)));
    expect(guards.every((g) => typeof g.at === 'number')).toBe(true);
  });
});

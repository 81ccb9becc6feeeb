// migrateStore between two real SQLite files (the code path that also writes to MongoDB), and through the
// MongoDB adapter on mingo: full history copied and indexed, resume after an interrupted batch, conflicts,
// verification; and the SQLite `versions` walk.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { Resource } from '@medplum/fhirtypes';
import { extractIndexEntries } from '../../../resources/search/extract';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import {
  migrateStore,
  MigrationConflictError,
  type MigrationOptions,
  type MigrationProgress,
} from '../../../resources/store/migrate';
import type {
  HistoryQuery,
  ResourceStore,
  ScanPosition,
  StoreTransaction,
  StoredVersion,
  VersionWrite,
} from '../../../resources/store/port';
import type { IndexEntry } from '../../../resources/search/index-entry';
import type { AuditQuery, AuditRecord } from '../../../resources/audit/record';
import type { SearchQuery } from '../../../resources/search/query';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import { tempDir } from '../../support/app';
import { GENESIS_HASH } from '../../../resources/audit/chain';
import { allAuditRecords, auditRecord } from './audit-contract';
import { query } from './contract';

const registry = SearchParameterRegistry.withBaseParameters();
const entriesFor = (stored: StoredVersion) => extractIndexEntries(registry, JSON.parse(stored.json!) as Resource);

let dir: string;
let source: SqliteStore;
let target: SqliteStore;
let clock: number;

beforeEach(() => {
  dir = tempDir('hms-migrate-');
  source = SqliteStore.open(path.join(dir, 'source.sqlite'), { synchronous: 'NORMAL' });
  target = SqliteStore.open(path.join(dir, 'target.sqlite'), { synchronous: 'NORMAL' });
  clock = Date.UTC(2026, 2, 1);
});
afterEach(async () => {
  await source.close();
  await target.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes the next version of a resource to a store the way the repository does (null: a deletion). */
async function put(store: ResourceStore, type: string, id: string, body: Record<string, unknown> | null) {
  await store.transaction(async (tx) => {
    const versionId = ((await tx.readCurrent(type, id))?.versionId ?? 0) + 1;
    clock += 1000;
    const resource = { resourceType: type, id, ...body, meta: { versionId: String(versionId) } };
    const write: VersionWrite = {
      resourceType: type,
      id,
      versionId,
      lastUpdated: clock,
      deleted: body === null,
      method: body === null ? 'DELETE' : versionId === 1 ? 'POST' : 'PUT',
      json: body === null ? undefined : JSON.stringify(resource),
      index: body === null ? [] : extractIndexEntries(registry, resource as Resource),
    };
    await tx.writeVersion(write);
  });
}

const mrn = (value: string) => ({ identifier: [{ system: 'urn:mrn', value }] });

/** Three types, several versions each, deletions, a resource re-created after its deletion: 17 versions. */
async function fillSource(): Promise<void> {
  await put(source, 'Patient', 'p1', mrn('p1-v1'));
  await put(source, 'Patient', 'p2', { ...mrn('p2-v1'), gender: 'female' });
  await put(source, 'Observation', 'o1', observation('8867-4', 'p2'));
  await put(source, 'Patient', 'p1', mrn('p1-v2'));
  await put(source, 'Practitioner', 'dr1', { name: [{ family: 'Who' }] });
  await put(source, 'Observation', 'o1', observation('8310-5', 'p2'));
  await put(source, 'Patient', 'p1', null);
  await put(source, 'Practitioner', 'dr1', null);
  await put(source, 'Patient', 'p2', { ...mrn('p2-v2'), gender: 'female' });
  await put(source, 'Patient', 'p1', mrn('p1-v4'));
  await put(source, 'Observation', 'o2', observation('8867-4', 'p1'));
  for (let i = 0; i < 6; i++) await put(source, 'Patient', `bulk${i}`, mrn(`bulk${i}`));
}
const SOURCE_VERSIONS = 17;

function observation(code: string, patient: string): Record<string, unknown> {
  return {
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patient}` },
  };
}

async function allVersions(store: ResourceStore, count = 100): Promise<StoredVersion[]> {
  const all: StoredVersion[] = [];
  let after: string | undefined;
  do {
    const page = await store.versions({ after, count });
    all.push(...page.entries);
    after = page.next;
  } while (after);
  return all;
}

const key = (v: StoredVersion) => `${v.resourceType}/${v.id}/${v.versionId}`;

async function found(store: ResourceStore, q: SearchQuery): Promise<string[]> {
  return (await store.search(q)).entries.map((e) => e.id).sort();
}

const byIdentifier = (value: string) =>
  query('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: 'urn:mrn', code: value }] }]);

describe('SQLite versions walk', () => {
  test('every version in write order, deletions included, paged by position', async () => {
    await fillSource();
    const walk = await allVersions(source, 100);
    expect(walk).toHaveLength(SOURCE_VERSIONS);
    expect(walk.slice(0, 8).map(key)).toEqual([
      'Patient/p1/1',
      'Patient/p2/1',
      'Observation/o1/1',
      'Patient/p1/2',
      'Practitioner/dr1/1',
      'Observation/o1/2',
      'Patient/p1/3',
      'Practitioner/dr1/2',
    ]);
    expect(walk[6]).toMatchObject({ deleted: true, method: 'DELETE', json: undefined });
    expect(walk.map((v) => v.lastUpdated)).toEqual([...walk.map((v) => v.lastUpdated)].sort((a, b) => a - b));

    const first = await source.versions({ count: 5 });
    expect(first.entries.map(key)).toEqual(walk.slice(0, 5).map(key));
    expect(first.next).toBeDefined();
    const second = await source.versions({ after: first.next, count: 5 });
    expect(second.entries.map(key)).toEqual(walk.slice(5, 10).map(key));
    // 17 = 3 full pages of 5 and a short one; an exact multiple ends with an empty page.
    expect((await allVersions(source, 5)).map(key)).toEqual(walk.map(key));
    expect((await allVersions(source, 17)).map(key)).toEqual(walk.map(key));
    const last = await source.versions({ after: (await source.versions({ count: 17 })).next, count: 17 });
    expect(last).toEqual({ entries: [] });
  });

  test('an empty store has one empty page; a bad position is refused', async () => {
    expect(await source.versions({ count: 10 })).toEqual({ entries: [] });
    await expect(source.versions({ after: 'x1', count: 10 })).rejects.toThrow(/invalid versions position/);
  });
});

describe('migrateStore', () => {
  test('copies every version with its content, history order and index, and verifies the copy', async () => {
    await fillSource();
    const progress: MigrationProgress[] = [];
    const report = await migrateStore(source, target, {
      entriesFor,
      batchSize: 4,
      onProgress: (p) => progress.push(p),
    });
    expect(report).toMatchObject({ copied: SOURCE_VERSIONS, skipped: 0, match: true });
    expect(report.types.map((t) => [t.resourceType, t.source.versions, t.source.current, t.match])).toEqual([
      ['Observation', 3, 2, true],
      ['Patient', 12, 8, true],
      ['Practitioner', 2, 0, true],
    ]);
    expect(report.types.every((t) => t.source.checksum === t.target.checksum)).toBe(true);
    expect(report.types[0].source.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.filter((p) => p.phase === 'copy').map((p) => p.walked)).toEqual([4, 8, 12, 16, 17]);
    expect(progress[progress.length - 1]).toMatchObject({ phase: 'verify', walked: 2 * SOURCE_VERSIONS });

    const walk = await allVersions(source);
    expect(await allVersions(target)).toEqual(walk);
    for (const v of walk) expect(await target.readVersion(v.resourceType, v.id, v.versionId)).toEqual(v);
    for (const h of [{}, { resourceType: 'Patient' }, { resourceType: 'Patient', id: 'p1' }] as HistoryQuery[]) {
      const [s, t] = await Promise.all([source.history({ ...h, count: 50 }), target.history({ ...h, count: 50 })]);
      expect(t.entries).toEqual(s.entries);
    }
    expect(await target.readCurrent('Practitioner', 'dr1')).toMatchObject({ deleted: true, versionId: 2 });

    // The index is the current version's: p1 re-created at version 4 is found by its new identifier only.
    expect(await found(target, byIdentifier('p1-v4'))).toEqual(['p1']);
    expect(await found(target, byIdentifier('p1-v1'))).toEqual([]);
    expect(await found(target, byIdentifier('p2-v2'))).toEqual(['p2']);
    expect(
      await found(target, query('Patient', [{ kind: 'token', param: 'gender', values: [{ code: 'female' }] }])),
    ).toEqual(['p2']);
    const subjectP2 = query('Observation', [
      { kind: 'reference', param: 'subject', values: [{ targetType: 'Patient', targetId: 'p2' }] },
    ]);
    expect(await found(target, subjectP2)).toEqual(['o1']);
    expect(await found(target, query('Practitioner'))).toEqual([]);
  });

  test('SQLite to the MongoDB adapter (on mingo) and back: the same versions, history, index and checksums', async () => {
    await fillSource();
    const mongo = new MongoStore(new MingoDatabase());
    const there = await migrateStore(source, mongo, { entriesFor, batchSize: 5 });
    expect(there).toMatchObject({ copied: SOURCE_VERSIONS, match: true });
    const back = await migrateStore(mongo, target, { entriesFor, batchSize: 5 });
    expect(back).toMatchObject({ copied: SOURCE_VERSIONS, match: true });
    expect(back.types.map((t) => t.target.checksum)).toEqual(there.types.map((t) => t.source.checksum));
    const walk = await allVersions(source);
    expect(await allVersions(mongo)).toEqual(walk);
    expect(await allVersions(target)).toEqual(walk);
    for (const h of [{}, { resourceType: 'Patient', id: 'p1' }] as HistoryQuery[]) {
      const [s, m] = await Promise.all([source.history({ ...h, count: 50 }), mongo.history({ ...h, count: 50 })]);
      expect(m.entries).toEqual(s.entries);
    }
    expect(await found(mongo, byIdentifier('p1-v4'))).toEqual(['p1']);
    expect(await found(mongo, byIdentifier('p1-v1'))).toEqual([]);
    expect(await migrateStore(source, mongo, { entriesFor })).toMatchObject({ copied: 0, match: true });
    await mongo.close();
  });

  test("a Binary's bytes of every version go along, SQLite to MongoDB (on mingo) and back", async () => {
    const pdf = (n: number) => Buffer.from(`%PDF-1.7 consent form, version ${n}`);
    for (const n of [1, 2]) {
      await source.transaction(async (tx) => {
        clock += 1000;
        const json = JSON.stringify({ resourceType: 'Binary', id: 'b1', contentType: 'application/pdf' });
        const write = { resourceType: 'Binary', id: 'b1', versionId: n, lastUpdated: clock, deleted: false, json };
        await tx.writeVersion({ ...write, method: n === 1 ? 'POST' : 'PUT', index: [] });
        await tx.writeBinaryData!('b1', n, pdf(n));
      });
    }
    const mongo = new MongoStore(new MingoDatabase(), new MemoryBucket());
    expect(await migrateStore(source, mongo, { entriesFor })).toMatchObject({ copied: 2, match: true });
    expect(await migrateStore(mongo, target, { entriesFor })).toMatchObject({ copied: 2, match: true });
    for (const n of [1, 2]) {
      expect(await mongo.readBinaryData!('b1', n)).toEqual(pdf(n));
      expect(await target.readBinaryData!('b1', n)).toEqual(pdf(n));
    }
    await mongo.close();
  });

  test('a run over a complete copy writes nothing and still verifies', async () => {
    await fillSource();
    const first = jest.fn(entriesFor);
    await migrateStore(source, target, { entriesFor: first, batchSize: 100 });
    // In one batch only the last version of each resource is indexed, and a deletion needs no extraction.
    expect(first.mock.calls.map(([v]) => key(v)).sort()).toEqual([
      'Observation/o1/2',
      'Observation/o2/1',
      'Patient/bulk0/1',
      'Patient/bulk1/1',
      'Patient/bulk2/1',
      'Patient/bulk3/1',
      'Patient/bulk4/1',
      'Patient/bulk5/1',
      'Patient/p1/4',
      'Patient/p2/2',
    ]);
    const extract = jest.fn(entriesFor);
    const again = await migrateStore(source, target, { entriesFor: extract, batchSize: 5 });
    expect(again).toMatchObject({ copied: 0, skipped: SOURCE_VERSIONS, match: true });
    expect(extract).not.toHaveBeenCalled();
    expect(await allVersions(target)).toEqual(await allVersions(source));
  });

  test('an empty source copies nothing and verifies an empty target', async () => {
    const emptyLog = { records: 0, head: GENESIS_HASH };
    expect(await migrateStore(source, target, { entriesFor })).toEqual({
      copied: 0,
      skipped: 0,
      types: [],
      audit: { copied: 0, skipped: 0, source: emptyLog, target: emptyLog, match: true },
      match: true,
    });
  });

  test('the audit log is copied in chain order to the same chain, resumes, and a foreign log fails the check', async () => {
    const records = Array.from({ length: 7 }, (_, i) => auditRecord({ patients: [`p${i % 2}`] }));
    await source.transaction((tx) => tx.appendAudit(records.slice(0, 4)));
    await source.transaction((tx) => tx.appendAudit(records.slice(4)));
    const mongo = new MongoStore(new MingoDatabase());
    await expect(migrateStore(source, new InterruptingStore(mongo, 2), { entriesFor, batchSize: 3 })).rejects.toThrow(
      'interrupted',
    );
    const there = await migrateStore(source, mongo, { entriesFor, batchSize: 2 });
    expect(there.audit).toMatchObject({ copied: 4, skipped: 3, match: true, target: { records: 7 } });
    expect(await allAuditRecords(mongo)).toEqual(await allAuditRecords(source));
    expect((await mongo.searchAudit({ patient: 'p1', count: 10 })).entries.map((r) => r.id)).toEqual(
      [records[5], records[3], records[1]].map((r) => r.id),
    );
    expect((await migrateStore(source, mongo, { entriesFor })).audit).toMatchObject({ copied: 0, skipped: 7 });
    await mongo.close();

    await target.transaction((tx) => tx.appendAudit([auditRecord()]));
    const foreign = await migrateStore(source, target, { entriesFor });
    expect(foreign.audit).toMatchObject({ copied: 7, match: false, target: { records: 8 } });
    expect(foreign.match).toBe(false);
  });

  test('a run interrupted inside a batch resumes without duplicates', async () => {
    await fillSource();
    const interrupted = new InterruptingStore(target, 3);
    await expect(migrateStore(source, interrupted, { entriesFor, batchSize: 4 })).rejects.toThrow('interrupted');
    // Batches 1 and 2 committed; batch 3 rolled back entirely.
    const walk = await allVersions(source);
    expect((await allVersions(target)).map(key)).toEqual(walk.slice(0, 8).map(key));

    const resumed = await migrateStore(source, target, { entriesFor, batchSize: 4 });
    expect(resumed).toMatchObject({ copied: SOURCE_VERSIONS - 8, skipped: 8, match: true });
    expect(await allVersions(target)).toEqual(walk);
    expect(await found(target, byIdentifier('p1-v4'))).toEqual(['p1']);
  });

  test('a resume with another batch size checks each version of a partly copied batch', async () => {
    await fillSource();
    await expect(migrateStore(source, new InterruptingStore(target, 2), { entriesFor, batchSize: 5 })).rejects.toThrow(
      'interrupted',
    );
    // 5 versions copied; batches of 3 now end at 3 (present), 6 (partly present), 9 ...
    const resumed = await migrateStore(source, target, { entriesFor, batchSize: 3 });
    expect(resumed).toMatchObject({ copied: SOURCE_VERSIONS - 5, skipped: 5, match: true });
    expect(await allVersions(target)).toEqual(await allVersions(source));
  });

  test('a target holding other content under a copied version is a conflict, and keeps nothing of the batch', async () => {
    await fillSource();
    await put(target, 'Patient', 'p2', { ...mrn('someone-else') });
    const run = migrateStore(source, target, { entriesFor, batchSize: 4 });
    await expect(run).rejects.toThrow(MigrationConflictError);
    await expect(migrateStore(source, target, { entriesFor, batchSize: 4 })).rejects.toThrow(
      'Patient/p2 version 1 is in the target with other content: the target is not a copy of this source',
    );
    expect((await allVersions(target)).map(key)).toEqual(['Patient/p2/1']);
  });

  test('an already copied version that differs in the target is a conflict on a re-run', async () => {
    await fillSource();
    await migrateStore(source, target, { entriesFor, batchSize: 100 });
    const db = new Database(path.join(dir, 'target.sqlite'));
    db.prepare("UPDATE versions SET content = '{}' WHERE type = 'Patient' AND version = 1").run();
    db.close();
    // Patient/p1 is at version 4 in the target: its version 1 is read back and compared.
    await expect(migrateStore(source, target, { entriesFor, batchSize: 1 })).rejects.toThrow(
      'Patient/p1 version 1 is in the target',
    );
  });

  test('verification names the types whose copy differs', async () => {
    await fillSource();
    await migrateStore(source, target, { entriesFor, batchSize: 100 });
    // Content changed behind the store's back (same counts), and a resource that did not come from the source.
    const db = new Database(path.join(dir, 'target.sqlite'));
    db.prepare("UPDATE versions SET content = '{}' WHERE type = 'Observation' AND version = 1").run();
    db.close();
    await put(target, 'Practitioner', 'stranger', { name: [{ family: 'Else' }] });
    const report = await migrateStore(source, target, { entriesFor, batchSize: 100 });
    expect(report.match).toBe(false);
    const byType = Object.fromEntries(report.types.map((t) => [t.resourceType, t]));
    expect(byType.Patient.match).toBe(true);
    expect(byType.Observation).toMatchObject({ match: false, source: { versions: 3 }, target: { versions: 3 } });
    expect(byType.Observation.source.checksum).not.toBe(byType.Observation.target.checksum);
    expect(byType.Practitioner).toMatchObject({
      match: false,
      source: { versions: 2, current: 0 },
      target: { versions: 3, current: 1 },
    });
  });

  test('a type only in the target shows as a mismatch against an empty source type', async () => {
    await put(target, 'Device', 'd1', { status: 'active' });
    const report = await migrateStore(source, target, { entriesFor });
    expect(report.types).toEqual([
      expect.objectContaining({
        resourceType: 'Device',
        match: false,
        source: expect.objectContaining({ versions: 0 }),
      }),
    ]);
  });

  test('a batch size that is not a positive integer is refused', async () => {
    const options: MigrationOptions = { entriesFor, batchSize: 0 };
    await expect(migrateStore(source, target, options)).rejects.toThrow(RangeError);
  });
});

/** The real target store, except that its Nth transaction throws after its work ran (then rolls back). */
class InterruptingStore implements ResourceStore {
  private transactions = 0;
  readonly searchableTypes: ReadonlySet<string>;

  constructor(
    private readonly inner: ResourceStore,
    private readonly failAt: number,
  ) {
    this.searchableTypes = inner.searchableTypes;
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const n = ++this.transactions;
    return this.inner.transaction(async (tx) => {
      const result = await work(tx);
      if (n === this.failAt) throw new Error('interrupted');
      return result;
    });
  }

  logAudit(records: AuditRecord[]) {
    return this.inner.logAudit(records);
  }

  readCurrent(type: string, id: string) {
    return this.inner.readCurrent(type, id);
  }
  readVersion(type: string, id: string, versionId: number) {
    return this.inner.readVersion(type, id, versionId);
  }
  history(q: HistoryQuery) {
    return this.inner.history(q);
  }
  search(q: SearchQuery) {
    return this.inner.search(q);
  }
  scan(type: string, position: ScanPosition) {
    return this.inner.scan(type, position);
  }
  versions(position: ScanPosition) {
    return this.inner.versions(position);
  }
  log(after: string | undefined, count: number) {
    return this.inner.log(after, count);
  }
  reindex(type: string, position: ScanPosition, extract: (stored: StoredVersion) => IndexEntry[]) {
    return this.inner.reindex(type, position, extract);
  }
  readAudit(id: string) {
    return this.inner.readAudit(id);
  }
  searchAudit(q: AuditQuery) {
    return this.inner.searchAudit(q);
  }
  auditRecords(after?: number) {
    return this.inner.auditRecords(after);
  }
  close() {
    return this.inner.close();
  }
}

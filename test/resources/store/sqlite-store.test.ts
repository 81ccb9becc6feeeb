// The SQLite adapter: the shared store contract on a real file, plus what is SQLite's own (reopening,
// schema versions, group commit under concurrency).
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3-multiple-ciphers';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { openStore, StoreConfigError, SQLITE_FILE_NAME } from '../../../resources/store';
import { tempDir } from '../../support/app';
import { describeStoreContract, subjectEntry, version } from './contract';
import { allAuditRecords, auditRecord, describeAuditContract } from './audit-contract';
import type { IndexEntry } from '../../../resources/search/index-entry';
import { SCHEMA_VERSION } from '../../../resources/store/sqlite/schema';
import { SCAN_TYPE_SQL } from '../../../resources/store/sqlite/reader';
import { chainHash, verifyChain } from '../../../resources/audit/chain';

const onFile = async () => {
  const dir = tempDir('hms-store-');
  const store = SqliteStore.open(path.join(dir, 'test.sqlite'), { synchronous: 'NORMAL' });
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};
describeStoreContract('SQLite', onFile);
describeAuditContract('SQLite', onFile);

describe('SQLite adapter', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('hms-sqlite-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('data survives closing and reopening the file; WAL mode is on', async () => {
    const file = path.join(dir, 'a.sqlite');
    const first = SqliteStore.open(file);
    await first.transaction(async (tx) => tx.writeVersion(version('Patient', 'keep', 1)));
    await first.close();
    await first.close();
    await expect(first.transaction(async () => 1)).rejects.toThrow(/closed/);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const second = SqliteStore.open(file);
    expect((await second.readCurrent('Patient', 'keep'))?.versionId).toBe(1);
    await second.close();
  });

  test('a walk over one type pages through an index in rid order, never sorting the whole type per page', async () => {
    const file = path.join(dir, 'scan.sqlite');
    await SqliteStore.open(file).close();
    const db = new Database(file, { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SCAN_TYPE_SQL}`).all('Patient', 0, 10) as { detail: string }[])
        .map((row) => row.detail)
        .join('; ');
      expect(plan).toContain('resources_type_rid');
      expect(plan).not.toContain('TEMP B-TREE');
    } finally {
      db.close();
    }
  });

  test('two processes on one file index a parameter new to both: the second takes the id the first gave it', async () => {
    const file = path.join(dir, 'shared.sqlite');
    const a = SqliteStore.open(file);
    const b = SqliteStore.open(file);
    try {
      const entry: IndexEntry = { type: 'token', param: 'x-brand-new', system: 's', code: 'c', text: null };
      await a.transaction(async (tx) => tx.writeVersion(version('Basic', 'one', 1, [entry])));
      // b loaded its parameter ids before a added this one, and looks again at most once a second.
      await b.transaction(async (tx) => tx.writeVersion(version('Basic', 'two', 1, [entry])));
      const query = {
        resourceTypes: ['Basic'],
        conditions: [{ kind: 'token' as const, param: 'x-brand-new', values: [{ system: 's', code: 'c' }] }],
        sort: [],
        count: 10,
      };
      expect((await a.search(query as never)).entries.map((e) => e.id).sort()).toEqual(['one', 'two']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a file of schema 1 is brought up to date: date windows find what the rows already there hold', async () => {
    const file = path.join(dir, 'v1.sqlite');
    const first = SqliteStore.open(file);
    const at = (low: number): IndexEntry => ({ type: 'date', param: 'when', low, high: low + 3_600_000 });
    await first.transaction(async (tx) => {
      await tx.writeVersion(version('Encounter', 'one', 1, [at(Date.UTC(2025, 5, 10))]));
      await tx.writeVersion(version('Encounter', 'two', 1, [at(Date.UTC(2025, 5, 1)), at(Date.UTC(2025, 5, 20))]));
    });
    await first.close();
    const db = new Database(file);
    db.exec(`DROP INDEX ix_date_multi; DROP TABLE date_spans; ALTER TABLE ix_date DROP COLUMN multi;
             UPDATE store_meta SET value = '1' WHERE key = 'schema_version'`);
    db.close();
    const second = SqliteStore.open(file);
    const found = await second.search({
      resourceTypes: ['Encounter'],
      conditions: [
        {
          kind: 'date',
          param: 'when',
          values: [{ prefix: 'ge', low: Date.UTC(2025, 5, 9), high: Date.UTC(2025, 5, 10) - 1 }],
        },
        {
          kind: 'date',
          param: 'when',
          values: [{ prefix: 'lt', low: Date.UTC(2025, 5, 15), high: Date.UTC(2025, 5, 16) - 1 }],
        },
      ],
      sort: [],
      count: 10,
      total: 'none',
    });
    expect(found.entries.map((e) => e.id).sort()).toEqual(['one', 'two']);
    await second.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT value FROM store_meta WHERE key = 'schema_version'").pluck().get()).toBe(
      String(SCHEMA_VERSION),
    );
    expect(check.prepare('SELECT span FROM date_spans').pluck().all()).toEqual([3_600_000]);
    check.close();
  });

  test('a file of schema 2 gains the audit log', async () => {
    const file = path.join(dir, 'v2.sqlite');
    await SqliteStore.open(file).close();
    const db = new Database(file);
    db.exec(
      `DROP TABLE audit; DROP TABLE audit_patient; UPDATE store_meta SET value = '2' WHERE key = 'schema_version'`,
    );
    db.close();
    const store = SqliteStore.open(file);
    await store.transaction((tx) => tx.appendAudit([auditRecord({ patients: ['p1'] })]));
    expect((await store.searchAudit({ patient: 'p1', count: 5 })).entries).toHaveLength(1);
    await store.close();
  });

  test('verifyChain names the first record edited or removed in the file', async () => {
    const file = path.join(dir, 'audit.sqlite');
    const store = SqliteStore.open(file, { synchronous: 'NORMAL' });
    await store.transaction((tx) => tx.appendAudit([1, 2, 3, 4, 5].map(() => auditRecord())));
    const [, second, third, fourth] = await allAuditRecords(store);
    const db = new Database(file);
    const edited = third.json.replace('read', 'vread');
    db.prepare('UPDATE audit SET json = ? WHERE seq = 3').run(edited);
    expect(await verifyChain(store.auditRecords())).toEqual({
      checked: 3,
      broken: { seq: 3, id: third.id, reason: expect.stringMatching(/hash mismatch/) },
    });
    // Rewriting the hash too moves the break to the next record, whose link no longer matches.
    db.prepare('UPDATE audit SET hash = ? WHERE seq = 3').run(chainHash(third.prevHash, edited));
    expect((await verifyChain(store.auditRecords())).broken).toEqual({
      seq: 4,
      id: fourth.id,
      reason: expect.stringMatching(/prevHash/),
    });
    db.prepare('UPDATE audit SET json = ?, hash = ? WHERE seq = 3').run(third.json, third.hash);
    expect(await verifyChain(store.auditRecords())).toEqual({ checked: 5 });
    db.prepare('DELETE FROM audit WHERE seq = 2').run();
    expect(await verifyChain(store.auditRecords())).toEqual({
      checked: 2,
      broken: { seq: 3, id: third.id, reason: expect.stringMatching(/seq gap: expected 2/) },
    });
    expect(second.seq).toBe(2);
    db.close();
    await store.close();
  });

  test('a file from a newer schema is refused', async () => {
    const file = path.join(dir, 'b.sqlite');
    await SqliteStore.open(file).close();
    const db = new Database(file);
    db.prepare("UPDATE store_meta SET value = '999' WHERE key = 'schema_version'").run();
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(/schema version 999/);
  });

  test('hundreds of concurrent transactions are committed in groups, each isolated', async () => {
    const store = SqliteStore.open(path.join(dir, 'c.sqlite'));
    const work = Array.from({ length: 600 }, (_, i) =>
      store.transaction(async (tx) => {
        await tx.writeVersion(version('Patient', `g${i}`, 1));
        if (i % 7 === 0) throw new Error(`fail ${i}`);
        return i;
      }),
    );
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(86);
    const page = await store.search({
      resourceTypes: ['Patient'],
      conditions: [],
      sort: [],
      count: 1000,
      total: 'accurate',
    });
    expect(page.total).toBe(514);
    await store.close();
  });

  test('the next group commits while the last one syncs; each is acknowledged only after its own sync', async () => {
    const store = SqliteStore.open(path.join(dir, 's.sqlite'));
    // The WAL syncs are held back here and let through one by one, in an order of the test's choosing.
    const pendingSyncs: (() => void)[] = [];
    const realSync = fs.fdatasync;
    const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: fs.NoParamCallback) => {
      pendingSyncs.push(() => realSync(fd, done));
    }) as typeof fs.fdatasync);
    const acknowledged: string[] = [];
    const create = (id: string) =>
      store.transaction(async (tx) => tx.writeVersion(version('Patient', id, 1))).then(() => acknowledged.push(id));
    try {
      const a = create('a');
      await waitFor(() => pendingSyncs.length === 1);
      const b = create('b');
      await waitFor(() => pendingSyncs.length === 2);
      expect(await store.readCurrent('Patient', 'b')).toBeDefined();
      const c = create('c');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(pendingSyncs).toHaveLength(2); // two syncs at most: c waits for one to end
      expect(acknowledged).toEqual([]);
      pendingSyncs[1]();
      await b;
      expect(acknowledged).toEqual(['b']);
      await waitFor(() => pendingSyncs.length === 3);
      pendingSyncs[2]();
      await c;
      expect(acknowledged).toEqual(['b', 'c']);
      pendingSyncs[0]();
      await a;
      expect(acknowledged).toEqual(['b', 'c', 'a']);
    } finally {
      spy.mockRestore();
      await store.close();
    }
  });

  test('the background checkpointer copies the WAL into the database file and truncates it on close', async () => {
    const file = path.join(dir, 'd.sqlite');
    const store = await SqliteStore.openWithCheckpointer(file, { checkpointIntervalMs: 20 });
    for (let i = 0; i < 50; i++) await store.transaction(async (tx) => tx.writeVersion(version('Patient', `w${i}`, 1)));
    await new Promise((r) => setTimeout(r, 200));
    const probe = new Database(file, { readonly: true });
    const [status] = probe.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    probe.close();
    expect(status.log).toBeGreaterThan(0);
    expect(status.checkpointed).toBe(status.log);
    await store.close();
    expect(fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
  });

  test('an update rewrites only the index rows that changed, and leaves exactly the new entries', async () => {
    const file = path.join(dir, 'u.sqlite');
    const store = SqliteStore.open(file, { synchronous: 'NORMAL' });
    const code = (c: string, group?: number): IndexEntry => ({
      type: 'token',
      param: 'code',
      system: 'http://loinc.org',
      code: c,
      text: null,
      ...(group === undefined ? {} : { group }),
    });
    const day = (d: number): IndexEntry => ({ type: 'date', param: 'date', low: d, high: d + 86_399_999 });
    const subject = subjectEntry('p1');
    const entries: IndexEntry[][] = [
      [code('kept'), code('dropped'), day(0), subject, code('grouped', 0)],
      // reordered, one code gone and one new, the date moved, a code twice, the composite group renumbered
      [subject, code('new'), day(86_400_000), code('kept'), code('kept'), code('grouped', 1)],
      // one date becomes two: both rows change (they are marked as several of one parameter)
      [subject, code('new'), day(86_400_000), day(0), code('kept'), code('kept'), code('grouped', 1)],
      [],
    ];
    // Every index row of the file, with its parameter by name (parameter ids differ between files).
    const rowsOf = (db: Database.Database): Record<string, unknown>[] =>
      ['ix_token', 'ix_date', 'ix_reference'].flatMap((table) =>
        (
          db
            .prepare(`SELECT t.*, p.code AS param FROM ${table} t JOIN search_params p ON p.pid = t.pid`)
            .all() as Record<string, unknown>[]
        ).map(({ pid: _pid, ...r }) => ({ table, ...r })),
      );
    const probe = new Database(file, { readonly: true });
    const rows = () => rowsOf(probe);
    const n = (code: string) => rows().find((r) => r.code === code)?.n;
    const snapshots: ReturnType<typeof rows>[] = [];
    const fresh: ReturnType<typeof rows>[] = [];
    for (const [i, index] of entries.entries()) {
      const written = version('Observation', 'o1', i + 1, index, { deleted: index.length === 0 && i > 0 });
      await store.transaction(async (tx) => tx.writeVersion(written));
      snapshots.push(rows());
      // The same entries written as a new resource: the rows an update has to end with, up to their positions.
      const other = path.join(dir, `fresh${i}.sqlite`);
      const alone = SqliteStore.open(other, { synchronous: 'NORMAL' });
      await alone.transaction(async (tx) => tx.writeVersion(version('Observation', 'o1', 1, index)));
      await alone.close();
      const db = new Database(other, { readonly: true });
      fresh.push(rowsOf(db));
      db.close();
      if (i === 0) expect(n('kept')).toBe(0);
    }
    const withoutPosition = (all: ReturnType<typeof rows>) =>
      all.map(({ n: _n, ...rest }) => JSON.stringify(rest)).sort();
    snapshots.forEach((snapshot, i) => expect(withoutPosition(snapshot)).toEqual(withoutPosition(fresh[i])));
    // The unchanged code kept its row (position 0) through the update; the second copy is a new row.
    const keptPositions = snapshots[1].filter((r) => r.code === 'kept').map((r) => r.n);
    expect(keptPositions).toContain(0);
    expect(snapshots[3]).toEqual([]);
    probe.close();
    await store.close();
  });

  test('an update never keeps a row whose columns only run together like the new one', async () => {
    const file = path.join(dir, 'k.sqlite');
    const store = SqliteStore.open(file, { synchronous: 'NORMAL' });
    // Joined with any separator, these two rows read the same; as rows they differ.
    const name = (value: string, exact: string): IndexEntry => ({ type: 'string', param: 'name', value, exact });
    const before = name('a|string:b', 'c');
    const after = name('a', 'b|string:c');
    await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'k', 1, [before])));
    await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'k', 2, [after])));
    const probe = new Database(file, { readonly: true });
    expect(probe.prepare('SELECT value, exact FROM ix_string').all()).toEqual([{ value: 'a', exact: 'b|string:c' }]);
    probe.close();
    await store.close();
  });

  test('under steady writes the WAL is rewound past its limit instead of growing without end', async () => {
    const file = path.join(dir, 'w.sqlite');
    const limit = 512 * 1024;
    const store = await SqliteStore.openWithCheckpointer(file, { checkpointIntervalMs: 5, walLimitBytes: limit });
    const size = (f: string): number => fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    let walMax = 0;
    let written = 0;
    // A bound for a hung store only: a busy machine may take long to write the 24 limits.
    const deadline = Date.now() + 150_000;
    // Writers that never let the queue run dry, as a busy server's would, until the WAL has carried 24 limits.
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; size(file) < 24 * limit && Date.now() < deadline; i++) {
        const json = JSON.stringify({ resourceType: 'Patient', id: `w${w}-${i}`, text: 'x'.repeat(400) });
        await store.transaction(async (tx) => tx.writeVersion(version('Patient', `w${w}-${i}`, 1, [], { json })));
        written++;
        walMax = Math.max(walMax, size(`${file}-wal`));
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(writer));
    await store.close();
    const probe = new Database(file, { readonly: true });
    expect((probe.prepare('SELECT count(*) AS n FROM resources').get() as { n: number }).n).toBe(written);
    probe.close();
    // Without the rewinding the WAL is as large as everything written (24 limits and more); with it, it overshoots
    // its limit only by what commits while a checkpoint round runs.
    expect(size(file)).toBeGreaterThanOrEqual(24 * limit);
    expect(walMax).toBeLessThan(10 * limit);
  }, 180_000);

  test('when the checkpointer thread dies, the writer checkpoints by itself again and writes go on', async () => {
    const file = path.join(dir, 'c.sqlite');
    const store = await SqliteStore.openWithCheckpointer(file, { checkpointIntervalMs: 5 });
    const internals = store as unknown as { writer: Database.Database; checkpointer: { worker: Worker } };
    expect(internals.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await internals.checkpointer.worker.terminate();
    await new Promise((r) => setImmediate(r));
    expect(internals.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    const writes = Array.from({ length: 300 }, (_, i) =>
      store.transaction(async (tx) => tx.writeVersion(version('Patient', `after${i}`, 1))),
    );
    await expect(Promise.all(writes)).resolves.toHaveLength(300);
    await store.close();
  });

  test('openStore puts the file under DATA_DIR; an unreachable MONGODB_URL is a configuration error', async () => {
    const store = await openStore({ dataDir: dir });
    expect(fs.existsSync(path.join(dir, SQLITE_FILE_NAME))).toBe(true);
    await store.close();
    await expect(
      openStore({ dataDir: dir, mongodbUrl: 'mongodb://127.0.0.1:1', mongodbServerSelectionMs: 200 }),
    ).rejects.toThrow(StoreConfigError);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

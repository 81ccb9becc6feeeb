// Searches on worker threads: the same pages and errors as the inline reader, a timeout that refuses a slow
// search with 400 too-costly and replaces its worker, and the same through the API. Runs the compiled worker
// (npm test builds before Jest) on real store files.
import fs from 'node:fs';
import path from 'node:path';
import { FhirError, badRequest } from '../../../resources/errors';
import type { IndexEntry } from '../../../resources/search/index-entry';
import type { SearchQuery } from '../../../resources/search/query';
import type { ResourceStore } from '../../../resources/store/port';
import { SearchPool, errorData, errorFrom } from '../../../resources/store/sqlite/search-pool';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { WorkerPoolError } from '../../../resources/thread-pool';
import { startTestApp, tempDir } from '../../support/app';
import { describeStoreContract, query, version } from './contract';

describeStoreContract('SQLite with search workers', async () => {
  const dir = tempDir('hms-store-');
  const file = path.join(dir, 'test.sqlite');
  const store = await SqliteStore.openWithCheckpointer(file, { synchronous: 'NORMAL', searchWorkers: 1 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const FAMILIES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Garcia', 'Müller', 'Nguyen'];

function patientIndex(i: number): IndexEntry[] {
  const family = FAMILIES[i % FAMILIES.length];
  return [
    { type: 'string', param: 'name', value: family.toLowerCase(), exact: family },
    { type: 'string', param: 'name', value: `given${i}`, exact: `Given${i}` },
    { type: 'token', param: 'identifier', system: 'urn:mrn', code: `mrn${i}`, text: null },
    {
      type: 'date',
      param: 'birthdate',
      low: Date.UTC(1950 + (i % 60), 0, 1),
      high: Date.UTC(1951 + (i % 60), 0, 1) - 1,
    },
  ];
}

/** Writes `count` Patients with index entries through the store, in a few transactions. */
async function fill(store: ResourceStore, count: number): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        await tx.writeVersion(version('Patient', `p${i}`, 1, patientIndex(i)));
      }
    });
  }
}

/** 99 values no name contains, then one every Patient's does: each condition tries them all on every name. */
const CONTAINS_VALUES = [...Array.from({ length: 99 }, (_, i) => `absent${i}`), 'given'];

/** The count must evaluate every condition on every Patient: a search that is slow on any machine (~2 s here). */
function slowQuery(): SearchQuery {
  const condition = { kind: 'string', param: 'name', match: 'contains', values: CONTAINS_VALUES } as const;
  return query(
    'Patient',
    Array.from({ length: 40 }, () => condition),
  );
}

const FAST_QUERIES: SearchQuery[] = [
  query('Patient', [], { count: 10, sort: [{ param: 'name', paramType: 'string', descending: false }] }),
  query('Patient', [{ kind: 'string', param: 'name', match: 'start', values: ['smi', 'mull'] }], { count: 5 }),
  query('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: 'urn:mrn', code: 'mrn42' }] }]),
  query(
    'Patient',
    [
      {
        kind: 'date',
        param: 'birthdate',
        values: [{ prefix: 'ge', low: Date.UTC(2000, 0, 1), high: Date.UTC(2000, 0, 1) }],
      },
    ],
    {
      count: 7,
      total: 'none',
      sort: [{ param: 'birthdate', paramType: 'date', descending: true }],
    },
  ),
  query('Patient', [{ kind: 'id', ids: ['p1', 'p2', 'nope'] }]),
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('search pool', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let pool: SearchPool;

  beforeAll(async () => {
    dir = tempDir('hms-search-pool-');
    file = path.join(dir, 'pool.sqlite');
    store = SqliteStore.open(file, { synchronous: 'NORMAL' });
    await fill(store, 4000);
    pool = (await SearchPool.start(file, { size: 2, timeoutMs: 120_000 })) as SearchPool;
    expect(pool).toBeDefined();
  });
  afterAll(async () => {
    await pool.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('pages, cursors and totals equal the inline reader', async () => {
    for (const q of FAST_QUERIES) {
      const inline = await store.search(q);
      expect(inline.entries.length).toBeGreaterThan(0);
      expect(await pool.search(q)).toEqual(inline);
      if (inline.next)
        expect(await pool.search({ ...q, cursor: inline.next })).toEqual(
          await store.search({ ...q, cursor: inline.next }),
        );
    }
  });

  test("the compiler's and the cursor's 400s come back as the same FhirError", async () => {
    const invalid: SearchQuery[] = [
      query('Patient', [], { sort: [{ param: 'near', paramType: 'special', descending: false }] }),
      query('Patient', [], { cursor: 'not-a-cursor' }),
    ];
    for (const q of invalid) {
      const inline = (await rejection(store.search(q))) as FhirError;
      const pooled = await rejection(pool.search(q));
      expect(inline).toBeInstanceOf(FhirError);
      expect(pooled).toBeInstanceOf(FhirError);
      expect(pooled).toMatchObject({ status: 400, outcome: inline.outcome, message: inline.message });
    }
  });

  test('errors cross the thread boundary as data: a FhirError stays one, anything else is internal', () => {
    const fhir = errorFrom(errorData(badRequest('bad', 'x'))) as FhirError;
    expect(fhir).toBeInstanceOf(FhirError);
    expect(fhir).toMatchObject({ status: 400, message: 'bad', outcome: badRequest('bad', 'x').outcome });
    expect(errorFrom(errorData(new TypeError('boom')))).toBeInstanceOf(WorkerPoolError);
    expect(errorFrom(errorData(new TypeError('boom'))).message).toMatch(/TypeError: boom/);
    expect(errorFrom(errorData('odd')).message).toBe('odd');
  });

  test('a search that outlives the timeout is refused with 400 too-costly; the pool keeps answering', async () => {
    // Its cost on this machine, measured without a timeout worth the name.
    const started = performance.now();
    expect((await pool.search(slowQuery())).total).toBe(4000);
    const duration = performance.now() - started;
    const timeoutMs = Math.max(1, Math.floor(duration / 10));
    const short = (await SearchPool.start(file, { size: 1, timeoutMs })) as SearchPool;
    try {
      const slow = short.search(slowQuery());
      // Queued behind the slow search on the only worker: it moves to the replacement and is answered there.
      const queued = short.search(FAST_QUERIES[2]);
      const error = await rejection(slow);
      expect(error).toBeInstanceOf(FhirError);
      expect(error).toMatchObject({ status: 400, outcome: { issue: [{ code: 'too-costly' }] } });
      expect((error as FhirError).message).toBe(
        `The search did not finish within ${timeoutMs} ms: narrow it with more selective parameters`,
      );
      expect(await queued).toEqual(await store.search(FAST_QUERIES[2]));
      expect(await short.search(FAST_QUERIES[4])).toEqual(await store.search(FAST_QUERIES[4]));
    } finally {
      await short.close();
    }
    expect(timeoutMs).toBeLessThan(duration / 5);
  });

  test('a worker that dies fails its pending searches and is replaced; a closed pool refuses', async () => {
    const threads = (pool as unknown as { pool: { threads: { worker: { terminate(): Promise<number> } }[] } }).pool
      .threads;
    const pending = pool.search(slowQuery());
    await Promise.all(threads.map((t) => t.worker.terminate()));
    expect(await rejection(pending)).toBeInstanceOf(WorkerPoolError);
    // Searches sent while the replacements start wait for them.
    expect(await pool.search(FAST_QUERIES[1])).toEqual(await store.search(FAST_QUERIES[1]));
    for (let i = 0; i < 600 && threads.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(threads).toHaveLength(2);
    const other = (await SearchPool.start(file, { size: 1, timeoutMs: 1000 })) as SearchPool;
    await other.close();
    await expect(other.search(FAST_QUERIES[0])).rejects.toThrow(/no search worker is running/);
  });
});

describe('search timeout through the API', () => {
  test('a search that takes too long answers 400 with an OperationOutcome too-costly', async () => {
    const t = await startTestApp({ searchWorkers: 1, searchTimeoutMs: 20 });
    try {
      await fill(t.services.store, 4000);
      const names = Array.from({ length: 10 }, () => `name:contains=${CONTAINS_VALUES.join(',')}`).join('&');
      const res = await t.api().get(`/fhir/Patient?${names}&_total=accurate`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'too-costly', diagnostics: expect.stringMatching(/within 20 ms/) }],
      });
    } finally {
      await t.close();
    }
  });
});

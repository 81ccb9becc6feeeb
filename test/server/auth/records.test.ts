// The AuthRecords contract, on the SQLite file and on the MongoDB adapter (its filters evaluated by mingo):
// insert-if-absent, expiry, single use under concurrency, listing and purging.
import fs from 'node:fs';
import path from 'node:path';
import { MongoAuthRecords } from '../../../server/auth/records/mongo-records';
import type { AuthRecords } from '../../../server/auth/records/port';
import { SqliteAuthRecords } from '../../../server/auth/records/sqlite-records';
import { tempDir } from '../../support/app';
import { MingoRecordCollection } from '../../support/mingo-records';

const adapters: [string, () => { records: AuthRecords; cleanup: () => void }][] = [
  [
    'sqlite',
    () => {
      const dir = tempDir('hms-records-');
      const records = new SqliteAuthRecords(path.join(dir, 'auth.sqlite'));
      return { records, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  ['mongo (mingo)', () => ({ records: new MongoAuthRecords(new MingoRecordCollection()), cleanup: () => undefined })],
];

describe.each(adapters)('AuthRecords on %s', (_name, open) => {
  let records: AuthRecords;
  let cleanup: () => void;
  beforeEach(() => {
    ({ records, cleanup } = open());
  });
  afterEach(async () => {
    await records.close();
    cleanup();
  });

  test('insert keeps a live record and replaces an expired one', async () => {
    expect(await records.insert('jti', { key: 'a', value: 1, expiresAt: Date.now() + 60_000 })).toBe(true);
    expect(await records.insert('jti', { key: 'a', value: 2, expiresAt: Date.now() + 60_000 })).toBe(false);
    expect(await records.get('jti', 'a')).toBe(1);
    expect(await records.insert('jti', { key: 'old', value: 1, expiresAt: Date.now() - 1 })).toBe(true);
    expect(await records.get('jti', 'old')).toBeUndefined();
    expect(await records.insert('jti', { key: 'old', value: 3, expiresAt: Date.now() + 60_000 })).toBe(true);
    expect(await records.get('jti', 'old')).toBe(3);
  });

  test('put replaces, kinds are separate, delete and list', async () => {
    await records.put('client', { key: 'b', value: { n: 1 } });
    await records.put('client', { key: 'a', value: { n: 2 } });
    await records.put('user', { key: 'a', value: { n: 3 } });
    await records.put('client', { key: 'b', value: { n: 4 } });
    expect(await records.list('client')).toEqual([
      { key: 'a', value: { n: 2 } },
      { key: 'b', value: { n: 4 } },
    ]);
    expect(await records.delete('client', 'a')).toBe(true);
    expect(await records.delete('client', 'a')).toBe(false);
    expect(await records.get('user', 'a')).toEqual({ n: 3 });
  });

  test('consume: exactly one first use among concurrent callers; unknown and expired give undefined', async () => {
    await records.put('code', { key: 'c', value: 'ctx', expiresAt: Date.now() + 60_000 });
    const uses = await Promise.all(Array.from({ length: 8 }, () => records.consume('code', 'c')));
    expect(uses.filter((u) => u?.first)).toHaveLength(1);
    expect(uses.every((u) => u?.value === 'ctx')).toBe(true);
    expect(await records.consume('code', 'nope')).toBeUndefined();
    await records.put('code', { key: 'gone', value: 'x', expiresAt: Date.now() - 1 });
    expect(await records.consume('code', 'gone')).toBeUndefined();
  });

  test('purgeExpired removes only what expired', async () => {
    await records.put('s', { key: 'live', value: 1, expiresAt: Date.now() + 60_000 });
    await records.put('s', { key: 'dead', value: 1, expiresAt: Date.now() - 1 });
    await records.put('s', { key: 'forever', value: 1 });
    expect(await records.purgeExpired()).toBe(1);
    expect((await records.list('s')).map((r) => r.key)).toEqual(['forever', 'live']);
  });
});

test("the SQLite file is shared: a second connection (the CLI) sees the server's writes and vice versa", async () => {
  const dir = tempDir('hms-records-');
  const file = path.join(dir, 'auth.sqlite');
  const server = new SqliteAuthRecords(file);
  const cli = new SqliteAuthRecords(file);
  try {
    await cli.put('client', { key: 'x', value: 1 });
    expect(await server.get('client', 'x')).toBe(1);
    await server.put('client', { key: 'x', value: 2 });
    expect(await cli.get('client', 'x')).toBe(2);
  } finally {
    await server.close();
    await cli.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

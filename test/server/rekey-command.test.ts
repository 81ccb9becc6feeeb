// `hms rekey`, `hms backup` and `hms restore` as the command line runs them, on a real DATA_DIR: every data file
// encrypted, rekeyed and decrypted in turn with the documented flags and variables; usage errors; refusals.
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMessageStore } from '../../integrations/hl7v2/message-store/sqlite-messages';
import { useDataKey } from '../../resources/store/sqlite/data-key';
import { isPlainDatabase } from '../../resources/store/sqlite/open-database';
import { SqliteStore } from '../../resources/store/sqlite/sqlite-store';
import { SqliteAuthRecords } from '../../server/auth/records/sqlite-records';
import { main } from '../../server/cli';
import { tempDir } from '../support/app';
import { version } from '../resources/store/contract';
import { capture } from '../support/cli-io';

const FIRST = 'the first data key, long';
const SECOND = 'the second data key, long';
const FILES = ['hms.sqlite', 'auth.sqlite', 'hl7.sqlite'];
const VARIABLES = ['DATA_DIR', 'HMS_DATA_KEY', 'HMS_NEW_DATA_KEY', 'MONGODB_URL'];

let dataDir: string;
beforeEach(async () => {
  dataDir = tempDir('hms-rekey-cli-');
  process.env.DATA_DIR = dataDir;
  const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: undefined, synchronous: 'NORMAL' });
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', 'p1', 1)));
  await store.close();
  const auth = new SqliteAuthRecords(path.join(dataDir, 'auth.sqlite'));
  await auth.put('client', { key: 'c1', value: { id: 'c1' } });
  await auth.close();
  await new SqliteMessageStore(path.join(dataDir, 'hl7.sqlite')).close();
});
afterEach(() => {
  // Each command sets the process key from HMS_DATA_KEY; the next test starts without one.
  useDataKey(undefined);
  for (const name of VARIABLES) if (name !== 'DATA_DIR') delete process.env[name];
  delete process.env.DATA_DIR;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  for (const name of VARIABLES.slice(1)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
  const io = capture();
  const code = await main(args, io);
  return { code, stderr: io.stderr, stdout: io.stdout };
}

/** The patient written before, read with `key`. */
async function readable(key: string | undefined): Promise<boolean> {
  const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key });
  const found = await store.readCurrent('Patient', 'p1');
  await store.close();
  return found !== undefined;
}

const plain = () => FILES.map((name) => isPlainDatabase(path.join(dataDir, name)));

test('rekey: encrypt with HMS_NEW_DATA_KEY, change with --new-key-file, decrypt with --decrypt', async () => {
  const encrypt = await run(['rekey'], { HMS_NEW_DATA_KEY: FIRST });
  expect(encrypt).toMatchObject({ code: 0 });
  expect(encrypt.stderr).toBe(
    'hms.sqlite: encrypted\nauth.sqlite: encrypted\nhl7.sqlite: encrypted\ndone: set HMS_DATA_KEY to the new key\n',
  );
  expect(plain()).toEqual([false, false, false]);
  // Commands open the store with HMS_DATA_KEY (`audit verify` is one that opens it).
  expect((await run(['audit', 'verify'], { HMS_DATA_KEY: FIRST })).stdout).toContain('"ok":true');
  const locked = await run(['audit', 'verify']);
  expect(locked.code).toBe(3);
  expect(locked.stderr).toMatch(/^Store error: .*hms.sqlite is encrypted/);

  const keyFile = path.join(dataDir, 'new.key');
  fs.writeFileSync(keyFile, `${SECOND}\n`);
  const change = await run(['rekey', '--new-key-file', keyFile], { HMS_DATA_KEY: FIRST });
  expect(change.stderr).toMatch(/^hms.sqlite: rekeyed\nauth.sqlite: rekeyed\nhl7.sqlite: rekeyed\n/);
  expect(() => SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: FIRST })).toThrow(/does not open/);
  expect(await readable(SECOND)).toBe(true);

  const decrypt = await run(['rekey', '--decrypt'], { HMS_DATA_KEY: SECOND });
  expect(decrypt.stderr).toBe(
    'hms.sqlite: decrypted\nauth.sqlite: decrypted\nhl7.sqlite: decrypted\ndone: unset HMS_DATA_KEY\n',
  );
  expect(plain()).toEqual([true, true, true]);
  expect(await readable(undefined)).toBe(true);
});

test('rekey with only HMS_DATA_KEY encrypts the files still plain, and is a no-op after', async () => {
  expect((await run(['rekey'], { HMS_DATA_KEY: FIRST })).stderr).toMatch(/^hms.sqlite: encrypted\n/);
  expect((await run(['rekey'], { HMS_DATA_KEY: FIRST })).stderr).toBe(
    'hms.sqlite: unchanged\nauth.sqlite: unchanged\nhl7.sqlite: unchanged\n',
  );
});

test('rekey usage errors exit 2 and change nothing', async () => {
  const keyFile = path.join(dataDir, 'short.key');
  fs.writeFileSync(keyFile, 'short');
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['rekey'], {}, /no key given/],
    [['rekey', '--bogus'], {}, /Usage: hms rekey/],
    [['rekey', '--new-key-file'], {}, /Usage: hms rekey/],
    [['rekey', '--decrypt', 'extra'], {}, /Usage: hms rekey/],
    [['rekey', '--decrypt', 'a', 'b'], {}, /Usage: hms rekey/],
    [['rekey', '--decrypt'], { HMS_NEW_DATA_KEY: FIRST }, /either in HMS_NEW_DATA_KEY or as a flag/],
    [['rekey', '--new-key-file', keyFile], {}, /at least 16 characters/],
    [['rekey', '--new-key-file', path.join(dataDir, 'none')], {}, /cannot read the key file/],
    [['rekey'], { HMS_NEW_DATA_KEY: 'short' }, /HMS_NEW_DATA_KEY must have at least 16/],
  ];
  for (const [args, env, message] of cases) {
    const result = await run(args, env);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(message)]);
  }
  expect(plain()).toEqual([true, true, true]);
});

test('rekey while a file is open elsewhere (the server running): exit 3, nothing changed', async () => {
  const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: undefined });
  try {
    const result = await run(['rekey'], { HMS_NEW_DATA_KEY: FIRST });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/hms.sqlite is in use: stop the server/);
  } finally {
    await store.close();
  }
  expect(plain()).toEqual([true, true, true]);
});

test('backup and restore from the command line; usage errors; MongoDB stores are pointed to mongodump', async () => {
  const target = path.join(tempDir('hms-bk-'), 'b');
  const backup = await run(['backup', target], { HMS_DATA_KEY: undefined });
  expect(backup.code).toBe(0);
  expect(backup.stderr).toMatch(/backed up hms.sqlite \(\d+ bytes\)\n.*\n.*\nbackup complete in /);
  expect((await run(['restore', target])).stderr).toMatch(/restored hms.sqlite, auth.sqlite, hl7.sqlite into /);
  expect(fs.existsSync(path.join(dataDir, 'hms.sqlite.before-restore'))).toBe(true);
  expect(await readable(undefined)).toBe(true);
  const again = await run(['restore', target]);
  expect(again.code).toBe(3);
  expect(again.stderr).toMatch(/^Store error: .*left from an earlier restore/);
  for (const args of [['backup'], ['backup', '--x'], ['restore'], ['restore', 'a', 'b']]) {
    const result = await run(args);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(/^Usage: hms (backup|restore) DIR/)]);
  }
  for (const command of ['backup', 'restore']) {
    const mongo = await run([command, target], { MONGODB_URL: 'mongodb://127.0.0.1:1/hms' });
    expect([mongo.code, mongo.stderr]).toEqual([2, expect.stringContaining('mongodump/mongorestore')]);
  }
  fs.rmSync(path.dirname(target), { recursive: true, force: true });
});

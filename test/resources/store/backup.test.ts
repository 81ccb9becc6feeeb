// Backup and restore of a data directory's SQLite files on real files: a copy of each file (encrypted with the
// key when there is one), checked before anything is replaced; a restore that keeps what it replaced and refuses
// damaged backups, wrong keys and files in use.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAuthRecords } from '../../../server/auth/records/sqlite-records';
import { StoreConfigError } from '../../../resources/store';
import { BEFORE_RESTORE, MANIFEST_FILE, backupDataDir, restoreDataDir } from '../../../resources/store/sqlite/backup';
import { DatabaseInUseError, isPlainDatabase } from '../../../resources/store/sqlite/open-database';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { tempDir } from '../../support/app';
import { version } from './contract';

const KEY = 'backup key of enough length';
const NAMES = ['hms.sqlite', 'auth.sqlite', 'hl7.sqlite'];

let root: string;
let dataDir: string;
let backup: string;
beforeEach(() => {
  root = tempDir('hms-backup-');
  dataDir = path.join(root, 'data');
  backup = path.join(root, 'backup');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

async function seed(key: string | undefined, ids: string[]): Promise<void> {
  const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key, synchronous: 'NORMAL' });
  await store.transaction(async (tx) => {
    for (const id of ids) await tx.writeVersion(version('Patient', id, 1));
  });
  await store.close();
  const auth = new SqliteAuthRecords(path.join(dataDir, 'auth.sqlite'), key);
  await auth.put('client', { key: ids[0], value: { id: ids[0] } });
  await auth.close();
}

async function patients(key: string | undefined): Promise<string[]> {
  const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key });
  const page = await store.scan('Patient', { count: 100 });
  await store.close();
  return page.entries.map((e) => e.id).sort();
}

test.each([
  ['encrypted', KEY],
  ['plain', undefined],
])('%s: backup, later writes, restore -> the state of the backup, the replaced files kept', async (_, key) => {
  await seed(key, ['a', 'b']);
  const manifest = backupDataDir(dataDir, backup, NAMES, key);
  expect(manifest).toMatchObject({ format: 'hms-sqlite-backup', version: 1, encrypted: key !== undefined });
  // hl7.sqlite did not exist: the backup holds the two files there were.
  expect(manifest.files.map((f) => f.name)).toEqual(['hms.sqlite', 'auth.sqlite']);
  expect(fs.readdirSync(backup).sort()).toEqual(['auth.sqlite', 'hms.sqlite', MANIFEST_FILE]);
  for (const name of ['hms.sqlite', 'auth.sqlite']) {
    expect(isPlainDatabase(path.join(backup, name))).toBe(key === undefined);
    expect(fs.statSync(path.join(backup, name)).mode & 0o777).toBe(0o600);
  }
  await seed(key, ['c']);
  fs.writeFileSync(path.join(dataDir, 'hl7.sqlite'), '');
  expect(await patients(key)).toEqual(['a', 'b', 'c']);

  expect(restoreDataDir(backup, dataDir, NAMES, key)).toEqual(['hms.sqlite', 'auth.sqlite']);
  expect(await patients(key)).toEqual(['a', 'b']);
  // What was replaced, and the file the backup did not have, are kept beside the restored files.
  expect(fs.readdirSync(dataDir).sort()).toEqual([
    'auth.sqlite',
    'auth.sqlite.before-restore',
    'hl7.sqlite.before-restore',
    'hms.sqlite',
    'hms.sqlite.before-restore',
  ]);
  const before = SqliteStore.open(path.join(dataDir, `hms.sqlite${BEFORE_RESTORE}`), { key });
  expect((await before.scan('Patient', { count: 10 })).entries).toHaveLength(3);
  await before.close();
});

test('a backup is refused into a directory that is not empty, or from a directory without the files', async () => {
  fs.mkdirSync(backup);
  fs.writeFileSync(path.join(backup, 'other'), 'x');
  await seed(undefined, ['a']);
  expect(() => backupDataDir(dataDir, backup, NAMES, undefined)).toThrow(/is not empty/);
  expect(() => backupDataDir(path.join(root, 'empty'), path.join(root, 'b2'), NAMES, undefined)).toThrow(
    /nothing to back up/,
  );
});

test('the backup of an encrypted store needs its key', async () => {
  await seed(KEY, ['a']);
  expect(() => backupDataDir(dataDir, backup, NAMES, undefined)).toThrow(/is encrypted/);
});

describe('a restore refuses, changing nothing', () => {
  beforeEach(async () => {
    await seed(KEY, ['a']);
    backupDataDir(dataDir, backup, NAMES, KEY);
  });
  const unchanged = () => expect(fs.readdirSync(dataDir).sort()).toEqual(['auth.sqlite', 'hms.sqlite']);

  test('a damaged backup file', () => {
    const file = path.join(backup, 'hms.sqlite');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(/missing or damaged/);
    unchanged();
  });

  test('a damaged file whose manifest was made to match: integrity_check', () => {
    const file = path.join(backup, 'hms.sqlite');
    const bytes = fs.readFileSync(file);
    bytes.fill(0, 8192, 16384);
    fs.writeFileSync(file, bytes);
    const manifestFile = path.join(backup, MANIFEST_FILE);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    manifest.files[0].sha256 = createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(StoreConfigError);
    unchanged();
  });

  test('an unfinished backup, or not a backup', () => {
    fs.rmSync(path.join(backup, MANIFEST_FILE));
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(/not a finished backup/);
    fs.writeFileSync(path.join(backup, MANIFEST_FILE), '{"format":"other"}');
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(/not a manifest/);
    unchanged();
  });

  test('a manifest naming a file that is not one of the store', () => {
    const manifestFile = path.join(backup, MANIFEST_FILE);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    manifest.files[0].name = '../escape.sqlite';
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(/unknown file/);
    unchanged();
  });

  test('no key, a wrong key, or a key for a plain backup', async () => {
    expect(() => restoreDataDir(backup, dataDir, NAMES, undefined)).toThrow(/backup is encrypted/);
    expect(() => restoreDataDir(backup, dataDir, NAMES, 'some other key, long')).toThrow(/does not open/);
    const plain = path.join(root, 'plain');
    const plainData = path.join(root, 'plain-data');
    fs.mkdirSync(plainData);
    const store = SqliteStore.open(path.join(plainData, 'hms.sqlite'), { key: undefined });
    await store.close();
    backupDataDir(plainData, plain, NAMES, undefined);
    expect(() => restoreDataDir(plain, dataDir, NAMES, KEY)).toThrow(/not encrypted.*hms rekey/);
    unchanged();
  });

  test('a live file in use (the server running)', async () => {
    const store = SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: KEY });
    try {
      expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(DatabaseInUseError);
    } finally {
      await store.close();
    }
    unchanged();
  });

  test('a .before-restore file left by an earlier restore', () => {
    restoreDataDir(backup, dataDir, NAMES, KEY);
    expect(() => restoreDataDir(backup, dataDir, NAMES, KEY)).toThrow(/left from an earlier restore/);
  });
});

test('a restore into an empty data directory creates it', async () => {
  await seed(undefined, ['a', 'b']);
  backupDataDir(dataDir, backup, NAMES, undefined);
  dataDir = path.join(root, 'fresh');
  expect(restoreDataDir(backup, dataDir, NAMES, undefined)).toEqual(['hms.sqlite', 'auth.sqlite']);
  expect(await patients(undefined)).toEqual(['a', 'b']);
});

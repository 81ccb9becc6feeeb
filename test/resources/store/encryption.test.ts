// Encryption at rest: with a key, no byte of a stored resource is readable in the store file or its WAL (nor in the
// auth and HL7 files); without one, the same bytes are there in plain. A key that does not open a file is a clear
// error naming the file. Workers (searches, checkpoints) open the file with the store's key. Real files throughout.
import fs from 'node:fs';
import path from 'node:path';
import { SqliteAuthRecords } from '../../../server/auth/records/sqlite-records';
import { SqliteMessageStore } from '../../../integrations/hl7v2/message-store/sqlite-messages';
import { openStore, SQLITE_FILE_NAME, StoreConfigError } from '../../../resources/store';
import { dataKey, useDataKey } from '../../../resources/store/sqlite/data-key';
import { isInUse, isPlainDatabase, openDatabase } from '../../../resources/store/sqlite/open-database';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { tempDir } from '../../support/app';
import { query, version } from './contract';

const KEY = 'correct horse battery staple';
const MARKER = 'plaintextmarker4217';

const contains = (file: string, text: string) => fs.existsSync(file) && fs.readFileSync(file).includes(text);

let dir: string;
beforeEach(() => {
  dir = tempDir('hms-crypt-');
});
afterEach(() => {
  useDataKey(undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function writeMarker(store: SqliteStore): Promise<void> {
  const index = [{ type: 'string' as const, param: 'name', value: MARKER, exact: MARKER }];
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', MARKER, 1, index)));
}

test.each([
  ['with a key', KEY, false],
  ['without a key', undefined, true],
])('%s, the WAL and then the file hold a stored string encrypted or in plain', async (_, key, readable) => {
  const file = path.join(dir, 'store.sqlite');
  const store = SqliteStore.open(file, { key, synchronous: 'NORMAL' });
  await writeMarker(store);
  // Before the checkpoint the resource is in the WAL only; after the store closes, in the file.
  expect(contains(`${file}-wal`, MARKER)).toBe(readable);
  await store.close();
  expect(contains(file, MARKER)).toBe(readable);
  expect(isPlainDatabase(file)).toBe(readable);
  const reopened = SqliteStore.open(file, { key });
  expect((await reopened.readCurrent('Patient', MARKER))?.versionId).toBe(1);
  await reopened.close();
});

test('the search workers and the checkpointer thread open the file with the store key', async () => {
  const file = path.join(dir, 'store.sqlite');
  // Each worker fails to start if it cannot read the file, and then so does the store.
  const store = await SqliteStore.openWithCheckpointer(file, {
    key: KEY,
    synchronous: 'NORMAL',
    searchWorkers: 1,
    checkpointIntervalMs: 5,
  });
  try {
    const before = fs.readFileSync(file);
    await writeMarker(store);
    const page = await store.search(
      query('Patient', [{ kind: 'string', param: 'name', match: 'exact', values: [MARKER] }]),
    );
    expect(page.entries.map((e) => e.id)).toEqual([MARKER]);
    // The checkpointer copies the write from the WAL into the file: wait for the file to change.
    for (let i = 0; i < 250 && fs.readFileSync(file).equals(before); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readFileSync(file).equals(before)).toBe(false);
  } finally {
    await store.close();
  }
  expect(contains(file, MARKER)).toBe(false);
});

test('the process key (HMS_DATA_KEY) encrypts the store, auth and HL7 files opened without one', async () => {
  useDataKey(KEY);
  expect(dataKey()).toBe(KEY);
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  const auth = new SqliteAuthRecords(path.join(dir, 'auth.sqlite'));
  const hl7 = new SqliteMessageStore(path.join(dir, 'hl7.sqlite'));
  await auth.put('client', { key: MARKER, value: { name: MARKER } });
  await hl7.putSetting(MARKER, MARKER);
  await Promise.all([store.close(), auth.close(), hl7.close()]);
  for (const name of [SQLITE_FILE_NAME, 'auth.sqlite', 'hl7.sqlite']) {
    expect(isPlainDatabase(path.join(dir, name))).toBe(false);
    expect(contains(path.join(dir, name), MARKER)).toBe(false);
  }
  const reopened = new SqliteAuthRecords(path.join(dir, 'auth.sqlite'), KEY);
  expect(await reopened.get('client', MARKER)).toEqual({ name: MARKER });
  await reopened.close();
});

describe('a key that does not open the file is a clear error', () => {
  let file: string;
  beforeEach(async () => {
    file = path.join(dir, 'store.sqlite');
  });

  test('a wrong key', async () => {
    await SqliteStore.open(file, { key: KEY }).close();
    const open = () => SqliteStore.open(file, { key: 'not the right key at all' });
    expect(open).toThrow(StoreConfigError);
    expect(open).toThrow(`HMS_DATA_KEY does not open ${file}: wrong key, or the file is not encrypted`);
  });

  test('no key for an encrypted file', async () => {
    await SqliteStore.open(file, { key: KEY }).close();
    expect(() => SqliteStore.open(file, { key: undefined })).toThrow(`${file} is encrypted`);
    expect(() => new SqliteMessageStore(file, undefined)).toThrow(/set HMS_DATA_KEY/);
  });

  test('a key for a file that is not encrypted yet: run hms rekey', async () => {
    await SqliteStore.open(file).close();
    expect(() => SqliteStore.open(file, { key: KEY })).toThrow(/is not encrypted.*run `hms rekey`/);
    expect(() => new SqliteAuthRecords(file, KEY)).toThrow(StoreConfigError);
  });

  test('other failures are not taken for a key problem', () => {
    fs.mkdirSync(file);
    expect(() => openDatabase(file, { key: KEY })).toThrow();
    expect(() => openDatabase(file, { key: KEY })).not.toThrow(StoreConfigError);
  });
});

test('with a key, SQLite keeps its temporary files (which it does not encrypt) in memory', () => {
  const file = path.join(dir, 'temp.sqlite');
  const encrypted = openDatabase(file, { key: KEY });
  expect(encrypted.pragma('temp_store', { simple: true })).toBe(2);
  encrypted.close();
  const plain = openDatabase(path.join(dir, 'plain.sqlite'));
  expect(plain.pragma('temp_store', { simple: true })).toBe(0);
  plain.close();
});

test('isInUse: a file another connection holds open, and only then', async () => {
  const file = path.join(dir, 'store.sqlite');
  expect(isInUse(file)).toBe(false);
  const store = SqliteStore.open(file, { key: KEY });
  expect(isInUse(file)).toBe(true);
  await store.close();
  expect(isInUse(file)).toBe(false);
  expect(isPlainDatabase(path.join(dir, 'missing'))).toBe(false);
});

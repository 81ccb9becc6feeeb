// Rekeying a real store file in each direction (plain -> encrypted -> another key -> plain), keeping its data, and
// refusing while another connection holds the file.
import fs from 'node:fs';
import path from 'node:path';
import { StoreConfigError } from '../../../resources/store';
import { DatabaseInUseError, isPlainDatabase, openDatabase } from '../../../resources/store/sqlite/open-database';
import { checkFile, rekeyFile } from '../../../resources/store/sqlite/rekey';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { tempDir } from '../../support/app';
import { version } from './contract';

const FIRST = 'first key of sixteen chars';
const SECOND = 'second key, also long enough';
const MARKER = 'rekeymarker9183';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = tempDir('hms-rekey-');
  file = path.join(dir, 'hms.sqlite');
  const store = SqliteStore.open(file, { key: undefined, synchronous: 'NORMAL' });
  await store.transaction(async (tx) => tx.writeVersion(version('Patient', MARKER, 1)));
  await store.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function expectReadable(key: string | undefined): Promise<void> {
  const db = openDatabase(file, { key });
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  db.close();
  const store = SqliteStore.open(file, { key });
  expect((await store.readCurrent('Patient', MARKER))?.id).toBe(MARKER);
  await store.close();
  expect(fs.readFileSync(file).includes(MARKER)).toBe(key === undefined);
  expect(isPlainDatabase(file)).toBe(key === undefined);
}

test('encrypts a plain file, changes its key, and decrypts it, keeping its data and WAL mode', async () => {
  expect(rekeyFile(file, undefined, FIRST)).toBe('encrypted');
  await expectReadable(FIRST);
  expect(() => SqliteStore.open(file, { key: undefined })).toThrow(StoreConfigError);

  expect(rekeyFile(file, FIRST, SECOND)).toBe('rekeyed');
  await expectReadable(SECOND);
  expect(() => SqliteStore.open(file, { key: FIRST })).toThrow(/does not open/);

  expect(rekeyFile(file, SECOND, undefined)).toBe('decrypted');
  await expectReadable(undefined);
  checkFile(file, undefined, 'integrity_check');
});

test('HMS_DATA_KEY already set on a plain file: it is encrypted with it', async () => {
  expect(rekeyFile(file, FIRST, FIRST)).toBe('encrypted');
  await expectReadable(FIRST);
});

test('nothing to do: a plain file left plain, a file already on the key, or already on the new key', async () => {
  expect(rekeyFile(file, undefined, undefined)).toBe('unchanged');
  rekeyFile(file, undefined, FIRST);
  expect(rekeyFile(file, FIRST, FIRST)).toBe('unchanged');
  // A run interrupted after this file was done is resumed with the same settings.
  expect(rekeyFile(file, 'the key before the first one', FIRST)).toBe('unchanged');
  await expectReadable(FIRST);
});

test('a wrong current key, a missing key or a missing file is refused, the file untouched', () => {
  rekeyFile(file, undefined, FIRST);
  const before = fs.readFileSync(file);
  expect(() => rekeyFile(file, SECOND, 'a third key, long enough')).toThrow(/HMS_DATA_KEY does not open/);
  expect(() => rekeyFile(file, SECOND, SECOND)).toThrow(/HMS_DATA_KEY does not open/);
  expect(() => rekeyFile(file, undefined, SECOND)).toThrow(/is encrypted/);
  expect(fs.readFileSync(file).equals(before)).toBe(true);
  expect(() => rekeyFile(path.join(dir, 'none.sqlite'), undefined, FIRST)).toThrow(/does not exist/);
});

test('a file open elsewhere (a running server) is refused and stays as it was', async () => {
  const store = SqliteStore.open(file, { key: undefined });
  try {
    expect(() => rekeyFile(file, undefined, FIRST)).toThrow(DatabaseInUseError);
    expect(() => rekeyFile(file, undefined, FIRST)).toThrow(`${file} is in use: stop the server`);
  } finally {
    await store.close();
  }
  await expectReadable(undefined);
});

test('checkFile reports a damaged file', () => {
  const damaged = path.join(dir, 'damaged.sqlite');
  fs.copyFileSync(file, damaged);
  const bytes = fs.readFileSync(damaged);
  // Scribble over the pages after the first (the schema stays readable, the tables do not).
  bytes.fill(0x55, 4096, bytes.length);
  fs.writeFileSync(damaged, bytes);
  expect(() => checkFile(damaged, undefined, 'integrity_check')).toThrow();
});

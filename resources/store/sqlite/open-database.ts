// Opens a SQLite file through the encrypting driver (SQLite3 Multiple Ciphers): with a key, every page of the
// file and of its WAL is encrypted (ChaCha20 with a Poly1305 tag per page); without one the file is plain SQLite.
// A key that does not open the file is a clear start-up error, never a crash deep inside the first query.
import fs from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { StoreConfigError } from '../config-error';

/**
 * SQLite3 Multiple Ciphers' default, named so that a later default cannot change how files are read. Authenticated
 * (a tampered page fails to read) and, measured here, 2–3x cheaper per page than the SQLCipher scheme.
 */
export const DATABASE_CIPHER = 'chacha20';

/** The first 16 bytes of every unencrypted SQLite file; an encrypted file starts with its random salt instead. */
const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenOptions {
  /** The passphrase (HMS_DATA_KEY); absent opens or creates a plain file. */
  key?: string;
  readonly?: boolean;
  /** Milliseconds to wait for a lock held by another connection (better-sqlite3's default is 5000). */
  timeout?: number;
}

/** Opens `file` with the cipher and key applied before any other statement, and checks that the key opens it. */
export function openDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const db = new Database(file, { readonly: options.readonly ?? false, timeout: options.timeout ?? 5000 });
  try {
    db.pragma(`cipher = '${DATABASE_CIPHER}'`);
    if (options.key !== undefined) {
      db.key(Buffer.from(options.key, 'utf8'));
      // SQLite does not encrypt its temporary files (large sorts, statement journals): keep them in memory.
      db.pragma('temp_store = MEMORY');
    }
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (error) {
    db.close();
    throw (error as { code?: string }).code === 'SQLITE_NOTADB' ? keyError(file, options.key) : error;
  }
  return db;
}

/** Whether `file` is an unencrypted SQLite database (false for an encrypted one, and for a missing or empty file). */
export function isPlainDatabase(file: string): boolean {
  const header = Buffer.alloc(PLAIN_HEADER.length);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    return fs.readSync(fd, header, 0, header.length, 0) === header.length && header.equals(PLAIN_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

function keyError(file: string, key: string | undefined): StoreConfigError {
  if (key === undefined) {
    return new StoreConfigError(`${file} is encrypted (or not a SQLite database): set HMS_DATA_KEY to its key`);
  }
  if (isPlainDatabase(file)) {
    return new StoreConfigError(
      `${file} is not encrypted, but HMS_DATA_KEY is set: stop the server and run \`hms rekey\` to encrypt it`,
    );
  }
  return new StoreConfigError(`HMS_DATA_KEY does not open ${file}: wrong key, or the file is not encrypted`);
}

/** Refusal of an operation that needs every other connection on the file closed (rekey, restore). */
export class DatabaseInUseError extends StoreConfigError {
  constructor(file: string) {
    super(`${file} is in use: stop the server (and any hms command on this DATA_DIR) first`);
  }
}

/**
 * Whether another connection has `file` open: every connection in WAL mode holds a shared lock on the file for as
 * long as it is open, so an exclusive lock is refused at once. Needs no key (locks come before any page is read).
 */
export function isInUse(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (error) {
    return String((error as { code?: string }).code).startsWith('SQLITE_BUSY');
  } finally {
    db.close();
  }
}

// Changes the encryption of one SQLite file in place: encrypts a plain file, changes its key, or decrypts it.
// SQLite3 Multiple Ciphers rewrites every page in one transaction, which it cannot do in WAL mode, so the file is
// switched to a rollback journal for the rewrite (which checkpoints the WAL into it) and back to WAL after. Both
// switches need every other connection closed, so a running server or command makes this refuse, file untouched.
import fs from 'node:fs';
import { StoreConfigError } from '../config-error';
import { DatabaseInUseError, isPlainDatabase, openDatabase } from './open-database';

export type RekeyOutcome = 'encrypted' | 'rekeyed' | 'decrypted' | 'unchanged';

/**
 * Makes `file` readable with `newKey` (undefined: not encrypted). `currentKey` opens it now, unless it is a plain
 * file or already uses `newKey` (an interrupted run over several files is resumed by running it again).
 */
export function rekeyFile(file: string, currentKey: string | undefined, newKey: string | undefined): RekeyOutcome {
  if (!fs.existsSync(file)) throw new StoreConfigError(`${file} does not exist`);
  const plain = isPlainDatabase(file);
  const from = plain ? undefined : currentKey;
  if (!plain && opensWith(file, newKey, from)) return 'unchanged';
  if (from === newKey) {
    // Nothing to change, but a wrong current key is still worth saying.
    if (!plain) openDatabase(file, { key: from }).close();
    return 'unchanged';
  }
  const db = openDatabase(file, { key: from, timeout: 0 });
  try {
    if (!switchJournal(db, 'delete')) throw new DatabaseInUseError(file);
    // An empty key decrypts. The driver throws if SQLite fails, and the rewrite then rolls back.
    db.rekey(Buffer.from(newKey ?? '', 'utf8'));
    switchJournal(db, 'wal');
  } finally {
    db.close();
  }
  checkFile(file, newKey);
  if (plain) return 'encrypted';
  return newKey === undefined ? 'decrypted' : 'rekeyed';
}

/** Runs SQLite's quick_check on `file` opened with `key`; throws unless it reports ok. */
export function checkFile(
  file: string,
  key: string | undefined,
  check: 'quick_check' | 'integrity_check' = 'quick_check',
): void {
  const db = openDatabase(file, { key });
  try {
    const result = db.pragma(check, { simple: true });
    if (result !== 'ok') throw new StoreConfigError(`${file} fails SQLite's ${check}: ${String(result)}`);
  } finally {
    db.close();
  }
}

/** Whether `key` opens the encrypted `file` (skipped when it is the key the caller opens it with anyway). */
function opensWith(file: string, key: string | undefined, unlessSameAs: string | undefined): boolean {
  if (key === undefined || key === unlessSameAs) return false;
  try {
    openDatabase(file, { key }).close();
    return true;
  } catch (error) {
    if (error instanceof StoreConfigError) return false;
    throw error;
  }
}

/** False when another connection holds the file (SQLite refuses to leave WAL mode then). */
function switchJournal(db: ReturnType<typeof openDatabase>, mode: 'delete' | 'wal'): boolean {
  try {
    return db.pragma(`journal_mode = ${mode}`, { simple: true }) === mode;
  } catch (error) {
    if (String((error as { code?: string }).code).startsWith('SQLITE_BUSY')) return false;
    throw error;
  }
}

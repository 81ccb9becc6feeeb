// Durability for a SQLite file in WAL mode with synchronous=NORMAL: COMMIT does not sync, and a writer
// acknowledges only after `durable()`, an fdatasync of the WAL on libuv's thread pool, so the event loop
// never stalls on the disk and writers waiting together share one sync.
import fs from 'node:fs';
import type Database from 'better-sqlite3-multiple-ciphers';
import { openDatabase } from './open-database';

export class WalSync {
  private readonly fd: number;
  private syncing?: Promise<void>;
  private nextSync?: Promise<void>;

  /** Opens the WAL of a database already in WAL mode (opening it creates the file). */
  constructor(databaseFile: string) {
    this.fd = fs.openSync(`${databaseFile}-wal`, 'r');
  }

  /**
   * Resolves once everything written so far is on disk. A sync already running may have started before the
   * caller's write, so the caller waits for the next one; every caller arriving meanwhile shares that one.
   */
  durable(): Promise<void> {
    if (!this.syncing) {
      this.syncing = new Promise<void>((resolve, reject) =>
        fs.fdatasync(this.fd, (error) => (error ? reject(error) : resolve())),
      ).finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    return (this.nextSync ??= this.syncing.then(() => {
      this.nextSync = undefined;
      return this.durable();
    }));
  }

  /** Waits for syncs in flight, then closes the WAL's descriptor. */
  async close(): Promise<void> {
    await this.nextSync;
    await this.syncing;
    fs.closeSync(this.fd);
  }
}

/**
 * Opens a small SQLite file of its own (auth records, HL7 messages) for WalSync durability: encrypted with `key`
 * when there is one, WAL mode, synchronous=NORMAL, a busy timeout for the command line writing the same file, the
 * schema, and every statement prepared once.
 */
export function openWalDatabase<S extends Record<string, string>>(
  file: string,
  schema: string,
  statements: S,
  key: string | undefined,
): { db: Database.Database; wal: WalSync; sql: { [K in keyof S]: Database.Statement } } {
  const db = openDatabase(file, { key });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(schema);
  const sql = Object.fromEntries(Object.entries(statements).map(([name, text]) => [name, db.prepare(text)]));
  return { db, wal: new WalSync(file), sql: sql as { [K in keyof S]: Database.Statement } };
}

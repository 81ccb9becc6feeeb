// AuthRecords in their own SQLite file beside the resource store (DATA_DIR/auth.sqlite), so the store's group
// commit and checkpointer stay as they are; the admin command line opens the same file while the server runs.
// A write is acknowledged once the WAL is fdatasynced, on libuv's thread pool as the resource store does it,
// so a token request never stalls the event loop on the disk, and writes waiting together share one sync.
import type Database from 'better-sqlite3-multiple-ciphers';
import { dataKey } from '../../../resources/store/sqlite/data-key';
import { WalSync, openWalDatabase } from '../../../resources/store/sqlite/wal-sync';
import type { AuthRecord, AuthRecords, Consumed } from './port';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS auth_records (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER,
  consumed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS auth_records_expiry ON auth_records (expires_at) WHERE expires_at IS NOT NULL;`;

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

const SQL = {
  insert:
    'INSERT INTO auth_records (kind, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) ' +
    'DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, consumed = 0 ' +
    'WHERE auth_records.expires_at IS NOT NULL AND auth_records.expires_at <= ?',
  put:
    'INSERT INTO auth_records (kind, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key) ' +
    'DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, consumed = 0',
  get: `SELECT value FROM auth_records WHERE kind = ? AND key = ? AND ${LIVE}`,
  consumeFirst: `UPDATE auth_records SET consumed = 1 WHERE kind = ? AND key = ? AND consumed = 0 AND ${LIVE} RETURNING value`,
  delete: 'DELETE FROM auth_records WHERE kind = ? AND key = ?',
  list: `SELECT key, value, expires_at AS expiresAt FROM auth_records WHERE kind = ? AND ${LIVE} ORDER BY key`,
  purge: 'DELETE FROM auth_records WHERE expires_at IS NOT NULL AND expires_at <= ?',
};

type Statements = { [K in keyof typeof SQL]: Database.Statement };

export class SqliteAuthRecords implements AuthRecords {
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly wal: WalSync;
  private closing?: Promise<void>;

  /** `key` absent or undefined: HMS_DATA_KEY, which the entry point set (data-key.ts). */
  constructor(file: string, key: string | undefined = dataKey()) {
    // COMMIT does not sync; durable() does, off the event loop, before a write is acknowledged.
    ({ db: this.db, wal: this.wal, sql: this.sql } = openWalDatabase(file, SCHEMA, SQL, key));
  }

  async insert<T>(kind: string, record: AuthRecord<T>): Promise<boolean> {
    const now = Date.now();
    const args = [kind, record.key, JSON.stringify(record.value), record.expiresAt ?? null, now];
    const inserted = this.sql.insert.run(...args).changes === 1;
    if (inserted) await this.durable();
    return inserted;
  }

  async put<T>(kind: string, record: AuthRecord<T>): Promise<void> {
    this.sql.put.run(kind, record.key, JSON.stringify(record.value), record.expiresAt ?? null);
    await this.durable();
  }

  async get<T>(kind: string, key: string): Promise<T | undefined> {
    const row = this.sql.get.get(kind, key, Date.now()) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async consume<T>(kind: string, key: string): Promise<Consumed<T> | undefined> {
    const now = Date.now();
    const first = this.sql.consumeFirst.get(kind, key, now) as { value: string } | undefined;
    if (first) {
      await this.durable();
      return { value: JSON.parse(first.value) as T, first: true };
    }
    const value = await this.get<T>(kind, key);
    return value === undefined ? undefined : { value, first: false };
  }

  async delete(kind: string, key: string): Promise<boolean> {
    const deleted = this.sql.delete.run(kind, key).changes === 1;
    if (deleted) await this.durable();
    return deleted;
  }

  async list<T>(kind: string): Promise<AuthRecord<T>[]> {
    const rows = this.sql.list.all(kind, Date.now()) as { key: string; value: string; expiresAt: number | null }[];
    return rows.map((row) => ({
      key: row.key,
      value: JSON.parse(row.value) as T,
      ...(row.expiresAt !== null ? { expiresAt: row.expiresAt } : {}),
    }));
  }

  async purgeExpired(): Promise<number> {
    return this.sql.purge.run(Date.now()).changes;
  }

  close(): Promise<void> {
    return (this.closing ??= this.wal.close().then(() => void this.db.close()));
  }

  private durable(): Promise<void> {
    return this.wal.durable();
  }
}

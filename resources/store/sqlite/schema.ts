// The SQLite schema: current resources, every version, and one table per search-index entry type
// (resources/search/index-entry.ts). Index rows point at the resource's integer row id (`rid`) and a
// parameter id (`pid`, one per resource type and parameter code), which keeps the index compact.
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

/** Index tables and their value columns, in IndexEntry field order. Data, so writer and reader agree. */
export const INDEX_TABLES = {
  string: { table: 'ix_string', columns: ['value', 'exact'] },
  token: { table: 'ix_token', columns: ['system', 'code', 'text', 'type_system', 'type_code'] },
  date: { table: 'ix_date', columns: ['low', 'high'] },
  number: { table: 'ix_number', columns: ['low', 'high'] },
  quantity: { table: 'ix_quantity', columns: ['low', 'high', 'system', 'code', 'unit'] },
  reference: { table: 'ix_reference', columns: ['target_type', 'target_id', 'url', 'ident_system', 'ident_value'] },
  uri: { table: 'ix_uri', columns: ['value'] },
} as const;

export type IndexType = keyof typeof INDEX_TABLES;

const DDL = `
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS resources (
  rid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS resources_type_id ON resources (type, id);
CREATE INDEX IF NOT EXISTS resources_type_updated ON resources (type, last_updated);

-- seq orders every write of the store: system history and its paging follow it.
CREATE TABLE IF NOT EXISTS versions (
  seq INTEGER PRIMARY KEY,
  rid INTEGER NOT NULL,
  type TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  method TEXT NOT NULL,
  content TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_rid_version ON versions (rid, version);
CREATE INDEX IF NOT EXISTS versions_type_seq ON versions (type, seq);
CREATE INDEX IF NOT EXISTS versions_updated ON versions (last_updated);

CREATE TABLE IF NOT EXISTS search_params (
  pid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  UNIQUE (type, code)
);

CREATE TABLE IF NOT EXISTS ix_string (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  value TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_string_value ON ix_string (pid, value, rid);
CREATE INDEX IF NOT EXISTS ix_string_rid ON ix_string (rid);

CREATE TABLE IF NOT EXISTS ix_token (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  system TEXT, code TEXT, text TEXT, type_system TEXT, type_code TEXT);
CREATE INDEX IF NOT EXISTS ix_token_code ON ix_token (pid, code, system, rid);
CREATE INDEX IF NOT EXISTS ix_token_rid ON ix_token (rid);

CREATE TABLE IF NOT EXISTS ix_date (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  low INTEGER NOT NULL, high INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_date_low ON ix_date (pid, low, high, rid);
CREATE INDEX IF NOT EXISTS ix_date_rid ON ix_date (rid);

CREATE TABLE IF NOT EXISTS ix_number (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  low REAL NOT NULL, high REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ix_number_low ON ix_number (pid, low, high, rid);
CREATE INDEX IF NOT EXISTS ix_number_rid ON ix_number (rid);

CREATE TABLE IF NOT EXISTS ix_quantity (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  low REAL NOT NULL, high REAL NOT NULL, system TEXT, code TEXT, unit TEXT);
CREATE INDEX IF NOT EXISTS ix_quantity_code ON ix_quantity (pid, code, low, rid);
CREATE INDEX IF NOT EXISTS ix_quantity_rid ON ix_quantity (rid);

CREATE TABLE IF NOT EXISTS ix_reference (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER,
  target_type TEXT, target_id TEXT, url TEXT, ident_system TEXT, ident_value TEXT);
CREATE INDEX IF NOT EXISTS ix_reference_target ON ix_reference (pid, target_id, target_type, rid);
CREATE INDEX IF NOT EXISTS ix_reference_rid ON ix_reference (rid);

CREATE TABLE IF NOT EXISTS ix_uri (rid INTEGER NOT NULL, pid INTEGER NOT NULL, grp INTEGER, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_uri_value ON ix_uri (pid, value, rid);
CREATE INDEX IF NOT EXISTS ix_uri_rid ON ix_uri (rid);
`;

export class SchemaVersionError extends Error {}

/** Creates the schema if absent; refuses a file written by a newer schema than this code knows. */
export function migrate(db: Database.Database): void {
  db.exec(DDL);
  const row = db.prepare("SELECT value FROM store_meta WHERE key = 'schema_version'").get() as
    { value: string } | undefined;
  if (!row) {
    db.prepare("INSERT INTO store_meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    return;
  }
  if (Number(row.value) > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `the database has schema version ${row.value}, newer than this server's ${SCHEMA_VERSION}; upgrade the server`,
    );
  }
}

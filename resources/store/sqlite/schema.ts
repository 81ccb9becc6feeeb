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

/**
 * Index tables are WITHOUT ROWID, keyed by (rid, n) with n the entry's position in the resource's entries:
 * rows of one resource sit together (a cheap delete on update) and each row costs two B-tree inserts
 * (the table and its value index) instead of three.
 */
const INDEX_VALUE_KEYS: Record<IndexType, string> = {
  string: 'value',
  token: 'code, system',
  date: 'low, high',
  number: 'low, high',
  quantity: 'code, low',
  reference: 'target_id, target_type',
  uri: 'value',
};

const COLUMN_TYPES: Record<string, string> = {
  value: 'TEXT NOT NULL',
  exact: 'TEXT NOT NULL',
  low: 'NOT NULL',
  high: 'NOT NULL',
};

/** Range tables whose `ge`/`gt`/`eb` searches bound the high end, which needs an index of its own. */
const HIGH_INDEXED = new Set<IndexType>(['date', 'number']);

const INDEX_DDL = (Object.keys(INDEX_TABLES) as IndexType[])
  .map((type) => {
    const { table, columns } = INDEX_TABLES[type];
    const columnDefs = columns.map((c) => `${c} ${COLUMN_TYPES[c] ?? 'TEXT'}`).join(', ');
    return (
      `CREATE TABLE IF NOT EXISTS ${table} (rid INTEGER NOT NULL, n INTEGER NOT NULL, pid INTEGER NOT NULL, ` +
      `grp INTEGER, ${columnDefs}, PRIMARY KEY (rid, n)) WITHOUT ROWID;\n` +
      `CREATE INDEX IF NOT EXISTS ${table}_value ON ${table} (pid, ${INDEX_VALUE_KEYS[type]});` +
      (HIGH_INDEXED.has(type) ? `\nCREATE INDEX IF NOT EXISTS ${table}_high ON ${table} (pid, high);` : '')
    );
  })
  .join('\n');

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

${INDEX_DDL}`;

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

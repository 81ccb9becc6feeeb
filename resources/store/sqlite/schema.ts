// The SQLite schema: current resources, every version, and one table per search-index entry type
// (resources/search/index-entry.ts). Index rows point at the resource's integer row id (`rid`) and a
// parameter id (`pid`, one per resource type and parameter code), which keeps the index compact. The audit
// log sits beside them: append-only, hash-chained, with the columns auditors search by.
import type Database from 'better-sqlite3-multiple-ciphers';
import { MAX_INSTANT, MIN_INSTANT } from '../../search/index-entry';

export const SCHEMA_VERSION = 3;

/** Index tables and their value columns, in IndexEntry field order. Data, so writer and reader agree. */
export const INDEX_TABLES = {
  string: { table: 'ix_string', columns: ['value', 'exact'] },
  token: { table: 'ix_token', columns: ['system', 'code', 'text', 'type_system', 'type_code'] },
  date: { table: 'ix_date', columns: ['low', 'high', 'multi'] },
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
  multi: 'INTEGER',
};

/** Range tables whose `ge`/`gt`/`eb` searches bound the high end, which needs an index of its own. */
const HIGH_INDEXED = new Set<IndexType>(['date', 'number']);

/**
 * Date windows (`date=ge X&date=lt Y`) are searched as one bounded scan over `low` (search-sql.ts dateWindow):
 * `date_spans` keeps, per parameter, the longest span (high - low) of a bounded entry, and `multi` marks the
 * entries of a resource that has several under one parameter, the only ones two different entries can match.
 */
const DATE_WINDOW_DDL = `
CREATE TABLE IF NOT EXISTS date_spans (pid INTEGER PRIMARY KEY, span NOT NULL);
CREATE INDEX IF NOT EXISTS ix_date_multi ON ix_date (pid, rid) WHERE multi = 1;`;

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

/**
 * Version 3. `seq` is the chain position (the row id: appends go to the end of the B-tree). Searches run newest
 * first, so every search index ends in `seq`; patients are a table of their own for "who saw patient X", and
 * kept as a JSON array on the row so a record reads back without a join.
 */
const AUDIT_DDL = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  recorded INTEGER NOT NULL,
  agent TEXT NOT NULL,
  subtype TEXT NOT NULL,
  outcome TEXT NOT NULL,
  patients TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_agent ON audit (agent, seq);
CREATE INDEX IF NOT EXISTS audit_outcome ON audit (outcome, seq);
CREATE INDEX IF NOT EXISTS audit_recorded ON audit (recorded);
CREATE TABLE IF NOT EXISTS audit_patient (
  patient TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (patient, seq)
) WITHOUT ROWID;`;

/**
 * The bytes of Binary versions (resources/store/binary-data.ts), outside the versions table so its rows stay
 * small. A rowid table: SQLite keeps large values in overflow pages, which a WITHOUT ROWID key would not suit.
 * New tables need no version bump: the DDL creates them in older files too.
 */
const BINARY_DDL = `
CREATE TABLE IF NOT EXISTS binary_data (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (id, version)
);`;

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
-- Walks over one type in rid order (scan: export, reindex) page through this instead of sorting every row of the
-- type for each page; an existing file gains it at its next open.
CREATE INDEX IF NOT EXISTS resources_type_rid ON resources (type, rid);

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

${INDEX_DDL}
${DATE_WINDOW_DDL}
${AUDIT_DDL}
${BINARY_DDL}`;

export class SchemaVersionError extends Error {}

/**
 * Creates the schema if absent, brings a file of an older schema up to date, and refuses one written by a
 * newer schema than this code knows. Tables new in a version (the audit log in 3) are created by the DDL.
 */
export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const row = db.prepare("SELECT value FROM store_meta WHERE key = 'schema_version'").get() as
    { value: string } | undefined;
  const version = row ? Number(row.value) : SCHEMA_VERSION;
  if (version > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `the database has schema version ${version}, newer than this server's ${SCHEMA_VERSION}; upgrade the server`,
    );
  }
  db.transaction(() => {
    if (version < 2) addDateWindowColumns(db);
    db.exec(DDL);
    db.prepare("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('schema_version', ?)").run(
      String(SCHEMA_VERSION),
    );
  })();
}

/** Version 1 to 2: `multi` and `date_spans`, filled from the rows already there. */
function addDateWindowColumns(db: Database.Database): void {
  db.exec(`
    ALTER TABLE ix_date ADD COLUMN multi INTEGER;
    UPDATE ix_date SET multi = 1
      WHERE (rid, pid) IN (SELECT rid, pid FROM ix_date GROUP BY rid, pid HAVING count(*) > 1);
    ${DATE_WINDOW_DDL}
    INSERT INTO date_spans (pid, span)
      SELECT pid, max(high - low) FROM ix_date WHERE low > ${MIN_INSTANT} AND high < ${MAX_INSTANT} GROUP BY pid;`);
}

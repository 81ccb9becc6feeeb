// The SQLite audit log. Appends run on the writer connection inside the store's transaction and read the chain
// head there (a rowid lookup), so a savepoint rolled back takes its records with it and the next append chains
// after what is really in the file. Reads and searches run on the read connection: committed records only.
import type Database from 'better-sqlite3-multiple-ciphers';
import { chainHash, GENESIS_HASH } from '../../audit/chain';
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../../audit/record';
import { decodeAuditCursor, encodeAuditCursor } from '../audit-cursor';
import type { Page } from '../port';
import { limit } from './sql';

interface AuditRow {
  seq: number;
  id: string;
  recorded: number;
  agent: string;
  subtype: string;
  outcome: string;
  patients: string;
  prev_hash: string;
  hash: string;
  json: string;
}

/** Records per query while walking the whole log. */
const WALK_BATCH = 1000;

export class SqliteAuditAppender {
  private readonly head: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly insertPatient: Database.Statement;

  constructor(db: Database.Database) {
    this.head = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.insert = db.prepare(
      `INSERT INTO audit (seq, id, recorded, agent, subtype, outcome, patients, prev_hash, hash, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertPatient = db.prepare('INSERT OR IGNORE INTO audit_patient (patient, seq) VALUES (?, ?)');
  }

  append(records: AuditRecord[]): void {
    let head = (this.head.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
    for (const r of records) {
      const next = { seq: head.seq + 1, hash: chainHash(head.hash, r.json) };
      const patients = JSON.stringify(r.patients);
      this.insert.run(
        next.seq,
        r.id,
        r.recorded,
        r.agent,
        r.subtype,
        r.outcome,
        patients,
        head.hash,
        next.hash,
        r.json,
      );
      for (const patient of r.patients) this.insertPatient.run(patient, next.seq);
      head = next;
    }
  }
}

export class SqliteAuditReader {
  private readonly byId: Database.Statement;
  private readonly after: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.byId = db.prepare('SELECT * FROM audit WHERE id = ?');
    this.after = db.prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  read(id: string): StoredAuditRecord | undefined {
    const row = this.byId.get(id) as AuditRow | undefined;
    return row && toRecord(row);
  }

  /** A patient search walks that patient's rows of `audit_patient` newest first; the rest filter them. */
  search(query: AuditQuery): Page<StoredAuditRecord> {
    const filters: string[] = [];
    const params: unknown[] = [];
    const where = (sql: string, ...values: unknown[]) => {
      filters.push(sql);
      params.push(...values);
    };
    const seq = query.patient === undefined ? 'a.seq' : 'p.seq';
    if (query.patient !== undefined) where('p.patient = ?', query.patient);
    if (query.agent !== undefined) where('a.agent = ?', query.agent);
    if (query.subtype) where(`a.subtype IN (${placeholders(query.subtype)})`, ...query.subtype);
    if (query.outcome) where(`a.outcome IN (${placeholders(query.outcome)})`, ...query.outcome);
    if (query.since !== undefined) where('a.recorded >= ?', query.since);
    if (query.until !== undefined) where('a.recorded <= ?', query.until);
    if (query.cursor !== undefined) where(`${seq} < ?`, decodeAuditCursor(query.cursor));
    const from = query.patient === undefined ? 'audit a' : 'audit_patient p JOIN audit a ON a.seq = p.seq';
    const sql = `SELECT a.* FROM ${from} WHERE ${filters.join(' AND ') || '1'} ORDER BY ${seq} DESC ${limit(query.count + 1)}`;
    const rows = this.statement(sql).all(...params) as AuditRow[];
    const entries = rows.slice(0, query.count).map(toRecord);
    const page: Page<StoredAuditRecord> = { entries };
    if (rows.length > query.count) page.next = encodeAuditCursor(entries[entries.length - 1].seq);
    return page;
  }

  /** Pages of rows, so no read transaction stays open across the consumer's awaits. */
  async *records(after = 0): AsyncGenerator<StoredAuditRecord> {
    let last = after;
    for (;;) {
      const rows = this.after.all(last, WALK_BATCH) as AuditRow[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < WALK_BATCH) return;
      last = rows[rows.length - 1].seq;
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size > 100) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

const placeholders = (values: unknown[]): string => values.map(() => '?').join(', ');

function toRecord(row: AuditRow): StoredAuditRecord {
  return {
    seq: row.seq,
    id: row.id,
    recorded: row.recorded,
    patients: JSON.parse(row.patients) as string[],
    agent: row.agent,
    subtype: row.subtype,
    outcome: row.outcome,
    json: row.json,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

// The HL7 message store in its own SQLite file beside the resource store (DATA_DIR/hl7.sqlite). A write is
// acknowledged once the WAL is fdatasynced (WalSync), so an AA on the wire means the raw bytes survive a crash.
import type Database from 'better-sqlite3-multiple-ciphers';
import { dataKey } from '../../../resources/store/sqlite/data-key';
import { WalSync, openWalDatabase } from '../../../resources/store/sqlite/wal-sync';
import type {
  ChannelCounters,
  MessageChange,
  MessageEvent,
  MessageQuery,
  MessageStore,
  NewMessage,
  ReceiveResult,
  StoredMessage,
} from './port';
import { asConflict, countersOf, type StatusCount } from './port';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  direction TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  raw BLOB NOT NULL,
  sending_application TEXT NOT NULL,
  sending_facility TEXT NOT NULL,
  control_id TEXT NOT NULL,
  type TEXT NOT NULL,
  patient_id TEXT,
  content_hash TEXT NOT NULL,
  ack TEXT,
  error TEXT,
  outputs TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  source_key TEXT,
  derived_from TEXT
);
CREATE INDEX IF NOT EXISTS messages_dedupe ON messages (sending_application, sending_facility, control_id)
  WHERE direction = 'in';
CREATE UNIQUE INDEX IF NOT EXISTS messages_source ON messages (channel, source_key) WHERE source_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_channel_status ON messages (channel, status, id);
CREATE INDEX IF NOT EXISTS messages_received ON messages (received_at);
CREATE INDEX IF NOT EXISTS messages_patient ON messages (patient_id) WHERE patient_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS message_events (
  message_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS message_events_message ON message_events (message_id);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

interface Row {
  id: number;
  channel: string;
  direction: string;
  received_at: number;
  updated_at: number;
  status: string;
  raw: Buffer;
  sending_application: string;
  sending_facility: string;
  control_id: string;
  type: string;
  patient_id: string | null;
  content_hash: string;
  ack: string | null;
  error: string | null;
  outputs: string | null;
  attempts: number;
  next_attempt_at: number | null;
  source_key: string | null;
  derived_from: string | null;
}

const COLUMNS =
  'channel, direction, received_at, updated_at, status, raw, sending_application, sending_facility, control_id, ' +
  'type, patient_id, content_hash, ack, error, outputs, attempts, next_attempt_at, source_key, derived_from';

/** Never purged: waiting to be processed or sent, or in the error queue waiting for a person. */
const PURGEABLE = "status NOT IN ('received', 'queued', 'error', 'conflict')";

const SQL = {
  insert: `INSERT INTO messages (${COLUMNS}) VALUES (${COLUMNS.split(',')
    .map(() => '?')
    .join(', ')})`,
  sameKey:
    "SELECT * FROM messages WHERE direction = 'in' AND sending_application = ? AND sending_facility = ? " +
    "AND control_id = ? AND received_at >= ? AND status != 'rejected' ORDER BY id",
  get: 'SELECT * FROM messages WHERE id = ?',
  event: 'INSERT INTO message_events (message_id, at, status, actor, detail) VALUES (?, ?, ?, ?, ?)',
  history: 'SELECT at, status, actor, detail FROM message_events WHERE message_id = ? ORDER BY rowid',
  unprocessed: "SELECT * FROM messages WHERE channel = ? AND status = 'received' ORDER BY id",
  nextQueued:
    "SELECT * FROM messages WHERE channel = ? AND status = 'queued' AND (? IS NULL OR next_attempt_at IS NULL " +
    'OR next_attempt_at <= ?) ORDER BY received_at, id LIMIT 1',
  counts:
    'SELECT status, COUNT(*) AS n, MIN(received_at) AS oldest, MAX(received_at) AS newest FROM messages ' +
    'WHERE channel = ? GROUP BY status',
  purgeEvents: `DELETE FROM message_events WHERE message_id IN (SELECT id FROM messages WHERE received_at < ? AND ${PURGEABLE})`,
  purge: `DELETE FROM messages WHERE received_at < ? AND ${PURGEABLE}`,
  getSetting: 'SELECT value FROM settings WHERE key = ?',
  putSetting: 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
};

type Statements = { [K in keyof typeof SQL]: Database.Statement };

export class SqliteMessageStore implements MessageStore {
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly wal: WalSync;
  private closing?: Promise<void>;

  /** `key` absent or undefined: HMS_DATA_KEY, which the entry point set (data-key.ts). */
  constructor(file: string, key: string | undefined = dataKey()) {
    ({ db: this.db, wal: this.wal, sql: this.sql } = openWalDatabase(file, SCHEMA, SQL, key));
  }

  async receive(message: NewMessage, dedupeSinceMs: number): Promise<ReceiveResult> {
    const receive = this.db.transaction((): ReceiveResult => {
      const key = [message.sendingApplication, message.sendingFacility, message.controlId, dedupeSinceMs];
      const earlier = message.controlId === '' ? [] : (this.sql.sameKey.all(...key) as Row[]).map(fromRow);
      const duplicateOf = earlier.find((m) => m.contentHash === message.contentHash);
      if (duplicateOf) {
        this.insertEvent(duplicateOf.id, { at: message.receivedAt, status: 'duplicate', actor: 'mllp' });
        return { message: duplicateOf, duplicateOf };
      }
      const conflictWith = message.status === 'received' ? earlier[0] : undefined;
      const stored = this.insertMessage(conflictWith ? asConflict(message, conflictWith) : message);
      this.insertEvent(stored.id, { at: message.receivedAt, status: stored.status, actor: 'mllp' });
      return { message: stored, ...(conflictWith ? { conflictWith } : {}) };
    });
    // IMMEDIATE: the dedupe read and the insert hold the write lock together (the CLI may write the file too).
    const result = receive.immediate();
    await this.wal.durable();
    return result;
  }

  async enqueue(message: NewMessage): Promise<StoredMessage | undefined> {
    const stored = this.db.transaction(() => {
      try {
        const inserted = this.insertMessage(message);
        this.insertEvent(inserted.id, { at: message.receivedAt, status: 'queued', actor: 'queue' });
        return inserted;
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
        throw error;
      }
    })();
    if (stored) await this.wal.durable();
    return stored;
  }

  async update(id: string, change: MessageChange, event: MessageEvent): Promise<StoredMessage> {
    const updated = this.db.transaction(() => {
      const sets: string[] = ['updated_at = ?'];
      const values: unknown[] = [event.at];
      const column = (name: string, value: unknown) => {
        sets.push(`${name} = ?`);
        values.push(value);
      };
      if (change.status !== undefined) column('status', change.status);
      if (change.ack !== undefined) column('ack', change.ack);
      if (change.error !== undefined) column('error', change.error === null ? null : JSON.stringify(change.error));
      if (change.outputs !== undefined) column('outputs', JSON.stringify(change.outputs));
      if (change.attempts !== undefined) column('attempts', change.attempts);
      if (change.nextAttemptAt !== undefined) column('next_attempt_at', change.nextAttemptAt);
      if (change.patientId !== undefined) column('patient_id', change.patientId);
      const changed = this.db.prepare(`UPDATE messages SET ${sets.join(', ')} WHERE id = ?`).run(...values, Number(id));
      if (changed.changes === 0) throw new Error(`No message ${id}`);
      this.insertEvent(id, event);
      return fromRow(this.sql.get.get(Number(id)) as Row);
    })();
    await this.wal.durable();
    return updated;
  }

  async note(id: string, event: MessageEvent): Promise<void> {
    this.insertEvent(id, event);
    await this.wal.durable();
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const row = this.sql.get.get(Number(id)) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async history(id: string): Promise<MessageEvent[]> {
    const rows = this.sql.history.all(Number(id)) as {
      at: number;
      status: string;
      actor: string;
      detail: string | null;
    }[];
    return rows.map((r) => ({
      at: r.at,
      status: r.status as MessageEvent['status'],
      actor: r.actor,
      ...(r.detail !== null ? { detail: r.detail } : {}),
    }));
  }

  async search(query: MessageQuery): Promise<StoredMessage[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, ...args: unknown[]) => {
      where.push(clause);
      values.push(...args);
    };
    if (query.channel) add('channel = ?', query.channel);
    if (query.direction) add('direction = ?', query.direction);
    if (query.status?.length) add(`status IN (${query.status.map(() => '?').join(', ')})`, ...query.status);
    if (query.type) add('type = ?', query.type);
    if (query.controlId) add('control_id = ?', query.controlId);
    if (query.patientId) add('patient_id = ?', query.patientId);
    if (query.since !== undefined) add('received_at >= ?', query.since);
    if (query.until !== undefined) add('received_at < ?', query.until);
    if (query.before) add('id < ?', Number(query.before));
    const sql = `SELECT * FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...values, query.count) as Row[]).map(fromRow);
  }

  async unprocessed(channel: string): Promise<StoredMessage[]> {
    return (this.sql.unprocessed.all(channel) as Row[]).map(fromRow);
  }

  async nextQueued(channel: string, dueBy?: number): Promise<StoredMessage | undefined> {
    const row = this.sql.nextQueued.get(channel, dueBy ?? null, dueBy ?? null) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async counters(channel: string): Promise<ChannelCounters> {
    return countersOf(this.sql.counts.all(channel) as StatusCount[]);
  }

  async purge(before: number): Promise<number> {
    const removed = this.db.transaction(() => {
      this.sql.purgeEvents.run(before);
      return this.sql.purge.run(before).changes;
    })();
    await this.wal.durable();
    return removed;
  }

  async getSetting<T>(key: string): Promise<T | undefined> {
    const row = this.sql.getSetting.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async putSetting<T>(key: string, value: T): Promise<void> {
    if (value === undefined) throw new TypeError(`Setting ${key} needs a value`);
    this.sql.putSetting.run(key, JSON.stringify(value));
    await this.wal.durable();
  }

  close(): Promise<void> {
    return (this.closing ??= this.wal.close().then(() => void this.db.close()));
  }

  private insertMessage(message: NewMessage): StoredMessage {
    const { lastInsertRowid } = this.sql.insert.run(
      message.channel,
      message.direction,
      message.receivedAt,
      message.receivedAt,
      message.status,
      message.raw,
      message.sendingApplication,
      message.sendingFacility,
      message.controlId,
      message.type,
      message.patientId ?? null,
      message.contentHash,
      message.ack ?? null,
      message.error ? JSON.stringify(message.error) : null,
      message.outputs ? JSON.stringify(message.outputs) : null,
      message.attempts ?? 0,
      message.nextAttemptAt ?? null,
      message.sourceKey ?? null,
      message.derivedFrom ?? null,
    );
    return { ...message, id: String(lastInsertRowid), updatedAt: message.receivedAt, attempts: message.attempts ?? 0 };
  }

  private insertEvent(id: string, event: MessageEvent): void {
    this.sql.event.run(Number(id), event.at, event.status, event.actor, event.detail ?? null);
  }
}

function fromRow(row: Row): StoredMessage {
  const optional = <T>(value: T | null) => (value === null ? undefined : value);
  const message: StoredMessage = {
    id: String(row.id),
    channel: row.channel,
    direction: row.direction as StoredMessage['direction'],
    receivedAt: row.received_at,
    updatedAt: row.updated_at,
    status: row.status as StoredMessage['status'],
    raw: row.raw,
    sendingApplication: row.sending_application,
    sendingFacility: row.sending_facility,
    controlId: row.control_id,
    type: row.type,
    contentHash: row.content_hash,
    attempts: row.attempts,
  };
  const extras: Partial<StoredMessage> = {
    patientId: optional(row.patient_id),
    ack: optional(row.ack),
    error: row.error ? JSON.parse(row.error) : undefined,
    outputs: row.outputs ? JSON.parse(row.outputs) : undefined,
    nextAttemptAt: optional(row.next_attempt_at),
    sourceKey: optional(row.source_key),
    derivedFrom: optional(row.derived_from),
  };
  for (const [key, value] of Object.entries(extras)) {
    if (value !== undefined) (message as unknown as Record<string, unknown>)[key] = value;
  }
  return message;
}

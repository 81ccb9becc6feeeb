// Binary content in the SQLite file: one row of `binary_data` per Binary version that had `data`, written on
// the writer connection inside the version's own transaction (so it commits or rolls back with it) and read
// on the read connection (committed data only).
import type Database from 'better-sqlite3-multiple-ciphers';

export class SqliteBlobWriter {
  private readonly insert: Database.Statement;
  private readonly copy: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(writer: Database.Database) {
    // REPLACE: bytes given for a version replace any a metadata-only write carried over to it.
    this.insert = writer.prepare('INSERT OR REPLACE INTO binary_data (id, version, bytes) VALUES (?, ?, ?)');
    this.copy = writer.prepare(
      'INSERT OR REPLACE INTO binary_data (id, version, bytes) SELECT id, ?, bytes FROM binary_data WHERE id = ? AND version = ?',
    );
    this.remove = writer.prepare('DELETE FROM binary_data WHERE id = ? AND version = ?');
  }

  write(id: string, versionId: number, bytes: Buffer): void {
    this.insert.run(id, versionId, bytes);
  }

  /** Deletes the row; its pages go back to SQLite's free list for the next writes. */
  delete(id: string, versionId: number): void {
    this.remove.run(id, versionId);
  }

  /** The bytes of version `from`, if any, also under version `to`. */
  carryOver(id: string, from: number, to: number): void {
    this.copy.run(to, id, from);
  }
}

export class SqliteBlobReader {
  private readonly select: Database.Statement;

  constructor(reader: Database.Database) {
    this.select = reader.prepare('SELECT bytes FROM binary_data WHERE id = ? AND version = ?').pluck();
  }

  read(id: string, versionId: number): Buffer | undefined {
    return (this.select.get(id, versionId) as Buffer | undefined) ?? undefined;
  }
}

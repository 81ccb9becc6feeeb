// Maps (resource type, parameter code) to the small integer `pid` that index rows carry. Shared by the
// writer and reader connections of one store; a miss re-reads the table, since another process may add rows.
import type Database from 'better-sqlite3-multiple-ciphers';

export class ParamIds {
  private readonly ids = new Map<string, number>();
  private reloadedAt = 0;
  private readonly selectAll: Database.Statement;
  private insert: Database.Statement | undefined;

  /**
   * `db` is the writer connection, or a read-only one for `find` alone. `reloadAfterMs` bounds how often a miss
   * re-reads the table: a map of its own (a search worker's) sees no `ensure`, so it passes 0.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly reloadAfterMs = 1000,
  ) {
    this.selectAll = db.prepare('SELECT pid, type, code FROM search_params');
    this.reload();
  }

  /** The id of an existing parameter, or undefined when nothing was ever indexed under it. */
  find(resourceType: string, code: string): number | undefined {
    const key = `${resourceType} ${code}`;
    // Another connection may have added the parameter; look again, but not more often than reloadAfterMs.
    if (!this.ids.has(key) && Date.now() - this.reloadedAt >= this.reloadAfterMs) this.reload();
    return this.ids.get(key);
  }

  /** The id of a parameter, created when missing; call inside a write transaction on the writer connection. */
  ensure(resourceType: string, code: string): number {
    const existing = this.find(resourceType, code);
    if (existing !== undefined) return existing;
    // Another process on the same file may have added it since this map last looked: then its row is the answer.
    this.insert ??= this.db.prepare(
      `INSERT INTO search_params (type, code) VALUES (?, ?)
       ON CONFLICT (type, code) DO UPDATE SET code = excluded.code RETURNING pid`,
    );
    const { pid } = this.insert.get(resourceType, code) as { pid: number };
    this.ids.set(`${resourceType} ${code}`, pid);
    return pid;
  }

  /** Forgets ids added by a transaction that rolled back. */
  reset(): void {
    this.ids.clear();
    this.reload();
  }

  private reload(): void {
    this.reloadedAt = Date.now();
    for (const row of this.selectAll.all() as { pid: number; type: string; code: string }[]) {
      this.ids.set(`${row.type} ${row.code}`, row.pid);
    }
  }
}

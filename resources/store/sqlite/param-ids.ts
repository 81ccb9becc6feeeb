// Maps (resource type, parameter code) to the small integer `pid` that index rows carry. Shared by the
// writer and reader connections of one store; a miss re-reads the table, since another process may add rows.
import type Database from 'better-sqlite3';

export class ParamIds {
  private readonly ids = new Map<string, number>();
  private reloadedAt = 0;
  private readonly selectAll: Database.Statement;
  private readonly insert: Database.Statement;

  constructor(writer: Database.Database) {
    this.selectAll = writer.prepare('SELECT pid, type, code FROM search_params');
    this.insert = writer.prepare('INSERT INTO search_params (type, code) VALUES (?, ?) RETURNING pid');
    this.reload();
  }

  /** The id of an existing parameter, or undefined when nothing was ever indexed under it. */
  find(resourceType: string, code: string): number | undefined {
    const key = `${resourceType} ${code}`;
    // Another process may have added the parameter; look again, but at most once a second.
    if (!this.ids.has(key) && Date.now() - this.reloadedAt > 1000) this.reload();
    return this.ids.get(key);
  }

  /** The id of a parameter, created when missing; call inside a write transaction. */
  ensure(resourceType: string, code: string): number {
    const existing = this.find(resourceType, code);
    if (existing !== undefined) return existing;
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

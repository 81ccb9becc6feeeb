// The longest span (high - low) of a bounded date entry, per parameter, in table date_spans: what lets a date
// window be searched as one bounded scan over `low` (search-sql.ts). The writer notes every date entry it
// inserts and updates the table when a span grows; a cache keeps that to a few writes per parameter.
import type Database from 'better-sqlite3-multiple-ciphers';
import { MAX_INSTANT, MIN_INSTANT } from '../../search/index-entry';

export class DateSpans {
  private readonly spans = new Map<number, number>();
  private readonly selectAll: Database.Statement;
  private readonly upsert: Database.Statement;

  constructor(writer: Database.Database) {
    this.selectAll = writer.prepare('SELECT pid, span FROM date_spans');
    this.upsert = writer.prepare(
      'INSERT INTO date_spans (pid, span) VALUES (?, ?) ON CONFLICT (pid) DO UPDATE SET span = max(span, excluded.span)',
    );
    this.reset();
  }

  /** Records an entry's span inside the write transaction; open ends (MIN/MAX_INSTANT) are searched apart. */
  note(pid: number, low: number, high: number): void {
    if (low <= MIN_INSTANT || high >= MAX_INSTANT) return;
    const span = high - low;
    if (span <= (this.spans.get(pid) ?? -1)) return;
    this.upsert.run(pid, span);
    this.spans.set(pid, span);
  }

  /** Forgets spans noted by a transaction that rolled back. */
  reset(): void {
    this.spans.clear();
    for (const row of this.selectAll.all() as { pid: number; span: number }[]) this.spans.set(row.pid, row.span);
  }
}

// Where several app nodes write to the store (MongoDB), the delivering node hears the others' commits only through
// the write log, where a version may appear a moment after versions with later positions: each tick reads the log
// again from the position where it has settled, and matches what was not matched yet. Where the log is in commit
// order (SQLite's single writer) there is nothing to read: every commit comes by this node's commit feed.
import type { LoggedVersion, ResourceStore } from '../store/port';

/** Versions read at a time. */
export const LOG_BATCH = 500;

export class SettlingLog {
  /** Read again from here each tick; undefined where the log is in commit order. */
  private after?: string;
  /** Positions matched past `after`, so that reading again matches each version once. */
  private readonly seen = new Set<string>();

  constructor(private readonly store: ResourceStore) {}

  /** A replay starts: remember what it matches (where the log settles late), not to match it again after. */
  replaying(): void {
    this.seen.clear();
    this.after = this.settled() === undefined ? undefined : '';
  }

  /**
   * The replay is over at `position`: what the checkpoint and the replay matched counts as matched. (A version
   * another node commits late, with a position before the previous holder's last one, in the seconds around a
   * takeover, is not told of.)
   */
  follow(position: string | undefined): void {
    const settled = this.settled();
    this.after = settled === undefined ? undefined : position !== undefined && position > settled ? position : settled;
  }

  matched(position: string | undefined): void {
    if (this.after !== undefined && position !== undefined) this.seen.add(position);
  }

  has(position: string | undefined): boolean {
    return position !== undefined && this.seen.has(position);
  }

  /** Hands each version not matched yet to `match`, then moves on to where the log has settled. */
  async read(match: (version: LoggedVersion) => void, keepGoing: () => boolean): Promise<void> {
    if (this.after === undefined) return;
    const settled = this.settled();
    let after: string | undefined = this.after;
    for (;;) {
      const batch = await this.store.log(after, LOG_BATCH);
      for (const version of batch) if (!this.seen.has(version.position)) match(version);
      if (batch.length < LOG_BATCH || !keepGoing()) break;
      after = batch[batch.length - 1].position;
    }
    if (settled !== undefined && settled > this.after) this.after = settled;
    for (const position of this.seen) if (position <= this.after) this.seen.delete(position);
  }

  /** The log position before which no more versions can appear; undefined when the log is in commit order. */
  private settled(): string | undefined {
    if (!this.store.logSettleMs || !this.store.logPositionAt) return undefined;
    return this.store.logPositionAt(Date.now() - this.store.logSettleMs);
  }
}

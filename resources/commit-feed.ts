// Who hears of committed writes: every listener (the HL7 bridge's outbound feed, the subscription engine) is
// told of each transaction's versions, with their index entries, once they are durable, in commit order.
import type { VersionWrite } from './store/port';

export type CommitListener = (writes: readonly VersionWrite[]) => void;

export class CommitFeed {
  private readonly listeners = new Set<CommitListener>();

  /** Adds a listener; the returned function removes it. */
  listen(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether anyone listens (a transaction keeps its versions only then). */
  get heard(): boolean {
    return this.listeners.size > 0;
  }

  /** A listener's failure is its own: the others are still told, and the committed write stands. */
  publish(writes: readonly VersionWrite[]): void {
    for (const listener of this.listeners) {
      try {
        listener(writes);
      } catch {
        // Listeners handle their own errors; the write is committed whatever they do.
      }
    }
  }
}

// Current versions of recently read resources, so a read by id that hits runs no SQLite statement. A
// statement opens a read transaction on the WAL index (two fcntl lock calls): under a raw-socket read load a
// read that ran one cost about 80 µs of server CPU, a hit costs about 53. Coherence:
// - the store forgets what its own commits touched, right after COMMIT and in the same synchronous step;
// - a commit by any other connection (another process on the same file, such as `hms import`) changes the
//   writer connection's data_version, and then the whole cache is dropped. That is checked once per turn of
//   the event loop (a check per read would cost the statement the cache saves), so another process's commit
//   is seen by every read that starts in a later turn.
import type Database from 'better-sqlite3-multiple-ciphers';
import { LRUCache } from 'lru-cache';
import type { StoredVersion } from '../port';

/** Enough for the hot set of a busy day (about 60,000 typical resources), small next to the heap. */
export const DEFAULT_READ_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Bytes a cached version costs besides its JSON (key, object, LRU bookkeeping), for the size budget. The
 * JSON counts a byte a character: V8 keeps text beyond Latin-1 in two, so such content may take up to twice.
 */
const ENTRY_OVERHEAD_BYTES = 200;

export class CurrentVersionCache {
  private readonly entries: LRUCache<string, StoredVersion>;
  private readonly dataVersion: Database.Statement;
  private seenDataVersion: number;
  /** Set once data_version was checked in this turn of the event loop; cleared by the next turn. */
  private checkedThisTurn = false;

  /** `writer` is the store's own write connection: its data_version moves only on other connections' commits. */
  constructor(writer: Database.Database, maxBytes: number) {
    this.entries = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (stored) => (stored.json?.length ?? 0) + ENTRY_OVERHEAD_BYTES,
    });
    this.dataVersion = writer.prepare('PRAGMA data_version').pluck();
    this.seenDataVersion = this.dataVersion.get() as number;
  }

  get(resourceType: string, id: string): StoredVersion | undefined {
    if (!this.checkedThisTurn) this.dropIfChangedElsewhere();
    return this.entries.get(key(resourceType, id));
  }

  /**
   * Keeps a version just read from committed data; the LRU keeps none larger than its whole budget. Callers
   * share it, so it is frozen.
   */
  remember(stored: StoredVersion): void {
    this.entries.set(key(stored.resourceType, stored.id), Object.freeze(stored));
  }

  forget(resourceType: string, id: string): void {
    this.entries.delete(key(resourceType, id));
  }

  private dropIfChangedElsewhere(): void {
    this.checkedThisTurn = true;
    setImmediate(() => {
      this.checkedThisTurn = false;
    });
    const now = this.dataVersion.get() as number;
    if (now === this.seenDataVersion) return;
    this.seenDataVersion = now;
    this.entries.clear();
  }
}

function key(resourceType: string, id: string): string {
  return `${resourceType}/${id}`;
}

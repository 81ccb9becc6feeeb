// Feeds committed FHIR changes to the outbound router in commit order. The high-water mark (lastUpdated of
// the last change handled) is saved every few seconds; after a crash, catch-up replays the history since it,
// and the queue's unique source key makes a change handled twice queue only once. When handling fails (the
// message store refused a write), the mark stops where it was and the history since it is replayed a little
// later (and at the next start), so a change is never skipped because a later one went through.
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import type { StoredVersion } from '../../../resources/store/port';
import type { MessageStore } from '../message-store/port';
import type { OutboundRouter } from './router';

const TYPES = new Set(['ServiceRequest', 'ChargeItem', 'Patient', 'Encounter']);
const MARK_KEY = 'outbound-mark';
const SAVE_EVERY_MS = 2_000;
const RETRY_MS = 5_000;
const PAGE = 500;

/**
 * How far the feed has got: every relevant change with lastUpdated before `at` has been handled, and of those
 * at `at` exactly the ones listed (a replay `since` a time includes that millisecond; without the list, the
 * last change before a restart would be handled again, and sent to a channel added after it was made).
 */
interface Mark {
  at: number;
  keys: string[];
}

const keyOf = (v: StoredVersion) => `${v.resourceType}/${v.id}/${v.versionId}`;

/** The mark moved past the versions handled (they are in commit order). */
function passed(mark: Mark, versions: readonly StoredVersion[]): Mark {
  let { at, keys } = mark;
  for (const v of versions) {
    if (v.lastUpdated > at) [at, keys] = [v.lastUpdated, [keyOf(v)]];
    else if (v.lastUpdated === at && !keys.includes(keyOf(v))) keys = [...keys, keyOf(v)];
  }
  return { at, keys };
}

/** The saved mark; a plain number is the earlier format (nothing listed at that millisecond). */
const markOf = (saved: Mark | number): Mark => (typeof saved === 'number' ? { at: saved, keys: [] } : saved);

export class OutboundFeed {
  private chain: Promise<void> = Promise.resolve();
  /** How far relevant changes have been handled (or needed no message). */
  private mark: Mark = { at: 0, keys: [] };
  private saved?: Mark;
  /** A change could not be handled: the mark stays put until a replay from it succeeds. */
  private stalled = false;
  private stopped = false;
  private saveTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: MessageStore,
    private readonly services: RepositoryServices,
    private readonly router: OutboundRouter,
    private readonly onError: (error: unknown) => void,
    private readonly retryMs = RETRY_MS,
  ) {}

  push(versions: readonly StoredVersion[]): void {
    const relevant = versions.filter((v) => TYPES.has(v.resourceType));
    if (relevant.length === 0) return;
    this.run(async () => {
      // While stalled, the replay from the mark will see these too.
      if (this.stalled) return;
      // With no channel on, there is nothing to send, but the mark still moves: a channel added later must not
      // be sent these older changes by the next start's catch-up.
      if (this.router.active()) await this.router.handle(relevant);
      this.advance(relevant);
    });
  }

  /** Replays what was committed since the saved mark (a crash may have lost those changes' messages). */
  async catchUp(): Promise<void> {
    const work = this.chain.then(async () => {
      const saved = await this.store.getSetting<Mark | number>(MARK_KEY);
      if (saved === undefined || !this.router.active()) {
        await this.save({ at: Date.now(), keys: [] });
        return;
      }
      this.mark = this.saved = markOf(saved);
      await this.replay();
    });
    // A failed catch-up fails the start; later pushes wait behind it either way.
    this.chain = work.catch(() => undefined);
    await work;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.chain;
    clearTimeout(this.saveTimer);
    if (this.mark !== this.saved) await this.save(this.mark);
  }

  private run(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((error) => this.failed(error));
  }

  private failed(error: unknown): void {
    this.onError(error);
    this.stalled = true;
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.run(() => this.replay());
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Hands every relevant change since the mark to the router again, oldest first; then the mark moves on. */
  private async replay(): Promise<void> {
    if (this.stopped) return;
    const repo = new Repository(this.services, SYSTEM_ACCESS);
    const versions: StoredVersion[] = [];
    let cursor: string | undefined;
    do {
      const page = await repo.history({ since: this.mark.at, count: PAGE, cursor });
      versions.push(...page.entries.filter((v) => TYPES.has(v.resourceType) && !this.handled(v)));
      cursor = page.next;
    } while (cursor);
    // History pages come newest first; reversed they are in commit order, which the stable sort keeps for
    // changes of the same millisecond (a transaction's Patient before its ServiceRequest).
    versions.reverse().sort((a, b) => a.lastUpdated - b.lastUpdated);
    if (this.router.active()) await this.router.handle(versions);
    this.stalled = false;
    this.mark = passed(this.mark, versions);
    await this.save(this.mark);
  }

  private handled(version: StoredVersion): boolean {
    return version.lastUpdated === this.mark.at && this.mark.keys.includes(keyOf(version));
  }

  private advance(versions: readonly StoredVersion[]): void {
    this.mark = passed(this.mark, versions);
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      void this.save(this.mark).catch(this.onError);
    }, SAVE_EVERY_MS);
  }

  private async save(mark: Mark): Promise<void> {
    await this.store.putSetting(MARK_KEY, mark);
    this.saved = mark;
    if (this.mark.at < mark.at) this.mark = mark;
  }
}

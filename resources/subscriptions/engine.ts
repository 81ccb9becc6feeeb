// The subscription engine: keeps the stored Subscriptions that are requested or active, and, on the node that
// holds the subscription delivery job (delivery-job.ts; one node of the store at a time, by the job runner's
// lease), turns written versions into numbered events for the subscriptions they match (and their subscriber
// may read) and delivers them in order per subscription, a subscription whose deliveries keep failing going to
// `error` with the reason. The job's checkpoint says how far the write log was matched and what each
// subscription has been sent; taking the job over (at start-up, after a crash, on another node) replays the log
// from there, so no event is lost and each keeps its number. New rest-hook topic subscriptions are activated by
// a handshake.
import type { Subscription, TaskOutput } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import type { CommitFeed } from '../commit-feed';
import { AccessGuard } from '../access-guard';
import { AccessJournal } from '../audit/trail';
import { JobStopped, type JobContext } from '../jobs/handler';
import { JOB_KIND_SYSTEM } from '../jobs/job-task';
import { Repository, type RepositoryServices } from '../repository';
import { extractIndexEntries } from '../search/extract';
import type { IndexEntry } from '../search/index-entry';
import { parseSearchParams } from '../search/parse';
import type { StoredVersion, VersionWrite } from '../store/port';
import { EMPTY_CHECKPOINT, replayStart, type DeliveryCheckpoint } from './checkpoint';
import { CheckpointStore } from './checkpoint-store';
import { readSubscription, type EndpointPolicy, type SubscriptionDefinition } from './definition';
import { NotificationSender, type DeliverySettings, type NotifiedSubscription } from './delivery';
import { SubscriptionMatcher } from './matcher';
import type { NotificationEvent } from './notification';
import { SocketBindings, type NotificationSocket } from './socket-bindings';
import type { RecordedEvent, SubscriptionState, SubscriptionStates } from './state';
import { subscriberAccess } from './subscriber';

export interface SubscriptionEngineSettings extends DeliverySettings {
  allowEndpoint: EndpointPolicy;
  /** Consecutive failed deliveries that put a subscription in `error`. */
  maxFailures: number;
  /** How often the delivery job saves its checkpoint while something changed. */
  checkpointMs: number;
  /** How often, at most, the job Task's progress outputs are written (each write is a version of the Task). */
  progressMs: number;
}

export const DEFAULT_ENGINE_SETTINGS: Omit<SubscriptionEngineSettings, 'baseUrl' | 'allowEndpoint'> = {
  attempts: 3,
  retryDelayMs: 1000,
  maxFailures: 5,
  checkpointMs: 1000,
  progressMs: 20_000,
};

/** Events kept per subscription for `$events`. */
export const RECENT_EVENTS = 100;
/** Versions read from the write log at a time while replaying. */
const REPLAY_BATCH = 500;
/** How often a matched position that moved without any event is saved. */
const POSITION_SAVE_MS = 30_000;

type QueuedEvent = NotificationEvent & { position?: string };

/** A version as the engine matches it: from a commit (with its index entries) or from the write log. */
type Written = StoredVersion & { index?: IndexEntry[]; position?: string };

interface Active extends NotifiedSubscription {
  guard: AccessGuard;
  failures: number;
  /** Events delivered (or given up on): the first queued one is number delivered + 1. */
  delivered: number;
  queue: QueuedEvent[];
  /** Log position before the first queued event (what the checkpoint keeps while some are undelivered). */
  resumeAfter?: string;
  /** lastUpdated of the version the engine first saw: a replay gives it no event of earlier writes. */
  loadedAt: number;
  recent: RecordedEvent[];
  sending?: Promise<void>;
  heartbeat?: NodeJS.Timeout;
}

/** This node's run of the delivery job. */
interface Lead {
  context: JobContext;
  /** The checkpoint the run started from. */
  restored: DeliveryCheckpoint;
  /** The progress last written on the job's Task, and when. */
  reported: string;
  reportedAt: number;
  /** Commits heard while the log is replayed, matched after it. */
  held?: Written[];
  replaying: boolean;
  /** Events were added or sent since the last save. */
  dirty: boolean;
  /** The matched position moved since the last save. */
  moved: boolean;
  savedAt: number;
  wake?: () => void;
}

export class SubscriptionEngine implements SubscriptionStates {
  private readonly matcher = new SubscriptionMatcher();
  private readonly sockets = new SocketBindings();
  private readonly sender: NotificationSender;
  private readonly active = new Map<string, Active>();
  /** The latest version seen of each Subscription. */
  private readonly versions = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly repo: Repository;
  private readonly checkpoints: CheckpointStore;
  private lead?: Lead;
  private leading?: Promise<unknown>;
  /** Log position of the last version matched. */
  private position?: string;
  /** Where the log can be out of commit order (several nodes): it is read again up to here each tick. */
  private tailAfter?: string;
  /** Positions matched past tailAfter, so that reading the log again matches each version once. */
  private readonly seen = new Set<string>();
  /** Versions are matched one after another, so that events are numbered in write order. */
  private matching: Promise<void> = Promise.resolve();
  private stopped = false;
  private stopListening?: () => void;
  private firstSubscription?: () => Promise<void>;
  private deliveryStarted = false;

  constructor(
    private readonly services: RepositoryServices,
    private readonly settings: SubscriptionEngineSettings,
  ) {
    this.repo = new Repository(services, SYSTEM_ACCESS);
    this.checkpoints = new CheckpointStore(services.store);
    this.sender = new NotificationSender(settings, this.sockets, () => this.stopped);
  }

  /** Loads the stored Subscriptions that are requested or active, then follows the commits of `feed`. */
  async start(feed: CommitFeed): Promise<void> {
    await this.loadSubscriptions();
    this.stopListening = feed.listen((writes) => this.committed(writes));
  }

  /** Reads the stored Subscriptions again (other nodes may have written some since this one last looked). */
  private async loadSubscriptions(): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.services.store.scan('Subscription', { after, count: 500 });
      for (const stored of page.entries) this.subscriptionWritten(stored);
      after = page.next;
    } while (after);
  }

  /**
   * Runs the delivery job on this node until it stops: replays the write log from the job's checkpoint, then
   * matches and delivers every commit, saving the checkpoint every `checkpointMs` while something changed.
   */
  deliver(context: JobContext): Promise<TaskOutput[]> {
    if (this.stopped || this.lead) return Promise.reject(new JobStopped('stopping'));
    const lead: Lead = {
      context,
      restored: EMPTY_CHECKPOINT,
      reported: '',
      reportedAt: 0,
      held: [],
      replaying: false,
      dirty: false,
      moved: false,
      savedAt: 0,
    };
    this.lead = lead;
    const run = this.runLead(lead).finally(() => {
      if (this.lead === lead) this.lead = undefined;
      // What is still queued is in the checkpoint's replay range: the next run sends it.
      for (const active of this.active.values()) active.queue = [];
    });
    this.leading = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    this.stopped = true;
    for (const active of this.active.values()) clearInterval(active.heartbeat);
    await Promise.allSettled([...this.pending]);
    this.lead?.wake?.();
    await this.leading;
  }

  /**
   * Has `start` called once the engine runs a subscription (at once if it runs some already): the delivery job
   * is created when there is something to deliver, not in every store.
   */
  onFirstSubscription(start: () => Promise<void>): void {
    this.firstSubscription = start;
    if (this.active.size > 0) this.startDelivery();
  }

  private startDelivery(): void {
    const start = this.firstSubscription;
    if (!start || this.deliveryStarted) return;
    this.deliveryStarted = true;
    // A failure (the store closing) is retried by the next subscription written or the next start.
    this.track(start().catch(() => (this.deliveryStarted = false)));
  }

  /** What `$status` says; undefined for a subscription the engine does not run (off, or never valid). */
  state(id: string): SubscriptionState | undefined {
    return this.active.get(id)?.state;
  }

  /** The latest events of a running subscription, oldest first (this node's, while it delivers). */
  recentEvents(id: string): readonly RecordedEvent[] | undefined {
    return this.active.get(id)?.recent;
  }

  /** A token that binds sockets to these websocket subscriptions (the caller's read access is checked before). */
  issueBindingToken(ids: readonly string[]): { token: string; expires: number } {
    return this.sockets.issue(ids);
  }

  /** Binds a socket by token and sends it a handshake per subscription; false for an unknown or expired token. */
  bindSocket(token: string, socket: NotificationSocket): boolean {
    const ids = this.sockets.bind(token, socket);
    if (!ids) return false;
    for (const id of ids) {
      const active = this.active.get(id);
      if (active) socket.send(JSON.stringify(this.sender.bundle(active, 'handshake', [])));
    }
    return true;
  }

  /** Called with every committed write, in commit order. */
  committed(writes: readonly VersionWrite[]): void {
    for (const write of writes) if (write.resourceType === 'Subscription') this.subscriptionWritten(write);
    const lead = this.lead;
    if (!lead) return;
    if (lead.held) lead.held.push(...writes);
    else for (const write of writes) this.enqueue(write);
  }

  private async runLead(lead: Lead): Promise<TaskOutput[]> {
    lead.restored = (await this.checkpoints.read()) ?? EMPTY_CHECKPOINT;
    if (this.services.store.logSettleMs) await this.loadSubscriptions();
    this.restore(lead.restored);
    // While replaying, remember what was matched (where the log settles late), not to match it again after.
    this.tailAfter = this.settledPosition() === undefined ? undefined : '';
    this.seen.clear();
    if (lead.restored.position !== undefined) await this.replay(lead, replayStart(lead.restored));
    // A first run starts from now: there is no earlier checkpoint to replay from.
    this.tailAfter = this.tailStart();
    const held = (lead.held ?? []).filter((w) => this.isAfter(w.position) && !this.seen.has(w.position ?? ''));
    lead.held = undefined;
    for (const write of held) this.enqueue(write);
    for (const active of this.active.values()) this.resume(active);
    return this.follow(lead);
  }

  /** Each subscription's count and failures as the checkpoint has them; nothing is queued yet. */
  private restore(checkpoint: DeliveryCheckpoint): void {
    this.position = checkpoint.position;
    for (const active of this.active.values()) {
      const progress = checkpoint.subscriptions[active.id];
      active.queue = [];
      active.delivered = progress?.delivered ?? 0;
      active.failures = progress?.failures ?? 0;
      active.resumeAfter = progress?.resumeAfter;
      active.state.eventsSinceStart = active.delivered;
    }
  }

  private async replay(lead: Lead, from: string | undefined): Promise<void> {
    lead.replaying = true;
    this.position = from;
    let after = from;
    for (;;) {
      if (this.stopped) throw new JobStopped('stopping');
      lead.context.assertActive();
      const batch = await this.services.store.log(after, REPLAY_BATCH);
      for (const version of batch) await this.match(version);
      if (batch.length < REPLAY_BATCH) break;
      after = batch[batch.length - 1].position;
    }
    lead.replaying = false;
  }

  /**
   * Saves the checkpoint while something changed, and the progress on the job's Task now and then, until the
   * job or the engine stops.
   */
  private async follow(lead: Lead): Promise<never> {
    for (;;) {
      await new Promise<void>((resolve) => {
        lead.wake = resolve;
        setTimeout(resolve, this.settings.checkpointMs).unref();
      });
      lead.context.assertActive();
      await this.readSettlingLog(lead);
      // A position that moved without events is saved now and then, so that a restart replays little.
      const stale = lead.moved && Date.now() - lead.savedAt >= POSITION_SAVE_MS;
      if (lead.dirty || stale || (this.stopped && lead.moved)) {
        lead.dirty = false;
        lead.moved = false;
        try {
          await this.matching;
          await this.checkpoints.write(this.checkpoint());
          lead.savedAt = Date.now();
        } catch {
          // The store is busy or closing: the next tick saves again.
          lead.dirty = true;
        }
      }
      await this.report(lead);
      if (this.stopped) throw new JobStopped('stopping');
    }
  }

  /** The job Task's outputs, written when they changed, at most every `progressMs`. */
  private async report(lead: Lead): Promise<void> {
    const outputs = this.progress();
    const text = JSON.stringify(outputs);
    if (text === lead.reported || Date.now() - lead.reportedAt < this.settings.progressMs) return;
    try {
      await lead.context.save({ checkpoint: 'blob storage' }, outputs);
      lead.reported = text;
      lead.reportedAt = Date.now();
    } catch (error) {
      if (error instanceof JobStopped) throw error;
    }
  }

  private checkpoint(): DeliveryCheckpoint {
    const subscriptions: DeliveryCheckpoint['subscriptions'] = {};
    for (const active of this.active.values()) {
      subscriptions[active.id] = {
        delivered: active.delivered,
        failures: active.failures,
        ...(active.resumeAfter !== undefined ? { resumeAfter: active.resumeAfter } : {}),
      };
    }
    return { ...(this.position !== undefined ? { position: this.position } : {}), subscriptions };
  }

  private progress(): TaskOutput[] {
    let delivered = 0;
    for (const active of this.active.values()) delivered += active.delivered;
    return [
      { type: { text: 'active subscriptions' }, valueInteger: this.active.size },
      { type: { text: 'events delivered' }, valueInteger: delivered },
    ];
  }

  /** `other node`: read from the log, a commit this node's feed did not tell of. */
  private enqueue(write: Written, from: 'this node' | 'other node' = 'this node'): void {
    this.matching = this.matching.then(() => this.match(write, from)).catch(() => undefined);
    this.track(this.matching);
  }

  private isAfter(position: string | undefined): boolean {
    return position === undefined || this.position === undefined || position > this.position;
  }

  /** Turns one version into events of the subscriptions it matches, and moves the matched position on. */
  private async match(write: Written, from: 'this node' | 'other node' = 'this node'): Promise<void> {
    const lead = this.lead;
    if (!lead || isJobTask(write)) return;
    const before = this.position;
    // A replay starts from the Subscriptions as stored now; later versions from other nodes come by the log.
    if (write.resourceType === 'Subscription' && from === 'other node' && !lead.replaying) {
      this.subscriptionWritten(write);
    } else if (write.resourceType !== 'Subscription') {
      const subject = await this.matchable(write);
      if (subject && !isJobTask(subject)) {
        for (const id of await this.matchingIds(subject)) {
          const active = this.active.get(id);
          if (active && this.isNewEvent(lead, active, write)) this.addEvent(lead, active, write, subject, before);
        }
      }
    }
    if (this.isAfter(write.position)) this.position = write.position ?? this.position;
    if (this.tailAfter !== undefined && write.position !== undefined) this.seen.add(write.position);
    lead.moved = true;
  }

  /**
   * Several nodes write to the store (MongoDB): their commits reach this node only through the write log, where
   * a version may appear a moment after versions with later positions. Each tick reads the log again from the
   * position where it settled and matches what was not matched yet.
   */
  private async readSettlingLog(lead: Lead): Promise<void> {
    if (this.tailAfter === undefined) return;
    const settled = this.settledPosition();
    let after: string | undefined = this.tailAfter;
    for (;;) {
      const batch = await this.services.store.log(after, REPLAY_BATCH);
      for (const version of batch) if (!this.seen.has(version.position)) this.enqueue(version, 'other node');
      if (batch.length < REPLAY_BATCH || this.stopped) break;
      after = batch[batch.length - 1].position;
      lead.context.assertActive();
    }
    await this.matching;
    if (settled !== undefined && settled > this.tailAfter) this.tailAfter = settled;
    for (const position of this.seen) if (position <= this.tailAfter) this.seen.delete(position);
  }

  /**
   * Where reading the settling log starts after a replay: what the checkpoint and the replay matched counts as
   * matched. (A version another node commits late, with a position before the previous holder's last one, in
   * the seconds around a takeover, is not told of.)
   */
  private tailStart(): string | undefined {
    const settled = this.settledPosition();
    if (settled === undefined) return undefined;
    return this.position !== undefined && this.position > settled ? this.position : settled;
  }

  /** The log position before which no more versions can appear; undefined when the log is in commit order. */
  private settledPosition(): string | undefined {
    const { store } = this.services;
    if (!store.logSettleMs || !store.logPositionAt) return undefined;
    return store.logPositionAt(Date.now() - store.logSettleMs);
  }

  /**
   * The version whose content is matched, with its index entries: the written one, or for a deletion the
   * version it deleted (a resource leaves a worklist as what it was).
   */
  private async matchable(write: Written): Promise<VersionWrite | undefined> {
    const version = write.deleted
      ? await this.services.store.readVersion(write.resourceType, write.id, write.versionId - 1)
      : write;
    if (!version?.json) return undefined;
    const index =
      !write.deleted && write.index
        ? write.index
        : extractIndexEntries(this.services.registry, JSON.parse(version.json) as never);
    return { ...version, index, deleted: false };
  }

  private async matchingIds(subject: VersionWrite): Promise<string[]> {
    const { matched, toConfirm } = this.matcher.match(subject);
    const confirmed = await Promise.all(
      toConfirm.map(async ({ id, query }) => {
        const page = await this.services.store.search({
          ...query,
          conditions: [...query.conditions, { kind: 'id', ids: [subject.id] }],
          count: 1,
        });
        return page.entries.length > 0 ? id : undefined;
      }),
    );
    return [...matched, ...confirmed].filter((id): id is string => id !== undefined);
  }

  /** While replaying, what the checkpoint says was matched before is no new event. */
  private isNewEvent(lead: Lead, active: Active, write: Written): boolean {
    if (!lead.replaying) return true;
    const progress = lead.restored.subscriptions[active.id];
    if (!progress) return write.lastUpdated >= active.loadedAt;
    const after = progress.resumeAfter ?? lead.restored.position;
    return after === undefined || write.position === undefined || write.position > after;
  }

  private addEvent(
    lead: Lead,
    active: Active,
    write: Written,
    subject: StoredVersion,
    before: string | undefined,
  ): void {
    const { definition, state } = active;
    const created = write.versionId === 1;
    const interaction = write.deleted ? 'delete' : created ? 'create' : 'update';
    if (!definition.interactions.includes(interaction)) return;
    if (definition.end !== undefined && write.lastUpdated > definition.end) return;
    if (!active.guard.permits(subject, 'r')) return;
    state.eventsSinceStart++;
    const recorded: RecordedEvent = {
      number: state.eventsSinceStart,
      timestamp: write.lastUpdated,
      focus: `${write.resourceType}/${write.id}`,
      created,
      ...(write.deleted ? { deleted: true } : {}),
      versionId: write.versionId,
    };
    active.recent.push(recorded);
    if (active.recent.length > RECENT_EVENTS) active.recent.shift();
    if (active.queue.length === 0) active.resumeAfter = before;
    const full = definition.channel.content === 'full-resource' && !write.deleted;
    lead.dirty = true;
    active.queue.push({
      ...recorded,
      position: write.position,
      ...(full ? { resource: JSON.parse(write.json as string) as never } : {}),
    });
    this.flush(active);
  }

  private subscriptionWritten(stored: StoredVersion): void {
    // Another node's version can come by the log after a later one this node wrote itself.
    if ((this.versions.get(stored.id) ?? 0) >= stored.versionId) return;
    this.versions.set(stored.id, stored.versionId);
    const subscription = stored.json ? (JSON.parse(stored.json) as Subscription) : undefined;
    if (stored.deleted || (subscription?.status !== 'requested' && subscription?.status !== 'active')) {
      this.remove(stored.id);
      return;
    }
    let definition: SubscriptionDefinition;
    let query;
    try {
      definition = readSubscription(subscription, this.settings.allowEndpoint);
      query = parseSearchParams(this.services.registry, [definition.resourceType], definition.criteria, {
        strict: true,
        baseUrl: this.settings.baseUrl,
      }).query;
    } catch (error) {
      // Checked when it was written; a registry change since then can still break it.
      this.remove(stored.id);
      this.track(this.setStatus(stored.id, 'error', (error as Error).message));
      return;
    }
    // A new version of a running subscription (its status moved, or the client changed it) keeps its count
    // and its queue.
    const guard = new AccessGuard(subscriberAccess(subscription), this.services.registry, new AccessJournal());
    const status = subscription.status;
    let active = this.active.get(stored.id);
    if (active) Object.assign(active, { definition, guard }).state.status = status;
    else {
      active = {
        id: stored.id,
        definition,
        guard,
        state: { status, eventsSinceStart: 0, errors: [] },
        failures: 0,
        delivered: 0,
        queue: [],
        loadedAt: stored.lastUpdated,
        recent: [],
      };
      this.active.set(stored.id, active);
    }
    this.matcher.set(stored.id, query);
    this.startDelivery();
    clearInterval(active.heartbeat);
    if (this.lead && !this.lead.held) this.resume(active);
  }

  /** On the delivering node: activates a requested subscription, or sends what it has queued. */
  private resume(active: Active): void {
    if (active.state.status === 'requested') {
      this.track(this.activate(active));
      return;
    }
    this.startHeartbeat(active);
    this.flush(active);
  }

  private remove(id: string): void {
    const known = this.active.get(id);
    if (!known) return;
    clearInterval(known.heartbeat);
    this.active.delete(id);
    this.matcher.delete(id);
  }

  /** Topic rest-hooks are active once their endpoint accepts the handshake; the others at once. */
  private async activate(active: Active): Promise<void> {
    const { channel, topic } = active.definition;
    if (topic && channel.type === 'rest-hook') {
      const outcome = await this.sender.send(active, 'handshake', []);
      if (!outcome.ok) {
        await this.setStatus(active.id, 'error', `The handshake failed: ${outcome.error}`);
        return;
      }
    }
    await this.setStatus(active.id, 'active');
  }

  /** Sends what is queued, one notification at a time, so a subscriber sees its events in order. */
  private flush(active: Active): void {
    if (active.sending || this.stopped || active.queue.length === 0 || active.state.status !== 'active') return;
    active.sending = this.track(this.drain(active)).finally(() => (active.sending = undefined));
  }

  private async drain(active: Active): Promise<void> {
    const max = active.definition.channel.maxCount ?? 100;
    while (
      !this.stopped &&
      active.queue.length > 0 &&
      active.state.status === 'active' &&
      this.active.get(active.id) === active
    ) {
      const events = active.queue.slice(0, max);
      const outcome = await this.sender.send(active, 'event-notification', events);
      if (this.stopped && !outcome.ok) return;
      this.sent(active, events);
      if (outcome.ok) {
        active.failures = 0;
        continue;
      }
      active.failures++;
      active.state.errors = [outcome.error ?? 'delivery failed'];
      if (active.failures >= this.settings.maxFailures) {
        const reason = `${active.failures} notifications in a row failed; the last: ${outcome.error}`;
        await this.setStatus(active.id, 'error', reason);
        return;
      }
    }
  }

  /** A notification is done with (delivered, or failed for good): its events leave the queue. */
  private sent(active: Active, events: QueuedEvent[]): void {
    active.queue.splice(0, events.length);
    active.delivered += events.length;
    active.resumeAfter =
      active.queue.length === 0 ? undefined : (events[events.length - 1].position ?? active.resumeAfter);
    if (this.lead) this.lead.dirty = true;
  }

  private startHeartbeat(active: Active): void {
    const seconds = active.definition.channel.heartbeatSeconds;
    if (!seconds || (!active.definition.topic && active.definition.channel.type === 'rest-hook')) return;
    active.heartbeat = setInterval(() => {
      if (!active.sending && active.queue.length === 0) this.track(this.sender.send(active, 'heartbeat', []));
    }, seconds * 1000);
    active.heartbeat.unref();
  }

  /** Writes the Subscription's new status (and error); the engine picks the new version up from the commit. */
  private async setStatus(id: string, status: 'active' | 'error', reason?: string): Promise<void> {
    if (this.stopped) return;
    const current = await this.services.store.readCurrent('Subscription', id);
    if (!current?.json) return;
    const subscription = JSON.parse(current.json) as Subscription;
    const next: Subscription = { ...subscription, status };
    if (reason) next.error = reason;
    else delete next.error;
    await this.repo.update('Subscription', id, next, { ifMatch: current.versionId }).catch(() => undefined);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.catch(() => undefined as T);
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return tracked;
  }
}

/**
 * The server's own job Tasks (this delivery job's checkpoints among them) are not events: they would notify
 * work-queue subscribers of internals, and the job of its own saves.
 */
function isJobTask(write: Written): boolean {
  return write.resourceType === 'Task' && write.json !== undefined && write.json.includes(JOB_KIND_SYSTEM);
}

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
import { Repository, type RepositoryServices } from '../repository';
import { parseSearchParams } from '../search/parse';
import type { StoredVersion, VersionWrite } from '../store/port';
import { checkpointOf, progressOf, restoreActive, type Active } from './active';
import { EMPTY_CHECKPOINT, replayStart, type DeliveryCheckpoint } from './checkpoint';
import { CheckpointStore } from './checkpoint-store';
import { readSubscription, type EndpointPolicy, type SubscriptionDefinition } from './definition';
import { NotificationSender, type DeliverySettings } from './delivery';
import { SubscriptionMatcher } from './matcher';
import { QueueSender } from './queue-sender';
import { LOG_BATCH, SettlingLog } from './settling-log';
import { SocketBindings, type NotificationSocket } from './socket-bindings';
import { Follower, type FollowedEngine } from './follower';
import type { RecordedEvent, SubscriptionState, SubscriptionStates } from './state';
import { subscriberAccess } from './subscriber';
import { isJobTask, writeSubject, type Written } from './write-subject';

export interface SubscriptionEngineSettings extends DeliverySettings {
  allowEndpoint: EndpointPolicy;
  /** Consecutive failed deliveries that put a subscription in `error`. */
  maxFailures: number;
  /** How often the delivery job saves its checkpoint while something changed. */
  checkpointMs: number;
  /** How often, at most, the job Task's progress outputs are written (each write is a version of the Task). */
  progressMs: number;
  /** How often a node that does not deliver reads the delivering node's notifications and events (MongoDB). */
  relayPollMs: number;
  /** How often a node that does not deliver reads the Subscriptions and their counts again (MongoDB). */
  followMs: number;
  /** HMS_SECRET: websocket binding tokens are signed with a key derived from it, valid on every node. */
  bindingSecret?: string;
}

export const DEFAULT_ENGINE_SETTINGS: Omit<SubscriptionEngineSettings, 'baseUrl' | 'allowEndpoint'> = {
  attempts: 3,
  retryDelayMs: 1000,
  maxFailures: 5,
  checkpointMs: 1000,
  progressMs: 20_000,
  relayPollMs: 100,
  followMs: 2000,
};

/** Events kept per subscription for `$events`. */
export const RECENT_EVENTS = 100;
/** How often a matched position that moved without any event is saved. */
const POSITION_SAVE_MS = 30_000;

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
  private readonly sockets: SocketBindings;
  /** Where several app nodes share the store: how this node keeps up while another delivers. */
  private readonly follower?: Follower;
  private readonly sender: NotificationSender;
  private readonly queues: QueueSender;
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
  private readonly settling: SettlingLog;
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
    this.settling = new SettlingLog(services.store);
    this.sockets = new SocketBindings(settings.bindingSecret);
    if (services.store.logSettleMs !== undefined)
      this.follower = new Follower(services.store, settings, this.followed());
    const follower = this.follower;
    this.sender = new NotificationSender(
      settings,
      this.sockets,
      () => this.stopped,
      follower && ((id, text) => follower.publishNotification(id, text)),
    );
    this.queues = new QueueSender(this.sender, settings.maxFailures, {
      stopped: () => this.stopped,
      isRunning: (active) => this.active.get(active.id) === active,
      sent: () => {
        if (this.lead) this.lead.dirty = true;
      },
      setStatus: (id, status, reason) => this.setStatus(id, status, reason),
      track: (work) => this.track(work),
    });
  }

  /** Loads the stored Subscriptions that are requested or active, then follows the commits of `feed`. */
  async start(feed: CommitFeed): Promise<void> {
    await this.loadSubscriptions();
    this.stopListening = feed.listen((writes) => this.committed(writes));
    this.follower?.start();
  }

  /** What the follower sees of this engine. */
  private followed(): FollowedEngine {
    return {
      active: this.active,
      sockets: this.sockets,
      checkpoints: this.checkpoints,
      delivering: () => this.lead !== undefined,
      stopped: () => this.stopped,
      loadSubscriptions: () => this.loadSubscriptions(),
      keepRecent,
      track: (work) => void this.track(work),
    };
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
    await this.follower?.stop();
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
    const handshake = () => {
      for (const id of ids) {
        const active = this.active.get(id);
        if (active) socket.send(JSON.stringify(this.sender.bundle(active, 'handshake', [])));
      }
    };
    // Another node may have written the subscription a moment ago.
    const follower = this.follower;
    if (follower && ids.some((id) => !this.active.has(id))) this.track(follower.refresh().then(handshake));
    else handshake();
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
    this.position = lead.restored.position;
    for (const active of this.active.values()) restoreActive(active, lead.restored);
    this.settling.replaying();
    if (lead.restored.position !== undefined) await this.replay(lead, replayStart(lead.restored));
    // A first run starts from now: there is no earlier checkpoint to replay from.
    this.settling.follow(this.position);
    const held = (lead.held ?? []).filter((w) => this.isAfter(w.position) && !this.settling.has(w.position));
    lead.held = undefined;
    for (const write of held) this.enqueue(write);
    for (const active of this.active.values()) this.resume(active);
    return this.follow(lead);
  }

  private async replay(lead: Lead, from: string | undefined): Promise<void> {
    lead.replaying = true;
    this.position = from;
    let after = from;
    for (;;) {
      if (this.stopped) throw new JobStopped('stopping');
      lead.context.assertActive();
      const batch = await this.services.store.log(after, LOG_BATCH);
      for (const version of batch) await this.match(version);
      if (batch.length < LOG_BATCH) break;
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
      await this.settling.read(
        (version) => this.enqueue(version, 'other node'),
        () => {
          lead.context.assertActive();
          return !this.stopped;
        },
      );
      await this.matching;
      // A position that moved without events is saved now and then, so that a restart replays little.
      const stale = lead.moved && Date.now() - lead.savedAt >= POSITION_SAVE_MS;
      if (lead.dirty || stale || (this.stopped && lead.moved)) {
        lead.dirty = false;
        lead.moved = false;
        try {
          await this.matching;
          await this.checkpoints.write(checkpointOf(this.active.values(), this.position));
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
    const outputs = progressOf(this.active);
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
      const subject = await writeSubject(this.services, write);
      if (subject) {
        for (const id of await this.matchingIds(subject)) {
          const active = this.active.get(id);
          if (active && this.isNewEvent(lead, active, write)) this.addEvent(lead, active, write, subject, before);
        }
      }
    }
    if (this.isAfter(write.position)) this.position = write.position ?? this.position;
    this.settling.matched(write.position);
    lead.moved = true;
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
    keepRecent(active, recorded);
    this.follower?.publishEvent(active.id, recorded);
    if (active.queue.length === 0) active.resumeAfter = before;
    const full = definition.channel.content === 'full-resource' && !write.deleted;
    lead.dirty = true;
    active.queue.push({
      ...recorded,
      position: write.position,
      ...(full ? { resource: JSON.parse(write.json as string) as never } : {}),
    });
    this.queues.flush(active);
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
    this.queues.startHeartbeat(active);
    this.queues.flush(active);
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

/** Keeps an event for `$events`: the latest RECENT_EVENTS per subscription. */
function keepRecent(active: Active, event: RecordedEvent): void {
  active.recent.push(event);
  if (active.recent.length > RECENT_EVENTS) active.recent.shift();
}

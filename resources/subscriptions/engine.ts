// The subscription engine: keeps the active Subscriptions in the matcher, turns committed writes into numbered
// events for the subscriptions they match (and their subscriber may read), and delivers them in order per
// subscription over the subscription's channel, with retries; a subscription whose deliveries keep failing goes
// to `error` with the reason. New rest-hook topic subscriptions are activated by a handshake.
import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import type { CommitFeed } from '../commit-feed';
import { AccessGuard } from '../access-guard';
import { AccessJournal } from '../audit/trail';
import { Repository, type RepositoryServices } from '../repository';
import { parseSearchParams } from '../search/parse';
import type { StoredVersion, VersionWrite } from '../store/port';
import { readSubscription, type EndpointPolicy, type SubscriptionDefinition } from './definition';
import { SubscriptionMatcher } from './matcher';
import { notificationBundle, type NotificationEvent, type NotificationType } from './notification';
import { sendRestHook, type DeliveryOutcome, type RestHookMessage } from './rest-hook';
import type { SubscriptionState, SubscriptionStates } from './state';
import { SocketBindings, type NotificationSocket } from './socket-bindings';
import { subscriberAccess } from './subscriber';

export interface SubscriptionEngineSettings {
  baseUrl: string;
  allowEndpoint: EndpointPolicy;
  /** Attempts per notification before it counts as a failed delivery. */
  attempts: number;
  /** Delay before the second attempt; doubles for each next one. */
  retryDelayMs: number;
  /** Consecutive failed deliveries that put a subscription in `error`. */
  maxFailures: number;
}

export const DEFAULT_ENGINE_SETTINGS: Omit<SubscriptionEngineSettings, 'baseUrl' | 'allowEndpoint'> = {
  attempts: 3,
  retryDelayMs: 1000,
  maxFailures: 5,
};

interface Active {
  id: string;
  definition: SubscriptionDefinition;
  guard: AccessGuard;
  state: SubscriptionState;
  failures: number;
  queue: NotificationEvent[];
  sending?: Promise<void>;
  heartbeat?: NodeJS.Timeout;
}

export class SubscriptionEngine implements SubscriptionStates {
  private readonly matcher = new SubscriptionMatcher();
  private readonly sockets = new SocketBindings();
  private readonly active = new Map<string, Active>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly repo: Repository;
  private stopped = false;
  private stopListening?: () => void;

  constructor(
    private readonly services: RepositoryServices,
    private readonly settings: SubscriptionEngineSettings,
  ) {
    this.repo = new Repository(services, SYSTEM_ACCESS);
  }

  /** Loads the stored Subscriptions that are requested or active, then follows the commits of `feed`. */
  async start(feed: CommitFeed): Promise<void> {
    let after: string | undefined;
    do {
      const page = await this.services.store.scan('Subscription', { after, count: 500 });
      for (const stored of page.entries) this.subscriptionWritten(stored);
      after = page.next;
    } while (after);
    this.stopListening = feed.listen((writes) => this.committed(writes));
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    this.stopped = true;
    for (const active of this.active.values()) clearInterval(active.heartbeat);
    await Promise.allSettled([...this.pending]);
  }

  /** What `$status` says; undefined for a subscription the engine does not run (off, or never valid). */
  state(id: string): SubscriptionState | undefined {
    return this.active.get(id)?.state;
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
      if (active) socket.send(JSON.stringify(this.bundle(active, 'handshake', [])));
    }
    return true;
  }

  /** Called with every committed write, in commit order. */
  committed(writes: readonly VersionWrite[]): void {
    for (const write of writes) {
      if (write.resourceType === 'Subscription') this.subscriptionWritten(write);
      else this.track(this.matchWrite(write));
    }
  }

  private subscriptionWritten(stored: StoredVersion): void {
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
        queue: [],
      };
      this.active.set(stored.id, active);
    }
    this.matcher.set(stored.id, query);
    clearInterval(active.heartbeat);
    if (status === 'requested') {
      this.track(this.activate(active));
      return;
    }
    this.startHeartbeat(active);
    if (active.queue.length > 0) this.flush(active);
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
      const outcome = await this.deliver(active, 'handshake', []);
      if (!outcome.ok) {
        await this.setStatus(active.id, 'error', `The handshake failed: ${outcome.error}`);
        return;
      }
    }
    await this.setStatus(active.id, 'active');
  }

  private async matchWrite(write: VersionWrite): Promise<void> {
    const { matched, toConfirm } = this.matcher.match(write);
    const confirmed = await Promise.all(
      toConfirm.map(async ({ id, query }) => {
        const page = await this.services.store.search({
          ...query,
          conditions: [...query.conditions, { kind: 'id', ids: [write.id] }],
          count: 1,
        });
        return page.entries.length > 0 ? id : undefined;
      }),
    );
    for (const id of [...matched, ...confirmed]) {
      const active = id ? this.active.get(id) : undefined;
      if (active) this.addEvent(active, write);
    }
  }

  private addEvent(active: Active, write: VersionWrite): void {
    const { definition, state } = active;
    const created = write.versionId === 1;
    if (!definition.interactions.includes(created ? 'create' : 'update')) return;
    if (definition.end !== undefined && write.lastUpdated > definition.end) return;
    if (!active.guard.permits(write, 'r')) return;
    state.eventsSinceStart++;
    active.queue.push({
      number: state.eventsSinceStart,
      timestamp: write.lastUpdated,
      focus: `${write.resourceType}/${write.id}`,
      created,
      ...(definition.channel.content === 'full-resource'
        ? { resource: JSON.parse(write.json as string) as Resource }
        : {}),
    });
    if (state.status === 'active') this.flush(active);
  }

  /** Sends what is queued, one notification at a time, so a subscriber sees its events in order. */
  private flush(active: Active): void {
    if (active.sending || this.stopped) return;
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
      const outcome = await this.deliver(active, 'event-notification', events);
      active.queue.splice(0, events.length);
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

  /** One notification, attempted up to `attempts` times with doubling delays. */
  private async deliver(active: Active, type: NotificationType, events: NotificationEvent[]): Promise<DeliveryOutcome> {
    if (active.definition.channel.type === 'websocket') {
      // No acknowledgement on websockets (the IG): what no socket is bound to hear is not sent.
      const text = JSON.stringify(this.bundle(active, type, events));
      for (const socket of this.sockets.socketsOf(active.id)) socket.send(text);
      return { ok: true };
    }
    const message = this.message(active, type, events);
    let outcome: DeliveryOutcome = { ok: false };
    for (let attempt = 0; attempt < this.settings.attempts && !this.stopped; attempt++) {
      if (attempt > 0) await sleep(this.settings.retryDelayMs * 2 ** (attempt - 1));
      outcome = await sendRestHook(active.definition.channel, message);
      if (outcome.ok) return outcome;
    }
    return outcome;
  }

  private message(active: Active, type: NotificationType, events: NotificationEvent[]): RestHookMessage {
    const { definition } = active;
    if (!definition.topic) {
      // R4: no payload is an empty POST; with one, each resource is PUT (one event per message).
      const [event] = events;
      return definition.channel.payload && event ? { resource: event.resource, focus: event.focus } : {};
    }
    return { bundle: this.bundle(active, type, events) };
  }

  private bundle(active: Active, type: NotificationType, events: NotificationEvent[]): Bundle {
    const { definition, state } = active;
    return notificationBundle({
      baseUrl: this.settings.baseUrl,
      subscriptionId: active.id,
      ...(definition.topic ? { topic: definition.topic.url } : {}),
      status: state.status,
      type,
      eventsSinceStart: state.eventsSinceStart,
      content: definition.channel.content,
      events,
    });
  }

  private startHeartbeat(active: Active): void {
    const seconds = active.definition.channel.heartbeatSeconds;
    if (!seconds || (!active.definition.topic && active.definition.channel.type === 'rest-hook')) return;
    active.heartbeat = setInterval(() => {
      if (!active.sending && active.queue.length === 0) this.track(this.deliver(active, 'heartbeat', []));
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// Where several app nodes share the store (MongoDB), how a node that does not deliver keeps up with the one
// that does: it hears the delivering node's websocket notifications and recorded events through the relay,
// and reads the Subscriptions and their counts (from the delivery checkpoint, about a second behind) every
// `followMs`, so that its sockets, `$status`, `$events` and handshakes say what the delivering node would.
import type { ResourceStore } from '../store/port';
import type { Active } from './active';
import type { CheckpointStore } from './checkpoint-store';
import { EventRelay } from './event-relay';
import type { SocketBindings } from './socket-bindings';
import type { RecordedEvent } from './state';

export interface FollowerSettings {
  relayPollMs: number;
  followMs: number;
}

/** What the follower reads and updates of its engine. */
export interface FollowedEngine {
  readonly active: ReadonlyMap<string, Active>;
  readonly sockets: SocketBindings;
  readonly checkpoints: CheckpointStore;
  delivering(): boolean;
  stopped(): boolean;
  loadSubscriptions(): Promise<void>;
  keepRecent(active: Active, event: RecordedEvent): void;
  track(work: Promise<unknown>): void;
}

export class Follower {
  private readonly relay: EventRelay;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    store: ResourceStore,
    private readonly settings: FollowerSettings,
    private readonly engine: FollowedEngine,
  ) {
    this.relay = new EventRelay(store, {
      pollMs: settings.relayPollMs,
      delivering: () => engine.delivering(),
      notify: (id, text) => {
        for (const socket of engine.sockets.socketsOf(id)) socket.send(text);
      },
      recorded: (id, event) => {
        const active = engine.active.get(id);
        if (!active || engine.delivering()) return;
        engine.keepRecent(active, event);
        active.state.eventsSinceStart = Math.max(active.state.eventsSinceStart, event.number);
      },
    });
  }

  start(): void {
    this.relay.start();
    this.timer = setInterval(() => this.engine.track(this.refresh()), this.settings.followMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.relay.stop();
  }

  /** On the delivering node: a websocket notification, for the other nodes' sockets. */
  publishNotification(subscriptionId: string, text: string): void {
    this.relay.publishNotification(subscriptionId, text);
  }

  /** On the delivering node: an event it recorded, for the other nodes' `$events`. */
  publishEvent(subscriptionId: string, event: RecordedEvent): void {
    this.relay.publishEvent(subscriptionId, event);
  }

  /** Reads the Subscriptions and their counts again (now, when a socket binds one this node does not know). */
  refresh(): Promise<void> {
    if (this.engine.delivering() || this.engine.stopped()) return Promise.resolve();
    this.refreshing ??= (async () => {
      await this.engine.loadSubscriptions();
      const checkpoint = await this.engine.checkpoints.peek();
      if (!checkpoint || this.engine.delivering()) return;
      for (const active of this.engine.active.values()) {
        const progress = checkpoint.subscriptions[active.id];
        if (progress) active.state.eventsSinceStart = Math.max(active.state.eventsSinceStart, progress.delivered);
      }
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}

// What a subscription's notifications and `$status` say about it, kept by the engine while it runs.
import type { NotificationEvent } from './notification';
import type { NotificationSocket } from './socket-bindings';
export interface SubscriptionState {
  status: 'requested' | 'active' | 'error' | 'off';
  /** Events so far (handshakes and heartbeats do not count). */
  eventsSinceStart: number;
  /** Why the last delivery failed, while it is the last. */
  errors: string[];
}

/** An event as `$events` tells it again: without the resource, but with the version that triggered it. */
export type RecordedEvent = Omit<NotificationEvent, 'resource'> & { versionId: number };

/** The running subscriptions' states, as the repository reads them for `$status` and `$events`. */
export interface SubscriptionStates {
  state(id: string): SubscriptionState | undefined;
  /** The latest events of a running subscription, oldest first; undefined when the engine does not run it. */
  recentEvents(id: string): readonly RecordedEvent[] | undefined;
  /** A token for `$get-ws-binding-token`, binding sockets to these subscriptions. */
  issueBindingToken(ids: readonly string[]): { token: string; expires: number };
  /** Binds a socket (`bind-with-token`); false for an unknown or expired token. */
  bindSocket(token: string, socket: NotificationSocket): boolean;
  /** Stops listening and delivering; waits for deliveries under way. */
  stop(): Promise<void>;
}

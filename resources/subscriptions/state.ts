// What a subscription's notifications and `$status` say about it, kept by the engine while it runs.
import type { NotificationSocket } from './socket-bindings';
export interface SubscriptionState {
  status: 'requested' | 'active' | 'error' | 'off';
  /** Events so far (handshakes and heartbeats do not count). */
  eventsSinceStart: number;
  /** Why the last delivery failed, while it is the last. */
  errors: string[];
}

/** The running subscriptions' states, as the repository reads them for `$status`. */
export interface SubscriptionStates {
  state(id: string): SubscriptionState | undefined;
  /** A token for `$get-ws-binding-token`, binding sockets to these subscriptions. */
  issueBindingToken(ids: readonly string[]): { token: string; expires: number };
  /** Binds a socket (`bind-with-token`); false for an unknown or expired token. */
  bindSocket(token: string, socket: NotificationSocket): boolean;
  /** Stops listening and delivering; waits for deliveries under way. */
  stop(): Promise<void>;
}

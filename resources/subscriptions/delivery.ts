// Sending one notification of a running subscription over its channel: to the websockets bound to it on this
// node and, through the relay, on the others (no acknowledgement, as the IG says), or to its rest-hook endpoint, attempted a few times with doubling delays.
import type { Bundle } from '@medplum/fhirtypes';
import type { SubscriptionDefinition } from './definition';
import { notificationBundle, type NotificationEvent, type NotificationType } from './notification';
import { sendRestHook, type DeliveryOutcome, type RestHookMessage } from './rest-hook';
import type { SocketBindings } from './socket-bindings';
import type { SubscriptionState } from './state';

export interface DeliverySettings {
  baseUrl: string;
  /** Attempts per notification before it counts as a failed delivery. */
  attempts: number;
  /** Delay before the second attempt; doubles for each next one. */
  retryDelayMs: number;
}

/** What a notification is about: the subscription, its definition and its state when it is sent. */
export interface NotifiedSubscription {
  id: string;
  definition: SubscriptionDefinition;
  state: SubscriptionState;
}

export class NotificationSender {
  constructor(
    private readonly settings: DeliverySettings,
    private readonly sockets: SocketBindings,
    private readonly stopped: () => boolean,
    /** Hands a websocket notification to the other app nodes, for the sockets bound there. */
    private readonly relay?: (subscriptionId: string, text: string) => void,
  ) {}

  async send(
    subscription: NotifiedSubscription,
    type: NotificationType,
    events: NotificationEvent[],
  ): Promise<DeliveryOutcome> {
    if (subscription.definition.channel.type === 'websocket') {
      const text = JSON.stringify(this.bundle(subscription, type, events));
      for (const socket of this.sockets.socketsOf(subscription.id)) socket.send(text);
      this.relay?.(subscription.id, text);
      return { ok: true };
    }
    const message = this.message(subscription, type, events);
    let outcome: DeliveryOutcome = { ok: false };
    for (let attempt = 0; attempt < this.settings.attempts && !this.stopped(); attempt++) {
      if (attempt > 0) await sleep(this.settings.retryDelayMs * 2 ** (attempt - 1));
      outcome = await sendRestHook(subscription.definition.channel, message);
      if (outcome.ok) return outcome;
    }
    return outcome;
  }

  bundle(subscription: NotifiedSubscription, type: NotificationType, events: readonly NotificationEvent[]): Bundle {
    const { definition, state } = subscription;
    return notificationBundle({
      baseUrl: this.settings.baseUrl,
      subscriptionId: subscription.id,
      ...(definition.topic ? { topic: definition.topic.url } : {}),
      status: state.status,
      type,
      eventsSinceStart: state.eventsSinceStart,
      content: definition.channel.content,
      events,
    });
  }

  private message(
    subscription: NotifiedSubscription,
    type: NotificationType,
    events: NotificationEvent[],
  ): RestHookMessage {
    const { definition } = subscription;
    if (!definition.topic) {
      // R4: no payload is an empty POST; with one, each resource is PUT (one event per message).
      const [event] = events;
      return definition.channel.payload && event ? { resource: event.resource, focus: event.focus } : {};
    }
    return { bundle: this.bundle(subscription, type, events) };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

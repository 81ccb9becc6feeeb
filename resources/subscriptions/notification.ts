// The notification Bundle of the Subscriptions Backport IG on R4: a `history` Bundle whose first entry is a
// Parameters (the subscription status: type, event count, events), followed by the focus resources as the
// payload level allows: none (`empty`), their URLs (`id-only`) or the resources (`full-resource`).
import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { PayloadContent } from './definition';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export interface NotificationEvent {
  /** The event's number in the subscription's sequence (1, 2, ...). */
  number: number;
  /** Epoch ms of the write that triggered it. */
  timestamp: number;
  /** `Type/id` of the triggering resource. */
  focus: string;
  /** The version written; sent only at `full-resource`. */
  resource?: Resource;
  /** True when the triggering write created the resource (the entry's request is a POST, else a PUT). */
  created: boolean;
  /** True when the triggering write deleted it (a DELETE entry, with no resource). */
  deleted?: boolean;
}

export interface NotificationInput {
  baseUrl: string;
  subscriptionId: string;
  topic?: string;
  status: 'requested' | 'active' | 'error' | 'off';
  type: NotificationType;
  /** Events so far (handshakes and heartbeats do not count). */
  eventsSinceStart: number;
  content: PayloadContent;
  events: readonly NotificationEvent[];
  errors?: readonly string[];
}

export function notificationBundle(input: NotificationInput): Bundle {
  const subscriptionUrl = `${input.baseUrl}/Subscription/${input.subscriptionId}`;
  const status = statusResource(input);
  const entries: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: status,
      request: { method: 'GET', url: `${subscriptionUrl}/$status` },
      response: { status: '200' },
    },
  ];
  if (input.content !== 'empty') entries.push(...input.events.map((e) => focusEntry(e, input)));
  return { resourceType: 'Bundle', type: 'history', timestamp: new Date().toISOString(), entry: entries };
}

/** The subscription status Parameters: the first entry of a notification, and what `$status` answers. */
export function statusResource(input: NotificationInput): Parameters {
  return { resourceType: 'Parameters', parameter: statusParameters(input) };
}

function statusParameters(input: NotificationInput): ParametersParameter[] {
  const subscriptionUrl = `${input.baseUrl}/Subscription/${input.subscriptionId}`;
  const parameters: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: subscriptionUrl } },
    // The IG: a topic SHOULD NOT be sent at the `empty` level.
    ...(input.topic && input.content !== 'empty' ? [{ name: 'topic', valueCanonical: input.topic }] : []),
    { name: 'status', valueCode: input.status },
    { name: 'type', valueCode: input.type },
    { name: 'events-since-subscription-start', valueString: String(input.eventsSinceStart) },
  ];
  for (const event of input.events) {
    parameters.push({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(event.number) },
        { name: 'timestamp', valueInstant: new Date(event.timestamp).toISOString() },
        ...(input.content !== 'empty'
          ? [{ name: 'focus', valueReference: { reference: `${input.baseUrl}/${event.focus}` } }]
          : []),
      ],
    });
  }
  for (const error of input.errors ?? []) parameters.push({ name: 'error', valueCodeableConcept: { text: error } });
  return parameters;
}

function focusEntry(event: NotificationEvent, input: NotificationInput): BundleEntry {
  const fullUrl = `${input.baseUrl}/${event.focus}`;
  if (event.deleted) {
    return { fullUrl, request: { method: 'DELETE', url: event.focus }, response: { status: '204' } };
  }
  const request = event.created
    ? { method: 'POST' as const, url: event.focus.split('/')[0] }
    : { method: 'PUT' as const, url: event.focus };
  return {
    fullUrl,
    ...(input.content === 'full-resource' && event.resource ? { resource: event.resource } : {}),
    request,
    response: { status: event.created ? '201' : '200' },
  };
}

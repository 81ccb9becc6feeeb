// Subscription $events (Subscriptions Backport IG): the latest events of a subscription told again, for a
// subscriber that missed notifications (a gap in the event numbers) — a `query-event` notification Bundle of
// the events numbered from `eventsSinceNumber` to `eventsUntilNumber`, at the content level asked for. The
// server keeps the last RECENT_EVENTS per subscription while its delivery runs; each focus resource is read as
// the version that triggered the event, and only when the caller may read it.
import type { Bundle, OperationDefinition, Resource } from '@medplum/fhirtypes';
import { FhirError, badRequest, notFound } from '../../resources/errors';
import { isTopicCriteria, type PayloadContent } from '../../resources/subscriptions/definition';
import { notificationBundle, type NotificationEvent } from '../../resources/subscriptions/notification';
import type { RecordedEvent } from '../../resources/subscriptions/state';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { stringParameters, type FhirOperation } from './operation';

const CONTENTS = new Set<PayloadContent>(['empty', 'id-only', 'full-resource']);

async function eventsHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  if (type !== 'Subscription' || id === undefined) throw notFound('$events is defined on a Subscription instance');
  const since = eventNumber(request, 'eventsSinceNumber');
  const until = eventNumber(request, 'eventsUntilNumber');
  const content = contentLevel(request);
  const { subscription, state, events } = await request.repo.subscriptionEvents(id);
  const chosen = events.filter(
    (e) => (since === undefined || e.number >= since) && (until === undefined || e.number <= until),
  );
  const told = await Promise.all(chosen.map((event) => withResource(request, event, content)));
  const bundle: Bundle = notificationBundle({
    baseUrl: request.baseUrl,
    subscriptionId: id,
    ...(isTopicCriteria(subscription.criteria) ? { topic: subscription.criteria } : {}),
    status: state.status,
    type: 'query-event',
    eventsSinceStart: state.eventsSinceStart,
    content,
    events: told,
  });
  return { status: 200, body: { resource: bundle } };
}

function eventNumber(request: FhirRequest, name: string): number | undefined {
  const [value, ...more] = stringParameters(request, name);
  if (more.length > 0) throw badRequest(`${name} may be given once`, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`${name} must be an event number, not '${value}'`, name);
  return Number(value);
}

function contentLevel(request: FhirRequest): PayloadContent {
  const [value = 'id-only'] = stringParameters(request, 'content');
  if (!CONTENTS.has(value as PayloadContent)) {
    throw badRequest(`content must be empty, id-only or full-resource, not '${value}'`, 'content');
  }
  return value as PayloadContent;
}

/** At full-resource, the version that triggered the event, if the caller may read it (else the event alone). */
async function withResource(
  request: FhirRequest,
  event: RecordedEvent,
  content: PayloadContent,
): Promise<NotificationEvent> {
  if (content !== 'full-resource' || event.deleted) return event;
  const [resourceType, resourceId] = event.focus.split('/');
  try {
    const stored = await request.repo.vread(resourceType, resourceId, event.versionId);
    return stored.json ? { ...event, resource: JSON.parse(stored.json) as Resource } : event;
  } catch (error) {
    if (error instanceof FhirError && error.status < 500) return event;
    throw error;
  }
}

export const subscriptionEventsOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'backport-subscription-events',
    url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
    name: 'SubscriptionEvents',
    status: 'active',
    kind: 'operation',
    code: 'events',
    resource: ['Subscription' as NonNullable<OperationDefinition['resource']>[number]],
    system: false,
    type: false,
    instance: true,
    affectsState: false,
    parameter: [
      { name: 'eventsSinceNumber', use: 'in', min: 0, max: '1', type: 'string' },
      { name: 'eventsUntilNumber', use: 'in', min: 0, max: '1', type: 'string' },
      { name: 'content', use: 'in', min: 0, max: '1', type: 'code' },
      { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
    ],
  },
  handler: eventsHandler,
};

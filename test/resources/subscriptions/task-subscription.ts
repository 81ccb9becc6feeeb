// A topic subscription to the Task topic (a work queue) over rest-hook, id-only: what the durable-delivery
// tests subscribe with.
import type { Subscription } from '@medplum/fhirtypes';
import { BACKPORT } from '../../../resources/subscriptions/definition';
import { TOPIC_BASE } from '../../../resources/subscriptions/topics';

export function taskTopicSubscription(endpoint: string): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'work queue',
    criteria: `${TOPIC_BASE}/task`,
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
    } as Subscription['channel'],
  };
}

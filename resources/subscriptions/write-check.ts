// What the server does with a Subscription a client writes, before it is validated and stored: the criteria,
// channel and endpoint must be ones the server can honour (400 otherwise), the subscriber must be allowed to
// read what it subscribes to, only the server moves the status to active or error, and the subscription is
// stamped with the writer's access (subscriber.ts).
import type { Subscription } from '@medplum/fhirtypes';
import { isUnrestricted, type AccessContext } from '../access';
import { requirePermission } from '../access-policy';
import { badRequest } from '../errors';
import { parseSearchParams } from '../search/parse';
import type { SearchParameterRegistry } from '../search/registry';
import { readSubscription, type EndpointPolicy } from './definition';
import { stampSubscriber } from './subscriber';

export interface SubscriptionWriteContext {
  access: AccessContext;
  registry: SearchParameterRegistry;
  allowEndpoint: EndpointPolicy;
  baseUrl?: string;
}

/** Checks the Subscription and brings it into its stored form, in place (the write then stores it as is). */
export function prepareSubscriptionWrite(subscription: Subscription, context: SubscriptionWriteContext): void {
  const { access } = context;
  // The server's own writes (status changes of the engine) keep what they carry.
  if (isUnrestricted(access) && access.actor === 'system') return;
  if (subscription.status === 'error') {
    throw badRequest("Only the server sets a Subscription's status to error", 'Subscription.status');
  }
  if (subscription.status === 'active') subscription.status = 'requested';
  if (subscription.status === 'requested') {
    const definition = readSubscription(subscription, context.allowEndpoint);
    parseSearchParams(context.registry, [definition.resourceType], definition.criteria, {
      strict: true,
      baseUrl: context.baseUrl,
    });
    requirePermission(access, definition.resourceType, 'r');
    delete subscription.error;
  }
  Object.assign(subscription, stampSubscriber(subscription, access));
}

// Subscription $status (Subscriptions Backport IG): the status of one subscription (instance level) or of
// several (type level, `id` and `status` lists), as a searchset Bundle of status Parameters — its status, the
// events counted since it started, the last delivery error. Only subscriptions the caller may read are told of.
import type { Bundle, OperationDefinition } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../../resources/errors';
import { statusResource } from '../../resources/subscriptions/notification';
import { isTopicCriteria } from '../../resources/subscriptions/definition';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { stringParameters, type FhirOperation } from './operation';

const STATUSES = new Set(['requested', 'active', 'error', 'off']);

async function statusHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  if (type !== 'Subscription') throw notFound(`$status is defined on Subscription, not on ${type}`);
  const ids = id !== undefined ? [id] : await subscriptionIds(request);
  const wanted = listed(request, 'status');
  for (const status of wanted) {
    if (!STATUSES.has(status)) throw badRequest(`Unknown subscription status '${status}'`, 'status');
  }
  const entries = [];
  for (const subscriptionId of ids) {
    const { subscription, state } = await request.repo.subscriptionStatus(subscriptionId);
    if (wanted.length > 0 && !wanted.includes(state.status)) continue;
    const resource = statusResource({
      baseUrl: request.baseUrl,
      subscriptionId,
      ...(isTopicCriteria(subscription.criteria) ? { topic: subscription.criteria } : {}),
      status: state.status,
      type: 'query-status',
      eventsSinceStart: state.eventsSinceStart,
      content: 'id-only',
      events: [],
      errors: state.errors,
    });
    entries.push({ resource, search: { mode: 'match' as const } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries };
  return { status: 200, body: { resource: bundle } };
}

/** Type level: the ids asked for, or every Subscription the caller may search. */
async function subscriptionIds(request: FhirRequest): Promise<string[]> {
  const asked = listed(request, 'id');
  if (asked.length > 0) return asked;
  const { page } = await request.repo.search(['Subscription'], [['_count', '1000']]);
  return page.entries.map((e) => e.id);
}

/** A parameter's values, repeated or comma-separated. */
function listed(request: FhirRequest, name: string): string[] {
  return stringParameters(request, name).flatMap((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

export const subscriptionStatusOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'backport-subscription-status',
    url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
    name: 'SubscriptionStatus',
    status: 'active',
    kind: 'operation',
    code: 'status',
    resource: ['Subscription' as NonNullable<OperationDefinition['resource']>[number]],
    system: false,
    type: true,
    instance: true,
    affectsState: false,
    parameter: [
      { name: 'id', use: 'in', min: 0, max: '*', type: 'id' },
      { name: 'status', use: 'in', min: 0, max: '*', type: 'code' },
      { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
    ],
  },
  handler: statusHandler,
};

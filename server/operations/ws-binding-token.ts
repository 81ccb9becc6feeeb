// Subscription $get-ws-binding-token (Subscriptions Backport IG): a short-lived token that binds a websocket to
// the caller's websocket-channel subscriptions (this one at instance level, those named by `id` or all of them
// at type level), and the URL to connect to. Browsers cannot send Authorization on a WebSocket; they send the
// token in a `bind-with-token` message instead.
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { notFound } from '../../resources/errors';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { stringParameters, type FhirOperation } from './operation';

export const SUBSCRIPTION_SOCKET_PATH = '/ws/subscriptions-r4';

/** ws(s)://host[:port]/ws/subscriptions-r4 for the server whose FHIR base URL is `baseUrl`. */
export function websocketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${SUBSCRIPTION_SOCKET_PATH}`;
}

async function bindingTokenHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  if (type !== 'Subscription') throw notFound(`$get-ws-binding-token is defined on Subscription, not on ${type}`);
  const asked = id !== undefined ? [id] : stringParameters(request, 'id').flatMap((v) => v.split(','));
  const { token, expires, ids } = await request.repo.subscriptionBindingToken(asked.filter(Boolean));
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'token', valueString: token },
      { name: 'expiration', valueDateTime: new Date(expires).toISOString() },
      ...ids.map((subscription) => ({ name: 'subscription', valueString: subscription })),
      { name: 'websocket-url', valueUrl: websocketUrl(request.baseUrl) },
    ],
  };
  return { status: 200, body: { resource: parameters } };
}

export const wsBindingTokenOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'backport-subscription-get-ws-binding-token',
    url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token',
    name: 'GetWsBindingToken',
    status: 'active',
    kind: 'operation',
    code: 'get-ws-binding-token',
    resource: ['Subscription' as NonNullable<OperationDefinition['resource']>[number]],
    system: false,
    type: true,
    instance: true,
    affectsState: false,
    parameter: [
      { name: 'id', use: 'in', min: 0, max: '*', type: 'id' },
      { name: 'token', use: 'out', min: 1, max: '1', type: 'string' },
      { name: 'expiration', use: 'out', min: 1, max: '1', type: 'dateTime' },
      { name: 'subscription', use: 'out', min: 0, max: '*', type: 'string' },
      { name: 'websocket-url', use: 'out', min: 1, max: '1', type: 'url' },
    ],
  },
  handler: bindingTokenHandler,
};

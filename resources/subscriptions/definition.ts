// Reads a Subscription resource into what the server acts on: the resource type and search criteria that
// select triggering writes, the channel and the payload level. Both kinds are read: R4 criteria-based
// (`criteria` is a search) and the Backport IG's topic-based (`criteria` is a topic canonical, filters and the
// payload level are extensions on primitives). Anything the server cannot honour is a 400 naming the element.
import type { Extension, Subscription } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { SearchParamPairs } from '../search/parse';
import { subscriptionTopic, type SubscriptionTopicDefinition, type TopicInteraction } from './topics';

export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const FILTER_CRITERIA = `${BACKPORT}/backport-filter-criteria`;
const PAYLOAD_CONTENT = `${BACKPORT}/backport-payload-content`;
const HEARTBEAT_PERIOD = `${BACKPORT}/backport-heartbeat-period`;
const TIMEOUT = `${BACKPORT}/backport-timeout`;
const MAX_COUNT = `${BACKPORT}/backport-max-count`;

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export type ChannelType = 'rest-hook' | 'websocket';

export interface SubscriptionChannel {
  type: ChannelType;
  /** rest-hook only. */
  endpoint?: string;
  /** `Name: value` lines sent with each rest-hook request. */
  headers: string[];
  /** The MIME type of notifications (absent: R4 criteria-based without payload). */
  payload?: string;
  content: PayloadContent;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  maxCount?: number;
}

export interface SubscriptionDefinition {
  /** R4 criteria-based, or the canonical of the topic. */
  topic?: SubscriptionTopicDefinition;
  resourceType: string;
  /** All must hold (the topic's own criteria and the subscriber's filters, or the R4 criteria). */
  criteria: SearchParamPairs;
  interactions: readonly TopicInteraction[];
  channel: SubscriptionChannel;
  /** Epoch ms of `end`, after which nothing is sent. */
  end?: number;
}

const FHIR_JSON = /^application\/(fhir\+)?json(\s*;.*)?$/;

/** Hosts a rest-hook may name: a host is allowed when this says so (see subscriptions/endpoints.ts). */
export type EndpointPolicy = (url: URL) => boolean;

/** Whether a Subscription's criteria name a topic (a URL, Backport IG) rather than a search. */
export function isTopicCriteria(criteria: string | undefined): criteria is string {
  return /^https?:\/\//.test(criteria ?? '');
}

export function readSubscription(subscription: Subscription, allowEndpoint: EndpointPolicy): SubscriptionDefinition {
  const criteria = subscription.criteria;
  if (typeof criteria !== 'string' || criteria.trim() === '') {
    throw badRequest(
      'Subscription.criteria is required: a search (Type?params) or a topic URL',
      'Subscription.criteria',
    );
  }
  const topic = isTopicCriteria(criteria) ? subscriptionTopic(criteria) : undefined;
  if (isTopicCriteria(criteria) && !topic) {
    throw badRequest(`Unknown subscription topic ${criteria}: see the CapabilityStatement`, 'Subscription.criteria');
  }
  const channel = readChannel(subscription, topic !== undefined, allowEndpoint);
  const end = subscription.end ? Date.parse(subscription.end) : undefined;
  if (topic) {
    const filters = extensionValues(primitiveExtensions(subscription, '_criteria'), FILTER_CRITERIA).flatMap((f) =>
      readFilter(f, topic),
    );
    return {
      topic,
      resourceType: topic.resourceType,
      criteria: [...topic.criteria, ...filters],
      interactions: topic.interactions,
      channel,
      end,
    };
  }
  const [resourceType, query] = splitCriteria(criteria);
  return { resourceType, criteria: query, interactions: ['create', 'update'], channel, end };
}

/** `Type?a=1&b=2` into the type and its parameters; `[base]/` or a leading `/` is refused, as R4 says. */
function splitCriteria(criteria: string): [string, SearchParamPairs] {
  const match = /^([A-Z][A-Za-z]+)(?:\?(.*))?$/.exec(criteria.trim());
  if (!match) {
    throw badRequest(
      `Subscription.criteria '${criteria}' is not a search: expected Type?parameters`,
      'Subscription.criteria',
    );
  }
  return [match[1], [...new URLSearchParams(match[2] ?? '')] as SearchParamPairs];
}

/** A backport filter: `param=value`, `param:modifier=value` or `Type?param=value` (1.1.0 examples). */
function readFilter(filter: string, topic: SubscriptionTopicDefinition): SearchParamPairs {
  const typed = /^([A-Z][A-Za-z]+)\?(.*)$/.exec(filter);
  if (typed && typed[1] !== topic.resourceType) {
    throw badRequest(
      `Filter '${filter}' is not about ${topic.resourceType}, the topic's resource`,
      'Subscription.criteria',
    );
  }
  const pairs = [...new URLSearchParams(typed ? typed[2] : filter)] as SearchParamPairs;
  for (const [name] of pairs) {
    const param = name.split(':')[0].split('.')[0];
    if (!topic.filters.includes(param)) {
      throw badRequest(
        `Topic ${topic.url} cannot be filtered by '${param}': it offers ${topic.filters.join(', ')}`,
        'Subscription.criteria',
      );
    }
  }
  return pairs;
}

function readChannel(
  subscription: Subscription,
  backport: boolean,
  allowEndpoint: EndpointPolicy,
): SubscriptionChannel {
  const channel = subscription.channel;
  const type = channel?.type as string | undefined;
  if (type !== 'rest-hook' && type !== 'websocket') {
    throw badRequest(
      `Subscription channel type '${type ?? ''}' is not supported: rest-hook or websocket`,
      'Subscription.channel.type',
    );
  }
  const payload = channel.payload;
  if (payload !== undefined && !FHIR_JSON.test(payload)) {
    throw badRequest(
      `Subscription payload '${payload}' is not supported: application/fhir+json`,
      'Subscription.channel.payload',
    );
  }
  const extensions = channel.extension;
  const declared = extensionValues(primitiveExtensions(channel, '_payload'), PAYLOAD_CONTENT)[0];
  if (backport && (payload === undefined || declared === undefined)) {
    throw badRequest(
      'A topic subscription needs channel.payload and its backport-payload-content extension',
      'Subscription.channel.payload',
    );
  }
  const content = (declared ?? (payload ? 'full-resource' : 'empty')) as PayloadContent;
  if (!['empty', 'id-only', 'full-resource'].includes(content)) {
    throw badRequest(
      `Payload content '${content}' is not supported: empty, id-only or full-resource`,
      'Subscription.channel.payload',
    );
  }
  return {
    type,
    ...(type === 'rest-hook' ? { endpoint: readEndpoint(channel.endpoint, allowEndpoint) } : {}),
    headers: readHeaders(channel.header),
    ...(payload ? { payload } : {}),
    content,
    ...optionalNumber('heartbeatSeconds', extensions, HEARTBEAT_PERIOD),
    ...optionalNumber('timeoutSeconds', extensions, TIMEOUT),
    ...optionalNumber('maxCount', extensions, MAX_COUNT),
  };
}

function readEndpoint(endpoint: string | undefined, allowEndpoint: EndpointPolicy): string {
  let url: URL;
  try {
    url = new URL(endpoint ?? '');
  } catch {
    throw badRequest(
      'A rest-hook subscription needs channel.endpoint, an http(s) URL',
      'Subscription.channel.endpoint',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badRequest('channel.endpoint must be an http(s) URL', 'Subscription.channel.endpoint');
  }
  if (url.username || url.password) {
    throw badRequest(
      'channel.endpoint must not carry credentials: use channel.header',
      'Subscription.channel.endpoint',
    );
  }
  if (!allowEndpoint(url)) {
    throw badRequest(
      `Notifications may not be sent to ${url.hostname}: the server's SUBSCRIPTION_ENDPOINT_HOSTS does not list it`,
      'Subscription.channel.endpoint',
    );
  }
  return url.toString();
}

function readHeaders(headers: string[] | undefined): string[] {
  for (const header of headers ?? []) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/.test(header)) {
      throw badRequest(
        `channel.header '${header.slice(0, 40)}' is not a 'Name: value' line`,
        'Subscription.channel.header',
      );
    }
  }
  return headers ?? [];
}

function extensionValues(extensions: Extension[] | undefined, url: string): string[] {
  return (extensions ?? [])
    .filter((e) => e.url === url)
    .map((e) => e.valueString ?? e.valueCode)
    .filter((v): v is string => typeof v === 'string');
}

function optionalNumber(name: string, extensions: Extension[] | undefined, url: string): Record<string, number> {
  const extension = extensions?.find((e) => e.url === url);
  const value = extension?.valueUnsignedInt ?? extension?.valuePositiveInt;
  return typeof value === 'number' ? { [name]: value } : {};
}

/** The extensions FHIR JSON carries for a primitive in `_name` (not in @medplum/fhirtypes' types). */
function primitiveExtensions(holder: object, key: string): Extension[] | undefined {
  return (holder as Record<string, { extension?: Extension[] } | undefined>)[key]?.extension;
}

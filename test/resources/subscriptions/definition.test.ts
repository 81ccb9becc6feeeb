// Reading Subscriptions: R4 criteria-based and Backport topic-based, the channel rules, the endpoint policy, and
// the topic table against the search-parameter registry.
import type { Subscription } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../../resources/definitions';
import { FhirError } from '../../../resources/errors';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { BACKPORT, readSubscription, type EndpointPolicy } from '../../../resources/subscriptions/definition';
import { endpointPolicy, isLoopbackHost } from '../../../resources/subscriptions/endpoints';
import { SUBSCRIPTION_TOPICS, TOPIC_BASE } from '../../../resources/subscriptions/topics';

const allowAll = () => true;

function subscription(overrides: Record<string, unknown> = {}, channel: Record<string, unknown> = {}): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'test',
    criteria: 'Observation?code=http://loinc.org|1234-5&subject=Patient/p1',
    channel: { type: 'rest-hook', endpoint: 'https://hooks.example.org/fhir', ...channel },
    ...overrides,
  } as Subscription;
}

function refusal(resource: Subscription, policy: EndpointPolicy = allowAll): { message: string; expression?: string } {
  try {
    readSubscription(resource, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(FhirError);
    const issue = (error as FhirError).outcome.issue?.[0];
    expect((error as FhirError).status).toBe(400);
    return { message: issue?.diagnostics ?? '', expression: issue?.expression?.[0] };
  }
  throw new Error('the subscription was accepted');
}

const topicSubscription = (topic: string, filters: string[], content = 'id-only', payload = 'application/fhir+json') =>
  subscription(
    {
      criteria: topic,
      _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}/backport-filter-criteria`, valueString: f })) },
    },
    {
      payload,
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: content }] },
      extension: [
        { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 60 },
        { url: `${BACKPORT}/backport-timeout`, valueUnsignedInt: 10 },
        { url: `${BACKPORT}/backport-max-count`, valuePositiveInt: 5 },
      ],
    },
  );

describe('R4 criteria-based', () => {
  test('criteria, channel and payload are read; no payload means empty notifications', () => {
    const read = readSubscription(
      subscription({ end: '2030-01-01T00:00:00Z' }, { header: ['Authorization: Bearer x'] }),
      allowAll,
    );
    expect(read).toMatchObject({
      resourceType: 'Observation',
      criteria: [
        ['code', 'http://loinc.org|1234-5'],
        ['subject', 'Patient/p1'],
      ],
      interactions: ['create', 'update'],
      channel: {
        type: 'rest-hook',
        endpoint: 'https://hooks.example.org/fhir',
        content: 'empty',
        headers: ['Authorization: Bearer x'],
      },
      end: Date.parse('2030-01-01T00:00:00Z'),
    });
    expect(
      readSubscription(subscription({ criteria: 'Encounter' }, { payload: 'application/fhir+json' }), allowAll),
    ).toMatchObject({
      resourceType: 'Encounter',
      criteria: [],
      channel: { content: 'full-resource', payload: 'application/fhir+json' },
    });
  });

  test.each([
    [{ criteria: '' }, {}, /criteria is required/, 'Subscription.criteria'],
    [{ criteria: '/Observation?code=1' }, {}, /not a search/, 'Subscription.criteria'],
    [{ criteria: 'https://other.example/topic' }, {}, /Unknown subscription topic/, 'Subscription.criteria'],
    [{}, { type: 'email' }, /channel type 'email' is not supported/, 'Subscription.channel.type'],
    [
      {},
      { payload: 'application/fhir+xml' },
      /payload 'application\/fhir\+xml' is not supported/,
      'Subscription.channel.payload',
    ],
    [{}, { endpoint: undefined }, /needs channel.endpoint/, 'Subscription.channel.endpoint'],
    [{}, { endpoint: 'ftp://hooks.example.org/x' }, /http\(s\) URL/, 'Subscription.channel.endpoint'],
    [
      {},
      { endpoint: 'https://u:p@hooks.example.org/x' },
      /must not carry credentials/,
      'Subscription.channel.endpoint',
    ],
    [{}, { header: ['no colon here'] }, /not a 'Name: value' line/, 'Subscription.channel.header'],
  ])('refused: %j %j', (overrides, channel, message, expression) => {
    const { message: got, expression: at } = refusal(subscription(overrides, channel));
    expect(got).toMatch(message);
    expect(at).toBe(expression);
  });

  test('a websocket channel needs no endpoint', () => {
    expect(readSubscription(subscription({}, { type: 'websocket', endpoint: undefined }), allowAll).channel).toEqual({
      type: 'websocket',
      headers: [],
      content: 'empty',
    });
  });
});

describe('Backport topic-based', () => {
  const encounter = `${TOPIC_BASE}/encounter`;

  test('the topic, its filters (plain and typed) and the channel extensions are read', () => {
    const read = readSubscription(
      topicSubscription(encounter, ['patient=Patient/p1', 'Encounter?status=in-progress']),
      allowAll,
    );
    expect(read.topic?.url).toBe(encounter);
    expect(read).toMatchObject({
      resourceType: 'Encounter',
      criteria: [
        ['patient', 'Patient/p1'],
        ['status', 'in-progress'],
      ],
      channel: { content: 'id-only', heartbeatSeconds: 60, timeoutSeconds: 10, maxCount: 5 },
    });
    const final = readSubscription(topicSubscription(`${TOPIC_BASE}/result-final`, []), allowAll);
    expect(final.criteria).toEqual([['status', 'final,amended,corrected']]);
  });

  test.each([
    [['gender=female'], /cannot be filtered by 'gender'/],
    [['Observation?patient=Patient/p1'], /not about Encounter/],
  ])('filter refused: %j', (filters, message) => {
    expect(refusal(topicSubscription(encounter, filters)).message).toMatch(message);
  });

  test('the payload level is required and must be known', () => {
    const withoutLevel = topicSubscription(encounter, []);
    delete (withoutLevel.channel as unknown as Record<string, unknown>)._payload;
    expect(refusal(withoutLevel).message).toMatch(/backport-payload-content/);
    expect(refusal(topicSubscription(encounter, [], 'everything')).message).toMatch(/'everything' is not supported/);
  });

  test('every filter a topic offers is a search parameter of its resource type', () => {
    loadFhirDefinitions();
    const registry = SearchParameterRegistry.withBaseParameters();
    for (const topic of SUBSCRIPTION_TOPICS) {
      for (const filter of topic.filters)
        expect([topic.url, registry.get(topic.resourceType, filter)?.code]).toEqual([topic.url, filter]);
    }
  });
});

describe('endpoint policy', () => {
  test('listed hosts and subdomains only; loopback while the server listens on loopback', () => {
    const policy = endpointPolicy(['hooks.example.org', '*.lab.example'], false);
    const allowed = (url: string) => policy(new URL(url));
    expect(allowed('https://hooks.example.org/x')).toBe(true);
    expect(allowed('https://HOOKS.example.org/x')).toBe(true);
    expect(allowed('https://a.lab.example/x')).toBe(true);
    expect(allowed('https://lab.example.evil.org/x')).toBe(false);
    expect(allowed('http://127.0.0.1:8080/x')).toBe(false);
    expect(allowed('http://10.0.0.5/x')).toBe(false);
    const local = endpointPolicy([], true);
    expect(['http://127.0.0.1:9/x', 'http://localhost/x', 'http://[::1]/x'].map((u) => local(new URL(u)))).toEqual([
      true,
      true,
      true,
    ]);
    expect(local(new URL('http://192.168.1.1/x'))).toBe(false);
    expect(refusal(subscription(), endpointPolicy(['other.example'], false)).message).toMatch(
      /^Notifications may not be sent to hooks\.example\.org: .*SUBSCRIPTION_ENDPOINT_HOSTS/,
    );
  });

  test('loopback listen addresses', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.1.2.3', '::'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});

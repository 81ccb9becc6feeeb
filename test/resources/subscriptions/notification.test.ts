// Backport notification Bundles: the shape the IG requires (platform.md §0 and §1.2) at each payload level.
import type { BundleEntry, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { notificationBundle, type NotificationInput } from '../../../resources/subscriptions/notification';

const BASE = 'https://hms.example/fhir';
const input = (overrides: Partial<NotificationInput> = {}): NotificationInput => ({
  baseUrl: BASE,
  subscriptionId: 'adm',
  topic: 'http://hms.local/fhir/SubscriptionTopic/encounter',
  status: 'active',
  type: 'event-notification',
  eventsSinceStart: 2,
  content: 'id-only',
  events: [
    { number: 1, timestamp: Date.parse('2026-01-01T10:00:00Z'), focus: 'Encounter/e1', created: true },
    {
      number: 2,
      timestamp: Date.parse('2026-01-01T10:05:00Z'),
      focus: 'Encounter/e2',
      created: false,
      resource: { resourceType: 'Encounter', id: 'e2', status: 'in-progress', class: { code: 'AMB' } },
    },
  ],
  ...overrides,
});

const statusOf = (entries: BundleEntry[]) => entries[0].resource as Parameters;
const param = (p: Parameters, name: string) => p.parameter?.filter((x) => x.name === name) ?? [];
const part = (p: ParametersParameter, name: string) => p.part?.find((x) => x.name === name);

test('a history Bundle whose first entry is the status Parameters, with strings for the counts', () => {
  const bundle = notificationBundle(input());
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
  const [first] = bundle.entry ?? [];
  expect(first.request).toEqual({ method: 'GET', url: `${BASE}/Subscription/adm/$status` });
  expect(first.response).toEqual({ status: '200' });
  expect(first.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  const status = statusOf(bundle.entry ?? []);
  expect(param(status, 'subscription')[0].valueReference).toEqual({ reference: `${BASE}/Subscription/adm` });
  expect(param(status, 'topic')[0].valueCanonical).toBe('http://hms.local/fhir/SubscriptionTopic/encounter');
  expect(param(status, 'events-since-subscription-start')[0].valueString).toBe('2');
  const events = param(status, 'notification-event');
  expect(events.map((e) => part(e, 'event-number')?.valueString)).toEqual(['1', '2']);
  expect(part(events[1], 'focus')?.valueReference).toEqual({ reference: `${BASE}/Encounter/e2` });
  expect(part(events[0], 'timestamp')?.valueInstant).toBe('2026-01-01T10:00:00.000Z');
});

test('id-only: entries carry fullUrl and request, no resource; every entry has a request', () => {
  const entries = notificationBundle(input()).entry ?? [];
  expect(entries.slice(1)).toEqual([
    { fullUrl: `${BASE}/Encounter/e1`, request: { method: 'POST', url: 'Encounter' }, response: { status: '201' } },
    { fullUrl: `${BASE}/Encounter/e2`, request: { method: 'PUT', url: 'Encounter/e2' }, response: { status: '200' } },
  ]);
  expect(entries.every((e) => e.request)).toBe(true);
});

test('full-resource carries the resources; empty carries no focus, no topic and no other entries', () => {
  const full = notificationBundle(input({ content: 'full-resource' })).entry ?? [];
  expect(full[2].resource).toMatchObject({ resourceType: 'Encounter', id: 'e2' });
  const empty = notificationBundle(input({ content: 'empty' }));
  expect(empty.entry).toHaveLength(1);
  const status = statusOf(empty.entry ?? []);
  expect(param(status, 'topic')).toEqual([]);
  expect(param(status, 'notification-event').every((e) => !part(e, 'focus'))).toBe(true);
});

test('handshakes and heartbeats carry no events; errors are listed', () => {
  const handshake = notificationBundle(
    input({ type: 'handshake', events: [], eventsSinceStart: 0, errors: ['timed out'] }),
  );
  const status = statusOf(handshake.entry ?? []);
  expect(param(status, 'type')[0].valueCode).toBe('handshake');
  expect(param(status, 'notification-event')).toEqual([]);
  expect(param(status, 'error')[0].valueCodeableConcept).toEqual({ text: 'timed out' });
  expect(handshake.entry).toHaveLength(1);
});

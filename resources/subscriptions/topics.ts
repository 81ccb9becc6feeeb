// The subscription topics this server offers (Subscriptions Backport IG on R4: topics are the server's own
// canonical URLs, never defined by clients). Each names the resource type it watches, the interactions that
// trigger it, what the resource must also be (search criteria), and the filters a subscriber may add.
import type { SearchParamPairs } from '../search/parse';

export type TopicInteraction = 'create' | 'update' | 'delete';

export interface SubscriptionTopicDefinition {
  url: string;
  title: string;
  resourceType: string;
  interactions: readonly TopicInteraction[];
  /** What a triggering resource must match, beyond the subscriber's filters. */
  criteria: SearchParamPairs;
  /** The search parameters a subscriber's filter criteria may use. */
  filters: readonly string[];
}

export const TOPIC_BASE = 'http://hms.local/fhir/SubscriptionTopic';

// A deletion matters to worklists too: the item must leave them. It is matched as the version it deleted.
const all: TopicInteraction[] = ['create', 'update', 'delete'];

export const SUBSCRIPTION_TOPICS: readonly SubscriptionTopicDefinition[] = [
  {
    url: `${TOPIC_BASE}/encounter`,
    title: 'Encounter created or changed (admissions, arrivals, discharges)',
    resourceType: 'Encounter',
    interactions: all,
    criteria: [],
    filters: ['patient', 'subject', 'status', 'class', 'location', 'participant', 'practitioner', 'service-provider'],
  },
  {
    url: `${TOPIC_BASE}/appointment`,
    title: 'Appointment booked or changed',
    resourceType: 'Appointment',
    interactions: all,
    criteria: [],
    filters: ['patient', 'actor', 'practitioner', 'location', 'status', 'service-type', 'date'],
  },
  {
    url: `${TOPIC_BASE}/service-request`,
    title: 'Order (lab, imaging, referral) placed or changed',
    resourceType: 'ServiceRequest',
    interactions: all,
    criteria: [],
    filters: ['patient', 'subject', 'status', 'category', 'code', 'performer', 'requester', 'priority'],
  },
  {
    url: `${TOPIC_BASE}/result-final`,
    title: 'Diagnostic report final or amended',
    resourceType: 'DiagnosticReport',
    interactions: all,
    criteria: [['status', 'final,amended,corrected']],
    filters: ['patient', 'subject', 'category', 'code', 'performer', 'based-on'],
  },
  {
    url: `${TOPIC_BASE}/medication-request`,
    title: 'Medication order placed or changed',
    resourceType: 'MedicationRequest',
    interactions: all,
    criteria: [],
    filters: ['patient', 'subject', 'status', 'intent', 'requester', 'priority'],
  },
  {
    url: `${TOPIC_BASE}/task`,
    title: 'Task created or changed (work queues)',
    resourceType: 'Task',
    interactions: all,
    criteria: [],
    filters: ['patient', 'subject', 'owner', 'status', 'code', 'business-status', 'performer'],
  },
];

const BY_URL = new Map(SUBSCRIPTION_TOPICS.map((topic) => [topic.url, topic]));

export function subscriptionTopic(url: string): SubscriptionTopicDefinition | undefined {
  return BY_URL.get(url);
}

// Whose grants a subscription's notifications follow: the server stamps every Subscription it stores with the
// access of the caller who wrote it (an extension clients cannot set), and judges each notification by it, so a
// subscription never tells its subscriber about a resource the subscriber could not read.
import type { Extension, Subscription } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS, type AccessContext, type ResourceGrant } from '../access';

export const SUBSCRIBER_EXTENSION = 'http://hms.local/fhir/StructureDefinition/subscriber-access';

interface StoredGrant {
  level: ResourceGrant['level'];
  resourceType: string;
  permissions: string;
  query?: [string, string][];
}

interface StoredAccess {
  actor: string;
  clientId?: string;
  userId?: string;
  patient?: string;
  /** Absent: full access (system work). */
  grants?: StoredGrant[];
}

/** The Subscription as it is stored: any stamp the client sent is replaced by the writer's own access. */
export function stampSubscriber(subscription: Subscription, access: AccessContext): Subscription {
  const stored: StoredAccess = {
    actor: access.actor,
    ...(access.clientId ? { clientId: access.clientId } : {}),
    ...(access.userId ? { userId: access.userId } : {}),
    ...(access.patient ? { patient: access.patient } : {}),
    ...(access.grants
      ? {
          grants: access.grants.map((g) => ({
            level: g.level,
            resourceType: g.resourceType,
            permissions: [...g.permissions].join(''),
            ...(g.query ? { query: g.query } : {}),
          })),
        }
      : {}),
  };
  const others = (subscription.extension ?? []).filter((e) => e.url !== SUBSCRIBER_EXTENSION);
  const stamp: Extension = { url: SUBSCRIBER_EXTENSION, valueString: JSON.stringify(stored) };
  return { ...subscription, extension: [...others, stamp] };
}

/**
 * The access a stored Subscription's notifications follow. Every write by a client is stamped, so one without a
 * stamp was written by the server itself (or the admin command line) and has full access.
 */
export function subscriberAccess(subscription: Subscription): AccessContext {
  const stamp = subscription.extension?.find((e) => e.url === SUBSCRIBER_EXTENSION)?.valueString;
  if (!stamp) return SYSTEM_ACCESS;
  const stored = JSON.parse(stamp) as StoredAccess;
  return {
    actor: stored.actor,
    ...(stored.clientId ? { clientId: stored.clientId } : {}),
    ...(stored.userId ? { userId: stored.userId } : {}),
    ...(stored.patient ? { patient: stored.patient } : {}),
    ...(stored.grants
      ? {
          grants: stored.grants.map((g) => ({
            level: g.level,
            resourceType: g.resourceType,
            permissions: new Set([...g.permissions]) as ResourceGrant['permissions'],
            ...(g.query ? { query: g.query } : {}),
          })),
        }
      : {}),
  };
}

// A subscription the engine runs: its definition, grants, state, what it has queued and delivered; and what the
// delivery job keeps of all of them (its checkpoint) and shows on its Task (progress).
import type { TaskOutput } from '@medplum/fhirtypes';
import type { AccessGuard } from '../access-guard';
import type { DeliveryCheckpoint } from './checkpoint';
import type { NotifiedSubscription } from './delivery';
import type { NotificationEvent } from './notification';
import type { RecordedEvent } from './state';

export type QueuedEvent = NotificationEvent & { position?: string };

export interface Active extends NotifiedSubscription {
  guard: AccessGuard;
  failures: number;
  /** Events delivered (or given up on): the first queued one is number delivered + 1. */
  delivered: number;
  queue: QueuedEvent[];
  /** Log position before the first queued event (what the checkpoint keeps while some are undelivered). */
  resumeAfter?: string;
  /** lastUpdated of the version the engine first saw: a replay gives it no event of earlier writes. */
  loadedAt: number;
  recent: RecordedEvent[];
  sending?: Promise<void>;
  heartbeat?: NodeJS.Timeout;
}

/** Each subscription's count and failures as the checkpoint has them; nothing is queued yet. */
export function restoreActive(active: Active, checkpoint: DeliveryCheckpoint): void {
  const progress = checkpoint.subscriptions[active.id];
  active.queue = [];
  active.delivered = progress?.delivered ?? 0;
  active.failures = progress?.failures ?? 0;
  active.resumeAfter = progress?.resumeAfter;
  active.state.eventsSinceStart = active.delivered;
}

export function checkpointOf(actives: Iterable<Active>, position: string | undefined): DeliveryCheckpoint {
  const subscriptions: DeliveryCheckpoint['subscriptions'] = {};
  for (const active of actives) {
    subscriptions[active.id] = {
      delivered: active.delivered,
      failures: active.failures,
      ...(active.resumeAfter !== undefined ? { resumeAfter: active.resumeAfter } : {}),
    };
  }
  return { ...(position !== undefined ? { position } : {}), subscriptions };
}

export function progressOf(actives: ReadonlyMap<string, Active>): TaskOutput[] {
  let delivered = 0;
  for (const active of actives.values()) delivered += active.delivered;
  return [
    { type: { text: 'active subscriptions' }, valueInteger: actives.size },
    { type: { text: 'events delivered' }, valueInteger: delivered },
  ];
}

/** A notification is done with (delivered, or failed for good): its events leave the queue. */
export function markSent(active: Active, events: QueuedEvent[]): void {
  active.queue.splice(0, events.length);
  active.delivered += events.length;
  active.resumeAfter =
    active.queue.length === 0 ? undefined : (events[events.length - 1].position ?? active.resumeAfter);
}

// What the subscription delivery job keeps on its Task, so that a restart (or another node taking the job over)
// loses no event and numbers each one as before: how far the write log was matched, and per subscription how
// many events were delivered and, while some are not, the log position just before its first undelivered one.
// Replaying the log from there regenerates the undelivered events with the same numbers.

export interface SubscriptionProgress {
  /** Events delivered (or given up on) so far: the next event is number delivered + 1. */
  delivered: number;
  /** Failed notifications in a row. */
  failures: number;
  /** Log position before the first undelivered event; absent when every event is delivered. */
  resumeAfter?: string;
}

export interface DeliveryCheckpoint {
  /** Log position of the last write matched; absent before the first. */
  position?: string;
  subscriptions: Record<string, SubscriptionProgress>;
}

export const EMPTY_CHECKPOINT: DeliveryCheckpoint = { subscriptions: {} };

/** The checkpoint as the job Task holds it; anything else (a first start, an edited Task) starts afresh. */
export function readCheckpoint(saved: unknown): DeliveryCheckpoint {
  if (!isRecord(saved) || !isRecord(saved.subscriptions)) return EMPTY_CHECKPOINT;
  const subscriptions: Record<string, SubscriptionProgress> = {};
  for (const [id, value] of Object.entries(saved.subscriptions)) {
    if (!isRecord(value) || !isCount(value.delivered) || !isCount(value.failures)) continue;
    subscriptions[id] = {
      delivered: value.delivered,
      failures: value.failures,
      ...(typeof value.resumeAfter === 'string' ? { resumeAfter: value.resumeAfter } : {}),
    };
  }
  return { ...(typeof saved.position === 'string' ? { position: saved.position } : {}), subscriptions };
}

/** Where a replay must start: the earliest position some subscription still needs. */
export function replayStart(checkpoint: DeliveryCheckpoint): string | undefined {
  let start = checkpoint.position;
  for (const { resumeAfter } of Object.values(checkpoint.subscriptions)) {
    if (resumeAfter !== undefined && (start === undefined || resumeAfter < start)) start = resumeAfter;
  }
  return start;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

// What `GET /admin/hl7/status` and `hms hl7 status` show for a channel: state, counters, queue depth, the
// age of the oldest waiting message and the time of the last one. Counts only, no message content.
import type { Channel } from './channels';
import type { MessageStore } from './message-store/port';

export interface ChannelStatus {
  id: string;
  direction: Channel['direction'];
  enabled: boolean;
  state: string;
  received: number;
  processed: number;
  errored: number;
  rejected: number;
  queued: number;
  oldestQueuedAgeSeconds?: number;
  lastMessageAt?: string;
}

export async function channelStatus(store: MessageStore, channel: Channel, state: string): Promise<ChannelStatus> {
  const counters = await store.counters(channel.id);
  const now = Date.now();
  return {
    id: channel.id,
    direction: channel.direction,
    enabled: channel.enabled,
    state: channel.enabled ? state : 'disabled',
    received: counters.received,
    processed: counters.processed,
    errored: counters.errored,
    rejected: counters.rejected,
    queued: counters.queued,
    ...(counters.oldestWaitingAt !== undefined
      ? { oldestQueuedAgeSeconds: Math.round((now - counters.oldestWaitingAt) / 1000) }
      : {}),
    ...(counters.lastMessageAt !== undefined ? { lastMessageAt: new Date(counters.lastMessageAt).toISOString() } : {}),
  };
}

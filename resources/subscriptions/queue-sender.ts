// Sends each running subscription's queued events, one notification at a time so that its subscriber sees them
// in order, up to the channel's max count per notification; counts failed notifications and puts a subscription
// whose notifications keep failing in `error` with the reason; sends heartbeats while a channel is idle.
import { markSent, type Active } from './active';
import type { NotificationSender } from './delivery';

export interface QueueSenderHooks {
  stopped(): boolean;
  /** Whether the engine still runs this subscription as this object (not removed, not replaced). */
  isRunning(active: Active): boolean;
  /** Events left the queue (sent, or given up on). */
  sent(): void;
  setStatus(id: string, status: 'error', reason: string): Promise<void>;
  track<T>(work: Promise<T>): Promise<T>;
}

export class QueueSender {
  constructor(
    private readonly sender: NotificationSender,
    private readonly maxFailures: number,
    private readonly hooks: QueueSenderHooks,
  ) {}

  /** Starts sending what is queued, unless a send is under way (it goes on with what comes meanwhile). */
  flush(active: Active): void {
    if (active.sending || this.hooks.stopped() || active.queue.length === 0 || active.state.status !== 'active') {
      return;
    }
    active.sending = this.hooks.track(this.drain(active)).finally(() => (active.sending = undefined));
  }

  startHeartbeat(active: Active): void {
    const seconds = active.definition.channel.heartbeatSeconds;
    if (!seconds || (!active.definition.topic && active.definition.channel.type === 'rest-hook')) return;
    active.heartbeat = setInterval(() => {
      if (!active.sending && active.queue.length === 0) this.hooks.track(this.sender.send(active, 'heartbeat', []));
    }, seconds * 1000);
    active.heartbeat.unref();
  }

  private async drain(active: Active): Promise<void> {
    const max = active.definition.channel.maxCount ?? 100;
    while (
      !this.hooks.stopped() &&
      active.queue.length > 0 &&
      active.state.status === 'active' &&
      this.hooks.isRunning(active)
    ) {
      const events = active.queue.slice(0, max);
      const outcome = await this.sender.send(active, 'event-notification', events);
      // Stopping: what was not sent stays in the checkpoint's replay range.
      if (this.hooks.stopped() && !outcome.ok) return;
      markSent(active, events);
      this.hooks.sent();
      if (outcome.ok) {
        active.failures = 0;
        continue;
      }
      active.failures++;
      active.state.errors = [outcome.error ?? 'delivery failed'];
      if (active.failures >= this.maxFailures) {
        const reason = `${active.failures} notifications in a row failed; the last: ${outcome.error}`;
        await this.hooks.setStatus(active.id, 'error', reason);
        return;
      }
    }
  }
}

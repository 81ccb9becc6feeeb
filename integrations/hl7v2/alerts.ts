// Alerts to the operator's webhook (HL7_ALERT_WEBHOOK): errors, a queue waiting too long, a feed gone silent.
// An alert names the channel and counts, never message content or patient data; one alert per condition per
// quiet period, so a stuck interface does not flood the on-call phone.
import type { ChannelCounters } from './message-store/port';

export type AlertKind = 'errors' | 'queue-age' | 'silent-feed' | 'conflict';

export interface Alert {
  kind: AlertKind;
  channel: string;
  at: string;
  /** Errors since the last alert, or the queue depth. */
  count?: number;
  /** Age of the oldest waiting message, or time since the last message. */
  minutes?: number;
  text: string;
}

export interface AlertSettings {
  webhook?: string;
  /** Oldest waiting message older than this raises queue-age. */
  queueAgeMinutes: number;
  /** No message for this long on an inbound channel raises silent-feed (0 = never). */
  silentMinutes: number;
  /** Same condition on the same channel is not raised again within this time. */
  quietMinutes: number;
}

export class Alerts {
  private readonly lastSent = new Map<string, number>();
  private readonly pendingErrors = new Map<string, number>();
  readonly sent: Alert[] = [];

  constructor(
    private readonly settings: AlertSettings,
    private readonly report: (problem: string) => void,
  ) {}

  /** A message went to the error queue (or was held as a conflict). */
  errored(channel: string, kind: 'errors' | 'conflict' = 'errors', now = Date.now()): void {
    const key = `${kind}/${channel}`;
    const count = (this.pendingErrors.get(key) ?? 0) + 1;
    this.pendingErrors.set(key, count);
    const text =
      kind === 'conflict' ? 'A message reused a control id with other content' : 'Messages went to the error queue';
    if (this.raise({ kind, channel, count, text }, now)) this.pendingErrors.delete(key);
  }

  /** Checks a channel's queue age and silence (called periodically). */
  check(channel: string, direction: 'inbound' | 'outbound', counters: ChannelCounters, now = Date.now()): void {
    const waiting = counters.oldestWaitingAt !== undefined ? (now - counters.oldestWaitingAt) / 60_000 : 0;
    if (waiting > this.settings.queueAgeMinutes) {
      this.raise(
        {
          kind: 'queue-age',
          channel,
          count: counters.queued,
          minutes: Math.floor(waiting),
          text: 'Messages are waiting too long',
        },
        now,
      );
    }
    if (direction !== 'inbound' || this.settings.silentMinutes <= 0 || counters.lastMessageAt === undefined) return;
    const silent = (now - counters.lastMessageAt) / 60_000;
    if (silent > this.settings.silentMinutes) {
      this.raise(
        {
          kind: 'silent-feed',
          channel,
          minutes: Math.floor(silent),
          text: 'No message received for a while',
        },
        now,
      );
    }
  }

  /** `now` is the caller's clock, the same that measured the condition (quiet periods follow it too). */
  private raise(alert: Omit<Alert, 'at'>, now: number): boolean {
    const key = `${alert.kind}/${alert.channel}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < this.settings.quietMinutes * 60_000) return false;
    this.lastSent.set(key, now);
    const full: Alert = { ...alert, at: new Date(now).toISOString() };
    this.sent.push(full);
    if (this.sent.length > 100) this.sent.shift();
    // A report callback that throws must not become an unhandled rejection.
    if (this.settings.webhook) this.post(full).catch(() => undefined);
    return true;
  }

  private async post(alert: Alert): Promise<void> {
    try {
      const response = await fetch(this.settings.webhook as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(10_000),
      });
      // Read the answer so that its connection is released.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) this.report(`alert webhook answered ${response.status}`);
    } catch (error) {
      // The error's name and system code only (ECONNREFUSED, ...): the URL may hold a token.
      const code = ((error as Error).cause as { code?: unknown } | undefined)?.code;
      this.report(`alert webhook failed: ${(error as Error).name}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
  }
}

// MLLP load driver: N connections of the bridge's own MllpClient, each sending one message and waiting for its
// ACK before the next (original mode, as analysers send), for a fixed duration or a fixed number of messages. An ACK other than AA, an ACK
// for another control id, a timeout or a closed connection is an error, counted and sampled, never dropped.
import { performance } from 'node:perf_hooks';
import { MllpClient } from '../../../integrations/hl7v2/mllp/client';
import { LatencyHistogram } from '../histogram';
import type { ErrorSample, LoadResult } from '../load';
import { readAck } from './messages';

export interface MllpLoadOptions {
  host: string;
  port: number;
  connections: number;
  /** stop starting messages after this long; or give `messages` */
  durationMs?: number;
  /** the number of messages to send, spread over the connections */
  messages?: number;
  /** message number `i` (0-based, in send order) and its MSH-10 */
  next: (i: number) => { controlId: string; text: string };
  /** only an ACK whose MSA-2 echoes MSH-10 answers a message (off for a server answering a fixed ACK) */
  checkControlId: boolean;
  timeoutMs?: number;
}

export interface MllpLoadResult extends LoadResult {
  /** wall clock (Date.now()) when the first message was written, to compare with server-side times */
  firstSendAt: number;
  /** wall clock when the last ACK came back */
  lastAckAt: number;
  /** messages answered AA */
  accepted: number;
}

const MAX_ERROR_SAMPLES = 5;
const CONNECT_TIMEOUT_MS = 5_000;
const MAX_FRAME_BYTES = 1 << 20;

/** Connects every client first, then runs the load; resolves once each connection has its last ACK. */
export async function runMllpLoad(options: MllpLoadOptions): Promise<MllpLoadResult> {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, () =>
      MllpClient.connect({
        host: options.host,
        port: options.port,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        maxFrameBytes: MAX_FRAME_BYTES,
      }),
    ),
  );
  const run = new MllpRun(options);
  try {
    await Promise.all(clients.map((client) => run.drive(client)));
  } finally {
    clients.forEach((client) => client.close());
  }
  return run.result();
}

class MllpRun {
  private readonly histogram = new LatencyHistogram();
  private readonly statusCounts: Record<string, number> = {};
  private readonly errorSamples: ErrorSample[] = [];
  private readonly startTime = performance.now();
  private readonly deadline: number;
  private started = 0;
  private completed = 0;
  private errors = 0;
  private firstSendAt = 0;
  private lastAckAt = 0;

  constructor(private readonly options: MllpLoadOptions) {
    if (options.durationMs === undefined && options.messages === undefined) {
      throw new Error('runMllpLoad needs durationMs or messages');
    }
    this.deadline = options.durationMs === undefined ? Infinity : this.startTime + options.durationMs;
  }

  /** The number of the next message to send, or undefined when the run is over. */
  private take(): number | undefined {
    if (this.options.messages !== undefined && this.started >= this.options.messages) return undefined;
    if (performance.now() >= this.deadline) return undefined;
    return this.started++;
  }

  async drive(client: MllpClient): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    for (let i = this.take(); i !== undefined && !client.closed; i = this.take()) {
      const { controlId, text } = this.options.next(i);
      const payload = Buffer.from(text, 'utf8');
      if (this.firstSendAt === 0) this.firstSendAt = Date.now();
      const begin = performance.now();
      try {
        // With the check, a late ACK to an earlier, timed-out message is skipped rather than taken as this one's.
        const accept = this.options.checkControlId
          ? (reply: Buffer) => readAck(reply.toString('utf8')).controlId === controlId
          : undefined;
        const reply = await client.send(payload, { timeoutMs, ...(accept ? { accept } : {}) });
        this.record(controlId, readAck(reply.toString('utf8')), performance.now() - begin);
      } catch (err) {
        const code = err instanceof Error ? err.name : 'ERROR';
        this.fail(controlId, code, performance.now() - begin, String(err));
      }
    }
  }

  private record(controlId: string, ack: ReturnType<typeof readAck>, latencyMs: number): void {
    if (ack.code !== 'AA') {
      this.fail(controlId, ack.code || 'no MSA', latencyMs, ack.errors.join('; ') || 'no ERR segment');
      return;
    }
    this.count('AA', latencyMs);
  }

  private fail(controlId: string, status: string, latencyMs: number, detail: string): void {
    this.count(status, latencyMs);
    this.errors++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) {
      this.errorSamples.push({ status, method: 'MLLP', path: `MSH-10 ${controlId}`, detail: detail.slice(0, 500) });
    }
  }

  private count(status: string, latencyMs: number): void {
    this.completed++;
    this.lastAckAt = Date.now();
    this.histogram.recordMs(latencyMs);
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
  }

  result(): MllpLoadResult {
    const durationMs = performance.now() - this.startTime;
    return {
      requests: this.completed,
      errors: this.errors,
      durationMs,
      requestsPerSecond: durationMs > 0 ? (this.completed * 1000) / durationMs : 0,
      latency: this.histogram.summary(),
      statusCounts: this.statusCounts,
      errorSamples: this.errorSamples,
      firstSendAt: this.firstSendAt,
      lastAckAt: this.lastAckAt,
      accepted: this.statusCounts.AA ?? 0,
    };
  }
}

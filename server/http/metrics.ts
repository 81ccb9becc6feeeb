// GET /metrics in Prometheus text format: HTTP requests by route pattern and status with latency, store
// commit / WAL sync / checkpoint-hold times, worker pools (threads and queue depth), HL7 channel counters, and
// Node's process metrics. Labels are route patterns, methods, statuses, pool and channel names: never an id,
// a query value or anything a client typed. Access: the METRICS_TOKEN bearer when one is set, otherwise
// loopback callers that did not come through a proxy.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Express, Request, Response } from 'express';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FhirError, forbidden, issue, outcome } from '../../resources/errors';
import type { RepositoryServices } from '../../resources/repository';
import type { MonitoredStore } from '../../resources/store/store-monitor';
import type { WorkerLoad } from '../../resources/thread-pool';
import type { Hl7Bridge } from '../../integrations/hl7v2/bridge';
import type { ChannelStatus } from '../../integrations/hl7v2/status';
import { RequestMetrics } from './request-metrics';

const PREFIX = 'hms_';
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const GROUP_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const HL7_OUTCOMES = ['received', 'processed', 'errored', 'rejected'] as const;

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new RequestMetrics();

  constructor(services: RepositoryServices, hl7?: Hl7Bridge) {
    collectDefaultMetrics({ register: this.registry });
    this.requests.register(this.registry, PREFIX);
    this.watchStore(services.store as MonitoredStore);
    this.watchPools(services);
    if (hl7) this.watchHl7(hl7);
  }

  /** Records a commit, WAL sync or checkpoint hold as the store reports it (SQLite; MongoDB reports none). */
  private watchStore(store: MonitoredStore): void {
    const histogram = (name: string, help: string, buckets = STORE_BUCKETS) =>
      new Histogram({ name: `${PREFIX}${name}`, help, buckets, registers: [this.registry] });
    const commit = histogram('store_commit_seconds', 'Store group commits: BEGIN to COMMIT');
    const groupSize = histogram('store_commit_transactions', 'Transactions per group commit', GROUP_SIZE_BUCKETS);
    const sync = histogram('store_wal_sync_seconds', 'WAL flushes to disk after a commit (SQLITE_SYNCHRONOUS=FULL)');
    const hold = histogram('store_checkpoint_hold_seconds', 'Writes held while a checkpoint rewound the WAL');
    store.timings = {
      committed: (seconds, transactions) => {
        commit.observe(seconds);
        groupSize.observe(transactions);
      },
      walSynced: (seconds) => sync.observe(seconds),
      checkpointHeld: (seconds) => hold.observe(seconds),
    };
  }

  private watchPools(services: RepositoryServices): void {
    const pools: Record<string, () => WorkerLoad | undefined> = {
      validation: () => (services.preparer as { load?: () => WorkerLoad }).load?.(),
      search: () => (services.store as MonitoredStore).searchWorkerLoad?.(),
    };
    const gauge = (name: string, help: string, value: (load: WorkerLoad) => number) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['pool'],
        registers: [this.registry],
        collect() {
          for (const [pool, load] of Object.entries(pools)) {
            const current = load();
            if (current) this.set({ pool }, value(current));
          }
        },
      });
    gauge('worker_threads', 'Worker threads running, by pool', (load) => load.workers);
    gauge('worker_queue_depth', 'Requests in flight on or waiting for a worker, by pool', (load) => load.inFlight);
  }

  private watchHl7(hl7: Hl7Bridge): void {
    // The three gauges render side by side; one status read serves them all.
    let reading: Promise<ChannelStatus[]> | undefined;
    const statuses = () => (reading ??= hl7.status().finally(() => setImmediate(() => (reading = undefined))));
    const gauge = (name: string, help: string, outcomes: boolean, fill: (g: Gauge, s: ChannelStatus) => void) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: outcomes ? ['channel', 'direction', 'outcome'] : ['channel', 'direction'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const status of await statuses()) fill(this, status);
        },
      });
    const labels = (s: ChannelStatus) => ({ channel: s.id, direction: s.direction });
    gauge('hl7_messages', 'HL7 v2 messages stored per channel, by outcome', true, (g, s) => {
      for (const outcome of HL7_OUTCOMES) g.set({ ...labels(s), outcome }, s[outcome]);
    });
    gauge('hl7_queue_depth', 'HL7 v2 messages waiting per channel', false, (g, s) => g.set(labels(s), s.queued));
    gauge('hl7_oldest_queued_age_seconds', 'Age of the oldest waiting HL7 v2 message per channel', false, (g, s) => {
      if (s.oldestQueuedAgeSeconds !== undefined) g.set(labels(s), s.oldestQueuedAgeSeconds);
    });
  }

  /** GET /metrics */
  mount(app: Express, token: string | undefined): void {
    app.get('/metrics', async (req: Request, res: Response) => {
      const refusal = accessRefusal(req, token);
      if (refusal) {
        // The app's error handler renders the outcome; the challenge header is ours to set.
        for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
        throw refusal;
      }
      const text = await this.registry.metrics();
      res.type(this.registry.contentType).send(text);
    });
  }
}

/** Why this caller may not read the metrics; undefined when it may. */
function accessRefusal(req: IncomingMessage, token: string | undefined): FhirError | undefined {
  if (token !== undefined) {
    if (sameSecret(bearerOf(req), token)) return undefined;
    return new FhirError(401, outcome([issue('login', 'GET /metrics needs the METRICS_TOKEN bearer token')]), {
      'WWW-Authenticate': 'Bearer realm="metrics"',
    });
  }
  const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  if (isLoopback(req.socket.remoteAddress) && !proxied) return undefined;
  return forbidden('/metrics answers loopback callers only; set METRICS_TOKEN to read it from elsewhere');
}

function bearerOf(req: IncomingMessage): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : '';
}

/** Compares digests, so neither the token's length nor its content shows in the timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

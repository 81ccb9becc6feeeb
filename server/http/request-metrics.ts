// Request counts and latency histograms by route pattern, method and status, kept in plain counters that a
// request updates without allocating (prom-client's own observe builds a label object and key per call), and
// rendered as Prometheus metrics only when /metrics is scraped.
import type { Registry } from 'prom-client';

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'];
const METHOD_INDEX = new Map(METHODS.map((m, i) => [m, i]));
/** Status codes above this share one cell per method (a status is 100-599, but a handler may set anything). */
const MAX_STATUS = 599;

interface Cell {
  route: string;
  method: string;
  status: number;
  count: number;
  sum: number;
  /** Per bucket, the observations at most its bound (not cumulative yet). */
  buckets: Float64Array;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export class RequestMetrics {
  /** route label -> (method index * 1000 + status) -> cell; cells appear once per combination seen. */
  private readonly routes = new Map<string, Map<number, Cell>>();

  observe(route: string, method: string | undefined, status: number, seconds: number): void {
    const methodIndex = METHOD_INDEX.get(method ?? '') ?? METHODS.length - 1;
    const code = status >= 100 && status <= MAX_STATUS ? status : 0;
    let cells = this.routes.get(route);
    if (!cells) this.routes.set(route, (cells = new Map()));
    const key = methodIndex * 1000 + code;
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        route,
        method: METHODS[methodIndex],
        status: code,
        count: 0,
        sum: 0,
        buckets: new Float64Array(LATENCY_BUCKETS.length),
      };
      cells.set(key, cell);
    }
    cell.count++;
    cell.sum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        cell.buckets[i]++;
        break;
      }
    }
  }

  /** Registers the two metrics this class renders: requests by outcome, and their latency. */
  register(registry: Registry, prefix: string): void {
    const cells = () => [...this.routes.values()].flatMap((m) => [...m.values()]);
    const labels = (c: Cell) => ({ route: c.route, method: c.method, status: c.status });
    registry.registerMetric(
      customMetric(
        `${prefix}http_requests_total`,
        'HTTP requests answered, by route pattern, method and status',
        'counter',
        () => cells().map((c) => ({ labels: labels(c), value: c.count })),
      ),
    );
    const name = `${prefix}http_request_duration_seconds`;
    registry.registerMetric(
      customMetric(
        name,
        'Time from request to the end of the answer, by route pattern, method and status',
        'histogram',
        () => cells().flatMap((c) => histogramValues(name, labels(c), c)),
      ),
    );
  }
}

function histogramValues(name: string, labels: MetricValue['labels'], cell: Cell): MetricValue[] {
  const values: MetricValue[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS.forEach((bound, i) => {
    cumulative += cell.buckets[i];
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
  });
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cell.count });
  values.push({ metricName: `${name}_sum`, labels, value: cell.sum });
  values.push({ metricName: `${name}_count`, labels, value: cell.count });
  return values;
}

/**
 * A metric prom-client's registry renders like its own (it reads name, help, type and `get()`), whose values
 * are computed at scrape time.
 */
function customMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => undefined,
  } as unknown as Parameters<Registry['registerMetric']>[0];
}

// HTTP load driver for loopback benchmarks: N keep-alive connections, each running requests back to back,
// for a fixed duration or a fixed number of requests. Non-2xx answers and network errors are counted and
// reported with samples, never dropped.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram, type LatencySummary } from './histogram';
import { RawHttpConnection, type HttpResponse, type RequestSpec } from './raw-connection';

export type { HttpResponse, RequestSpec };

export interface LoadOptions {
  host: string;
  port: number;
  connections: number;
  /** stop starting requests after this long; or give `requests` */
  durationMs?: number;
  /** total number of requests to send, spread over the connections */
  requests?: number;
  /** the request to send as number `i` (0-based, in start order) */
  next: (i: number) => RequestSpec;
  timeoutMs?: number;
  /** the HTTP client: Node's own (default), or raw sockets (raw-connection.ts) */
  driver?: LoadDriver;
  /** sent as the Authorization header of every request (`Bearer ...`) */
  authorization?: string;
}

/**
 * `node`: Node's http client, ~100 µs of CPU per request on the cores the server also uses, so it caps the
 * bare-HTTP ceiling well below what the server side could do; `raw`: a third of that, closer to wrk.
 */
export type LoadDriver = 'node' | 'raw';

export interface Connection {
  request(spec: RequestSpec): Promise<HttpResponse>;
}

export interface ErrorSample {
  status: number | string;
  method: string;
  path: string;
  detail: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  durationMs: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  statusCounts: Record<string, number>;
  errorSamples: ErrorSample[];
}

const MAX_ERROR_SAMPLES = 5;
const NETWORK_ERROR_PAUSE_MS = 10;

/** Runs the load and resolves when every connection has finished its last request. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.durationMs === undefined && options.requests === undefined) {
    throw new Error('runLoad needs durationMs or requests');
  }
  const state = new RunState(options);
  const pool = openConnections(options);
  try {
    await Promise.all(pool.connections.map((connection) => runConnection(connection, options, state)));
  } finally {
    pool.close();
  }
  return state.result();
}

/** `connections` keep-alive connections of the chosen client, and one call that closes them all. */
export function openConnections(
  options: Pick<LoadOptions, 'host' | 'port' | 'connections' | 'driver' | 'timeoutMs' | 'authorization'>,
): {
  connections: Connection[];
  close: () => void;
} {
  const count = options.connections;
  if (options.driver === 'raw') {
    const connections = Array.from(
      { length: count },
      () => new RawHttpConnection(options.host, options.port, options.timeoutMs, options.authorization),
    );
    return { connections, close: () => connections.forEach((connection) => connection.close()) };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  const connection = { request: (spec: RequestSpec) => sendRequest(agent, options, spec) };
  return { connections: Array.from({ length: count }, () => connection), close: () => agent.destroy() };
}

/** Latencies, status counts and error samples of a run's requests, and the result they make. */
export class LoadRecorder {
  readonly histogram = new LatencyHistogram();
  readonly statusCounts: Record<string, number> = {};
  readonly errorSamples: ErrorSample[] = [];
  private completed = 0;
  private errors = 0;
  readonly startTime = performance.now();

  /** Records one answer (or network error code); true when it was a 2xx. */
  record(spec: RequestSpec, status: number | string, latencyMs: number, detail: () => string): boolean {
    this.completed++;
    this.histogram.recordMs(latencyMs);
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    if (ok) return true;
    this.errors++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) {
      this.errorSamples.push({ status, method: spec.method, path: spec.path, detail: detail().slice(0, 500) });
    }
    return false;
  }

  result(): LoadResult {
    const durationMs = performance.now() - this.startTime;
    return {
      requests: this.completed,
      errors: this.errors,
      durationMs,
      requestsPerSecond: durationMs > 0 ? (this.completed * 1000) / durationMs : 0,
      latency: this.histogram.summary(),
      statusCounts: this.statusCounts,
      errorSamples: this.errorSamples,
    };
  }
}

/** A recorder that also hands out request numbers until the run's count or duration is used up. */
class RunState extends LoadRecorder {
  private started = 0;
  private readonly deadline: number;

  constructor(private readonly options: LoadOptions) {
    super();
    this.deadline = options.durationMs === undefined ? Infinity : this.startTime + options.durationMs;
  }

  /** The index of the next request to send, or undefined when the run is over. */
  take(): number | undefined {
    if (this.options.requests !== undefined && this.started >= this.options.requests) return undefined;
    if (performance.now() >= this.deadline) return undefined;
    return this.started++;
  }
}

async function runConnection(connection: Connection, options: LoadOptions, state: RunState): Promise<void> {
  for (let i = state.take(); i !== undefined; i = state.take()) {
    const spec = options.next(i);
    const begin = performance.now();
    let response: HttpResponse;
    try {
      response = await connection.request(spec);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      state.record(spec, code, performance.now() - begin, () => String(err));
      await new Promise((resolve) => setTimeout(resolve, NETWORK_ERROR_PAUSE_MS));
      continue;
    }
    state.record(spec, response.status, performance.now() - begin, () => response.body.toString('utf8'));
    spec.onResponse?.(response);
  }
}

/** One HTTP request on `agent`, with the whole response body read. */
export function sendRequest(
  agent: http.Agent,
  target: { host: string; port: number; timeoutMs?: number; authorization?: string },
  spec: RequestSpec,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (target.authorization) headers.Authorization = target.authorization;
    if (spec.body !== undefined) headers['Content-Length'] = Buffer.byteLength(spec.body);
    const req = http.request(
      { agent, host: target.host, port: target.port, method: spec.method, path: spec.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(target.timeoutMs ?? 30_000, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

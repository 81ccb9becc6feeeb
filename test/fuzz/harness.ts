// The fuzzing harness: the real app on a real SQLite file behind a real HTTP listener, a plain HTTP client with a
// per-request timeout (a hang fails the case), the shapes every answer must have, and the store's counts that
// show whether a write happened.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { startTestApp, type TestApp } from '../support/app';

/** Longer than any honest answer on a busy 2-core machine; reaching it means the server hung on the input. */
const REQUEST_TIMEOUT_MS = 20_000;

export interface FuzzRequest {
  method: string;
  /** path and query after the host, e.g. `/fhir/Patient?name=x` */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** send no Authorization header (the default is the full-access system token) */
  anonymous?: boolean;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface FuzzServer {
  app: TestApp;
  send(request: FuzzRequest): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts the in-process app on a real SQLite file and serves it on a loopback port, as main.ts does. */
export async function startFuzzServer(): Promise<FuzzServer> {
  const app = await startTestApp();
  const server = http.createServer(app.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  return {
    app,
    send: (request) => sendRequest(port, agent, app.token, request),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
    },
  };
}

function sendRequest(port: number, agent: http.Agent, token: string, request: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (!request.anonymous) headers.Authorization = `Bearer ${token}`;
    if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
    const req = http.request(
      { agent, host: '127.0.0.1', port, method: request.method, path: request.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body.toString('utf8') });
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: the server hung`)),
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Node's own HTTP parser refuses headers over 16 KiB with a bare 431 before any of our code runs. */
export const NODE_HEADER_LIMIT_STATUS = 431;

/**
 * The documented shapes: a 2xx (JSON body when there is one), a 304 for a conditional read, Node's bare 431
 * for oversized headers, or a 4xx with an OperationOutcome saying what was wrong (406 and 415 included).
 * Anything else, a 5xx above all, throws with the request and answer so the failing case explains itself.
 */
export function checkAnswer(request: FuzzRequest, answer: Answer): void {
  const fail = (why: string): never => {
    throw new Error(`${why}\nrequest: ${describe(request)}\nanswer: ${answer.status} ${answer.text.slice(0, 800)}`);
  };
  const { status } = answer;
  if (status >= 200 && status < 300) {
    if (answer.text !== '' && parseJson(answer.text) === undefined) fail('a 2xx whose body is not JSON');
    return;
  }
  if (status === 304) {
    const h = lowerCaseKeys(request.headers ?? {});
    if (h['if-none-match'] === undefined && h['if-modified-since'] === undefined) fail('a 304 without a condition');
    return;
  }
  if (status === NODE_HEADER_LIMIT_STATUS && answer.text === '') return;
  if (status < 400 || status >= 500) fail(`status ${status}`);
  if (!String(answer.headers['content-type']).startsWith('application/fhir+json')) fail('a 4xx that is not fhir+json');
  const body = parseJson(answer.text) as { resourceType?: unknown; issue?: { severity?: unknown; code?: unknown }[] };
  if (body?.resourceType !== 'OperationOutcome') fail('a 4xx without an OperationOutcome');
  const issues = Array.isArray(body.issue) ? body.issue : [];
  if (issues.length === 0) fail('an OperationOutcome without issues');
  if (!issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) fail('a 4xx whose issues are no errors');
  if (issues.some((i) => typeof i.code !== 'string')) fail('an issue without a code');
}

/** A batch or transaction answered 200 still fails the case if any entry is a 5xx. */
export function checkBundleEntries(request: FuzzRequest, answer: Answer): void {
  if (answer.status !== 200) return;
  const bundle = parseJson(answer.text) as { entry?: { response?: { status?: string } }[] } | undefined;
  for (const entry of bundle?.entry ?? []) {
    if (/^5/.test(entry.response?.status ?? '')) {
      throw new Error(
        `an entry answered ${entry.response?.status}\nrequest: ${describe(request)}\nanswer: ${answer.text}`,
      );
    }
  }
}

export function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The request as the failure message shows it; long values are cut so the message stays readable. */
export function describe(request: FuzzRequest): string {
  const cut = (text: string) => (text.length > 2000 ? `${text.slice(0, 2000)}... (${text.length} chars)` : text);
  const headers = Object.entries(request.headers ?? {}).map(([k, v]) => `${k}: ${cut(v)}`);
  const body = request.body === undefined ? '' : `\n${cut(request.body.toString())}`;
  return `${request.method} ${cut(request.path)}${headers.length ? `\n${headers.join('\n')}` : ''}${body}`;
}

/** Resources the fuzzers write; the counts of these types prove that a refused write wrote nothing. */
export const COUNTED_TYPES = ['Patient', 'Observation', 'Encounter', 'Practitioner'] as const;

export type Counts = Record<string, number>;

export async function resourceCounts(server: Pick<FuzzServer, 'send'>): Promise<Counts> {
  const totals = await Promise.all(
    COUNTED_TYPES.map(async (type) => {
      const answer = await server.send({ method: 'GET', path: `/fhir/${type}?_summary=count` });
      if (answer.status !== 200) throw new Error(`counting ${type}: ${answer.status} ${answer.text}`);
      return [type, (parseJson(answer.text) as { total: number }).total] as const;
    }),
  );
  return Object.fromEntries(totals);
}

/** Fails unless every counted type changed by exactly what the acknowledged writes say. */
export function expectCountsMoved(before: Counts, after: Counts, created: Counts, request: FuzzRequest): void {
  for (const type of COUNTED_TYPES) {
    const expected = before[type] + (created[type] ?? 0);
    if (after[type] !== expected) {
      throw new Error(
        `partial or unacknowledged write: ${type} count ${before[type]} -> ${after[type]}, acknowledged ` +
          `creates say ${expected}\nrequest: ${describe(request)}`,
      );
    }
  }
}

/** Creates acknowledged by a batch or transaction answer: its `201` entries, by the type of their location. */
export function createdByBundle(answer: Answer): Counts {
  const created: Counts = {};
  if (answer.status !== 200) return created;
  const bundle = parseJson(answer.text) as { entry?: { response?: { status?: string; location?: string } }[] };
  for (const entry of bundle?.entry ?? []) {
    if (!entry.response?.status?.startsWith('201')) continue;
    const type = entry.response.location?.split('/')[0] ?? '?';
    created[type] = (created[type] ?? 0) + 1;
  }
  return created;
}

/**
 * Runs a property for one CI run: the seed is FUZZ_SEED when set, otherwise the UTC date (a day's runs agree, the
 * next day explores new cases); FUZZ_RUNS_SCALE scales the number of cases. A failure's message carries
 * fast-check's seed, path and shrunk counterexample, and says how to replay it.
 */
export async function assertProperty<T>(name: string, property: fc.IAsyncProperty<T>, runs: number): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? new Date().toISOString().slice(0, 10).replace(/-/g, ''));
  const numRuns = Math.max(1, Math.round(runs * Number(process.env.FUZZ_RUNS_SCALE ?? 1)));
  try {
    await fc.assert(property, { seed, numRuns });
  } catch (error) {
    throw new Error(`${name}: replay with FUZZ_SEED=${seed}\n${(error as Error).message}`, { cause: error });
  }
}

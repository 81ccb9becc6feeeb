// The search suite: bulk ingest by transaction Bundles of ~500 entries, then search queries of each kind
// (token, reference, date, string, two-parameter, chained, _include, _revinclude, _summary=count, paging
// through 1,000 results) over N keep-alive connections, the bare-HTTP ceiling for a search-sized body, and
// the size of the search index relative to the JSON it indexes.
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { seedInBatches, type BatchSeedResult, type SeededPatient } from '../batch-seed';
import { measureBareHttpCeiling } from '../ceiling';
import { LatencyHistogram } from '../histogram';
import {
  LoadRecorder,
  openConnections,
  runLoad,
  type Connection,
  type HttpResponse,
  type LoadResult,
  type RequestSpec,
} from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { FHIR_JSON, targetLoad, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle, type MemoryUsage } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';
import { SYSTEM } from '../tables';

const ENTRIES_PER_BUNDLE = 500;
const BUNDLES_IN_FLIGHT = 3;
const PAGE_SIZE = 100;
const PAGES_FOLLOWED = 10;
const SQLITE_FILE_NAME = 'hms.sqlite';

const TARGET_INGEST_PER_SECOND = 5000;
const TARGET_SINGLE_P95_MS = 20;
const TARGET_CHAINED_INCLUDE_P95_MS = 50;
const TARGET_COUNT_P95_MS = 30;
const TARGET_INDEX_RATIO = 3;

type QueryKind = 'single' | 'two' | 'chained-include' | 'count' | 'paging';

interface QueryPhase {
  name: string;
  kind: QueryKind;
  /** the search path (after the FHIR base, with query) for one randomized request */
  query: (rng: Random) => string;
}

interface IndexSize {
  indexBytes: number;
  jsonBytes: number;
  currentResources: number;
  byName: Record<string, number>;
  method: string;
}

export const searchSuite: BenchSuite = {
  name: 'search',
  description: 'bulk ingest by 500-entry transactions, then token/reference/date/string/chained/include/count/paging',
  run: runSearchSuite,
};

async function runSearchSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  const { target } = fhir;
  const phases: PhaseReport[] = [];
  let seeded: BatchSeedResult;
  let index: IndexSize | undefined;
  let sample: { path: string; body: string } | undefined;
  let startupMemory: MemoryUsage | undefined;
  try {
    startupMemory = fhir.server.memory();
    progress(`server pid ${fhir.server.pid} ready on port ${port}; seeding ${options.patients} patient records`);
    seeded = await seedInBatches(target, {
      seed: options.seed,
      patients: options.patients,
      concurrency: BUNDLES_IN_FLIGHT,
      entriesPerBundle: ENTRIES_PER_BUNDLE,
    });
    phases.push(describeSeed(seeded, fhir));
    progress(`seeded ${seeded.resourceCount} resources in ${fixed(seeded.load.durationMs / 1000, 1)} s`);
    const samples: { path: string; body: string }[] = [];
    for (const query of queryPhases(seeded)) {
      progress(`measuring ${query.name}`);
      phases.push(await measureQueryPhase(query, fhir, options, target, query.kind === 'single' ? samples : undefined));
    }
    progress(`measuring paging (${PAGES_FOLLOWED} next links of ${PAGE_SIZE})`);
    phases.push(...(await measurePaging(seeded, fhir, options, target)));
    sample = medianBySize(samples);
    index = measureIndexSize(path.join(fhir.dataDir, SQLITE_FILE_NAME));
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    await fhir.stop();
  }
  const ceilings: CeilingReport[] = [];
  if (sample) {
    progress('measuring the bare HTTP ceiling');
    const singles = phases.filter((p) => phaseKind(p) === 'single');
    const ours = singles.reduce((sum, p) => sum + p.load.requestsPerSecond, 0) / Math.max(1, singles.length);
    const bare = await measureBareHttpCeiling(options, port, sample);
    ceilings.push({
      name: `bare HTTP GET (${bare.bodyBytes} B body, median single-parameter search answer)`,
      perSecond: bare.load.requestsPerSecond,
      unit: 'req/s',
      ours: { name: 'single-parameter searches (mean)', perSecond: ours },
      detail: { ...bare.load, bodyBytes: bare.bodyBytes, memory: bare.memory },
    });
  }
  const perRecord = seeded.resourceCount / Math.max(1, seeded.patients.length);
  return {
    suite: 'search',
    phases,
    ceilings,
    targets: targetChecks(phases, seeded, index),
    notes: [
      `seeded ${seeded.patients.length} patient records (${seeded.resourceCount} resources, ~${fixed(perRecord, 0)} ` +
        `per record) in ${seeded.bundles} transaction Bundles of ~${ENTRIES_PER_BUNDLE} entries, ` +
        `${BUNDLES_IN_FLIGHT} in flight, Prefer: return=minimal; took ${fixed(seeded.load.durationMs / 1000, 1)} s`,
      `server RSS after startup: ${startupMemory ? fixed(startupMemory.rssMb, 0) : '?'} MB`,
      index
        ? `index size: ix_* tables and indexes ${mb(index.indexBytes)} MB vs ${mb(index.jsonBytes)} MB of current ` +
          `resource JSON (${index.currentResources} resources) = ${fixed(index.indexBytes / index.jsonBytes, 2)}x ` +
          `(${index.method})`
        : 'index size: not measured',
      'query values are drawn per request with the seeded PRNG from the seeded records (patients, their ' +
        'Observation codes and dates); codes come from tables.ts',
    ],
    extra: { indexSize: index, codeCounts: Object.fromEntries(seeded.codeCounts) },
  };
}

function progress(message: string): void {
  console.error(`[bench search] ${message}`);
}

function mb(bytes: number): string {
  return fixed(bytes / 2 ** 20, 1);
}

function describeSeed(seeded: BatchSeedResult, fhir: FhirServerHandle): PhaseReport {
  const perSecond = (seeded.resourceCount * 1000) / Math.max(1, seeded.load.durationMs);
  return {
    name: 'seed',
    note: `transaction Bundles of ~${ENTRIES_PER_BUNDLE} entries, ${fixed(perSecond, 0)} resources/s`,
    load: seeded.load,
    memory: fhir.server.memory(),
  };
}

/** `Observation.effectiveDateTime` -> its day `YYYY-MM-DD` and the next day. */
function dayWindow(dateTime: string): [string, string] {
  const day = dateTime.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return [day, next];
}

function queryPhases(seeded: BatchSeedResult): QueryPhase[] {
  const patients = seeded.patients;
  const withObs = patients.filter((p) => p.observations.length > 0);
  const loinc = (code: string) => encodeURIComponent(`${SYSTEM.loinc}|${code}`);
  const anyObservation = (rng: Random) => rng.pick(rng.pick(withObs).observations);
  const ref = (p: SeededPatient) => encodeURIComponent(p.ref);
  const id = (p: SeededPatient) => p.ref.slice(p.ref.indexOf('/') + 1);
  return [
    {
      name: 'token: Observation?code',
      kind: 'single',
      query: (r) => `Observation?code=${loinc(anyObservation(r).code)}`,
    },
    {
      name: 'reference: Observation?subject',
      kind: 'single',
      query: (r) => `Observation?subject=${ref(r.pick(patients))}`,
    },
    {
      name: 'date: Observation?date=ge&date=lt (1 day)',
      kind: 'single',
      query: (r) => {
        const [from, to] = dayWindow(anyObservation(r).date);
        return `Observation?date=ge${from}&date=lt${to}`;
      },
    },
    {
      name: 'string: Patient?name=prefix',
      kind: 'single',
      query: (r) => {
        const family = r.pick(patients).family;
        return `Patient?name=${encodeURIComponent(family.slice(0, Math.min(family.length, r.int(3, 5))))}`;
      },
    },
    {
      name: 'two: Observation?subject&code',
      kind: 'two',
      query: (r) => {
        const p = r.pick(withObs);
        return `Observation?subject=${ref(p)}&code=${loinc(r.pick(p.observations).code)}`;
      },
    },
    {
      name: 'two: Observation?patient&date=ge',
      kind: 'two',
      query: (r) => {
        const p = r.pick(withObs);
        return `Observation?patient=${ref(p)}&date=ge${dayWindow(r.pick(p.observations).date)[0]}`;
      },
    },
    {
      name: 'chained: Observation?subject:Patient.name&code',
      kind: 'chained-include',
      query: (r) => {
        const p = r.pick(withObs);
        const code = loinc(r.pick(p.observations).code);
        return `Observation?subject:Patient.name=${encodeURIComponent(p.family)}&code=${code}`;
      },
    },
    {
      name: '_include: Observation?subject&_include=Observation:subject',
      kind: 'chained-include',
      query: (r) => `Observation?subject=${ref(r.pick(patients))}&_include=Observation:subject`,
    },
    {
      name: '_revinclude: Patient?_id&_revinclude=Observation:subject',
      kind: 'chained-include',
      query: (r) => `Patient?_id=${id(r.pick(patients))}&_revinclude=Observation:subject`,
    },
    {
      name: 'count: Observation?code&_summary=count',
      kind: 'count',
      query: (r) => `Observation?code=${loinc(anyObservation(r).code)}&_summary=count`,
    },
  ];
}

function phaseKind(phase: PhaseReport): QueryKind | undefined {
  const prefix = phase.name.split(':')[0];
  if (['token', 'reference', 'date', 'string'].includes(prefix)) return 'single';
  if (prefix === 'two') return 'two';
  if (['chained', '_include', '_revinclude'].includes(prefix)) return 'chained-include';
  if (prefix === 'count') return 'count';
  if (prefix.startsWith('paging')) return 'paging';
  return undefined;
}

/** Warm-up (not recorded), then the measured run; memory is read when the phase ends. */
async function measureQueryPhase(
  query: QueryPhase,
  fhir: FhirServerHandle,
  options: BenchOptions,
  target: Target,
  samples?: { path: string; body: string }[],
): Promise<PhaseReport> {
  const rng = new Random(options.seed + query.name.length * 7919 + query.name.charCodeAt(0));
  const next = (): RequestSpec => {
    const requestPath = `${target.basePath}/${query.query(rng)}`;
    const keep = (response: HttpResponse) => {
      if (samples && response.status === 200 && samples.length < 2000 && rng.chance(0.2)) {
        samples.push({ path: requestPath, body: response.body.toString('utf8') });
      }
    };
    return { method: 'GET', path: requestPath, headers: { Accept: FHIR_JSON }, onResponse: keep };
  };
  const base = targetLoad(target, options, next);
  if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
  const load = await runLoad({ ...base, durationMs: options.durationMs });
  return { name: query.name, load, memory: fhir.server.memory() };
}

/**
 * Each connection walks `Observation?code=<common code>&_count=100` and then follows `next` 10 times, over and
 * over until the duration is up; every page is one request, every walk one "full walk" sample.
 */
async function measurePaging(
  seeded: BatchSeedResult,
  fhir: FhirServerHandle,
  options: BenchOptions,
  target: Target,
): Promise<PhaseReport[]> {
  const needed = PAGE_SIZE * (PAGES_FOLLOWED + 1);
  const ranked = [...seeded.codeCounts.entries()].sort((a, b) => b[1] - a[1]);
  const common = ranked.filter(([, count]) => count >= needed).map(([code]) => code);
  const codes = common.length > 0 ? common : ranked.slice(0, 1).map(([code]) => code);
  const rng = new Random(options.seed + 4242);
  if (options.warmupMs > 0) await walkLoad(target, options, options.warmupMs, codes, rng);
  const { pages, walks, shortWalks } = await walkLoad(target, options, options.durationMs, codes, rng);
  const memory = fhir.server.memory();
  const note =
    `${codes.length} code(s) with >= ${needed} Observations` +
    (common.length === 0 ? ` (none: most common code has ${ranked[0]?.[1] ?? 0})` : '') +
    (shortWalks > 0 ? `, ${shortWalks} walks ended early` : '');
  return [
    { name: `paging: per page (_count=${PAGE_SIZE})`, load: pages, memory, note },
    { name: `paging: full walk (1 + ${PAGES_FOLLOWED} next)`, load: walks, memory },
  ];
}

async function walkLoad(
  target: Target,
  options: Pick<BenchOptions, 'connections' | 'driver'>,
  durationMs: number,
  codes: string[],
  rng: Random,
): Promise<{ pages: LoadResult; walks: LoadResult; shortWalks: number }> {
  const pool = openConnections({
    host: target.host,
    port: target.port,
    connections: options.connections,
    driver: options.driver,
    authorization: target.authorization,
  });
  const pages = new LoadRecorder();
  const walkHistogram = new LatencyHistogram();
  let walkErrors = 0;
  let shortWalks = 0;
  const deadline = pages.startTime + durationMs;
  const page = async (connection: Connection, requestPath: string): Promise<string | undefined | null> => {
    const spec: RequestSpec = { method: 'GET', path: requestPath, headers: { Accept: FHIR_JSON } };
    const begin = performance.now();
    let response: HttpResponse;
    try {
      response = await connection.request(spec);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      pages.record(spec, code, performance.now() - begin, () => String(err));
      return null;
    }
    const body = response.body.toString('utf8');
    if (!pages.record(spec, response.status, performance.now() - begin, () => body)) return null;
    const bundle = JSON.parse(body) as { link?: { relation: string; url: string }[] };
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return undefined;
    const url = new URL(next, `http://${target.host}:${target.port}${target.basePath}/`);
    return `${url.pathname}${url.search}`;
  };
  const worker = async (connection: Connection) => {
    while (performance.now() < deadline) {
      const code = encodeURIComponent(`${SYSTEM.loinc}|${rng.pick(codes)}`);
      const begin = performance.now();
      let next = await page(connection, `${target.basePath}/Observation?code=${code}&_count=${PAGE_SIZE}`);
      let followed = 0;
      while (typeof next === 'string' && followed < PAGES_FOLLOWED) {
        next = await page(connection, next);
        followed++;
      }
      walkHistogram.recordMs(performance.now() - begin);
      if (next === null) walkErrors++;
      else if (followed < PAGES_FOLLOWED) shortWalks++;
    }
  };
  try {
    await Promise.all(pool.connections.map(worker));
  } finally {
    pool.close();
  }
  const pageResult = pages.result();
  const walkLatency = walkHistogram.summary();
  return {
    pages: pageResult,
    walks: {
      ...pageResult,
      requests: walkLatency.count,
      errors: walkErrors,
      requestsPerSecond: (walkLatency.count * 1000) / pageResult.durationMs,
      latency: walkLatency,
    },
    shortWalks,
  };
}

/** Bytes of the ix_* tables and their indexes vs the JSON of current versions, read-only, via dbstat. */
function measureIndexSize(file: string): IndexSize | undefined {
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const json = db
      .prepare(
        'SELECT COUNT(*) AS n, SUM(length(CAST(v.content AS BLOB))) AS bytes FROM versions v ' +
          'JOIN resources r ON r.rid = v.rid AND r.version = v.version WHERE r.deleted = 0',
      )
      .get() as { n: number; bytes: number | null };
    let byName: Record<string, number>;
    let method = 'dbstat';
    try {
      const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
        name: string;
        bytes: number;
      }[];
      byName = Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
    } catch {
      method = 'no dbstat: total file pages, not per table';
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      const pages = db.pragma('page_count', { simple: true }) as number;
      byName = { total: pageSize * pages };
    }
    const indexBytes = Object.entries(byName)
      .filter(([name]) => name.startsWith('ix_'))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    return { indexBytes, jsonBytes: json.bytes ?? 0, currentResources: json.n, byName, method };
  } finally {
    db.close();
  }
}

function medianBySize<T extends { body: string }>(samples: T[]): T | undefined {
  const sorted = [...samples].sort((a, b) => a.body.length - b.body.length);
  return sorted[Math.floor(sorted.length / 2)];
}

function targetChecks(phases: PhaseReport[], seeded: BatchSeedResult, index: IndexSize | undefined): TargetCheck[] {
  const ingest = (seeded.resourceCount * 1000) / Math.max(1, seeded.load.durationMs);
  const checks: TargetCheck[] = [
    {
      name: 'ingest resources/s (500-entry transactions)',
      value: fixed(ingest, 0),
      goal: `>= ${fixed(TARGET_INGEST_PER_SECOND, 0)}`,
      met: ingest >= TARGET_INGEST_PER_SECOND,
    },
  ];
  const p95Target = (kind: QueryKind, limit: number, label: string) => {
    for (const phase of phases.filter((p) => phaseKind(p) === kind)) {
      const p95 = phase.load.latency.p95Ms;
      checks.push({
        name: `${label}: ${phase.name.split(':')[0]} p95`,
        value: `${fixed(p95, 2)} ms`,
        goal: `<= ${limit} ms`,
        met: p95 <= limit,
      });
    }
  };
  p95Target('single', TARGET_SINGLE_P95_MS, 'single-parameter');
  p95Target('chained-include', TARGET_CHAINED_INCLUDE_P95_MS, 'chained/include');
  p95Target('count', TARGET_COUNT_P95_MS, '_summary=count');
  if (index && index.jsonBytes > 0 && index.method === 'dbstat') {
    const ratio = index.indexBytes / index.jsonBytes;
    checks.push({
      name: 'index size / current JSON',
      value: `${fixed(ratio, 2)}x`,
      goal: `<= ${TARGET_INDEX_RATIO}x`,
      met: ratio <= TARGET_INDEX_RATIO,
    });
  }
  // A failed walk is already counted by the page that failed.
  const errors = phases.filter((p) => !p.name.includes('full walk')).reduce((sum, p) => sum + p.load.errors, 0);
  checks.push({ name: 'errors (all phases)', value: String(errors), goal: '0', met: errors === 0 });
  return checks;
}

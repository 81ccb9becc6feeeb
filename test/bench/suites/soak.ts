// The soak suite: a mixed workload (reads, searches, creates, updates, transactions) held for minutes against the
// compiled server, measured one window at a time, so that a leak or a slow-down shows as a trend: throughput,
// p99 and server RSS per window, and flags when RSS keeps climbing or p99 or throughput drift.
import { referenceFromLocation, toTransactionBundle } from '../bundle';
import { generatePatientRecords } from '../generator';
import { runLoad, type HttpResponse, type LoadOptions, type RequestSpec } from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { FHIR_JSON, seedServer, targetLoad, type SeedResult, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, PhaseReport, SuiteReport, TargetCheck } from '../suite';
import { buildCreateBodies, editedBody, type CreateBody } from '../workload';

const WINDOW_MS = 60_000;
/** A run shorter than two minutes (a quick check) is cut into four windows instead, so a trend can still show. */
const SHORT_RUN_MS = 120_000;
const RSS_SAMPLE_MS = 5_000;
/** An RSS floor still climbing faster than this over the second half of the run suggests a leak. */
const MAX_RSS_SLOPE_MB_PER_MIN = 5;
/** p99 of the second half's windows against the first half's: a ratio above this is a slow-down. */
const MAX_P99_GROWTH = 2;
/** Throughput of the second half's windows against the first half's: below this is a slow-down. */
const MIN_THROUGHPUT_RATIO = 0.5;
const CREATE_POOL = 20_000;
const TRANSACTION_POOL = 200;
const REMEMBERED_CREATES = 10_000;

type Operation = 'read' | 'search' | 'create' | 'update' | 'transaction';

/** The mix, by share of requests. */
const MIX: readonly (readonly [Operation, number])[] = [
  ['read', 40],
  ['search', 25],
  ['create', 15],
  ['update', 15],
  ['transaction', 5],
];

export const soakSuite: BenchSuite = {
  name: 'soak',
  description: 'mixed reads/searches/creates/updates/transactions for --minutes (10); throughput, p99, RSS per minute',
  run: runSoakSuite,
};

interface RssSample {
  atMs: number;
  rssMb: number;
}

async function runSoakSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  // Backend-services tokens live at most 5 minutes and the driver's connections carry one fixed token, so a
  // longer run would turn into 401s: the soak runs without the token check (AUTH_DISABLED, loopback only).
  const fhir = await startFhirServer(options, port, { authDisabled: true });
  try {
    progress(`server pid ${fhir.server.pid} on port ${port}; seeding ${options.patients} patient records`);
    const seeded = await seedServer(fhir.target, {
      seed: options.seed,
      patients: options.patients,
      connections: Math.min(options.connections, 8),
    });
    const next = mixedRequests(fhir.target, options.seed, seeded);
    const base = targetLoad(fhir.target, options, next);
    if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
    const { phases, samples } = await soak(fhir, options.durationMs, base);
    return {
      suite: 'soak',
      phases,
      ceilings: [],
      targets: growthChecks(phases, samples),
      notes: [
        `mix: ${MIX.map(([op, share]) => `${share}% ${op}`).join(', ')}; ${options.connections} connections`,
        'server started with AUTH_DISABLED (backend tokens expire after 5 minutes; the driver cannot renew them)',
        `seeded ${seeded.resourceCount} resources in ${seeded.records.length} patient records; ` +
          `server RSS sampled every ${RSS_SAMPLE_MS / 1000} s (${samples.length} samples)`,
      ],
      extra: { rssSamples: samples },
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    await fhir.stop();
  }
}

/** Back-to-back windows of one minute (the last one shorter) with RSS sampled throughout. */
async function soak(
  fhir: FhirServerHandle,
  totalMs: number,
  base: Omit<LoadOptions, 'durationMs' | 'requests'>,
): Promise<{ phases: PhaseReport[]; samples: RssSample[] }> {
  const started = Date.now();
  const samples: RssSample[] = [];
  const sample = () => {
    const memory = fhir.server.memory();
    if (memory) samples.push({ atMs: Date.now() - started, rssMb: memory.rssMb });
  };
  sample();
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  const phases: PhaseReport[] = [];
  const windowMs = totalMs >= SHORT_RUN_MS ? WINDOW_MS : totalMs / 4;
  try {
    for (let elapsed = 0; elapsed < totalMs - 1000; elapsed = Date.now() - started) {
      const load = await runLoad({ ...base, durationMs: Math.min(windowMs, totalMs - elapsed) });
      const name = `${minutes(elapsed)}–${minutes(Date.now() - started)} min`;
      phases.push({ name, load, memory: fhir.server.memory() });
      progress(`${name}: ${fixed(load.requestsPerSecond, 0)} req/s, p99 ${fixed(load.latency.p99Ms, 1)} ms`);
    }
  } finally {
    clearInterval(timer);
  }
  sample();
  return { phases, samples };
}

/** The request generator: the mix drawn at random, each kind aimed at data the server holds. */
export function mixedRequests(target: Target, seed: number, seeded: SeedResult): LoadOptions['next'] {
  const rng = new Random(seed + 7);
  const resources = seeded.records.flatMap((r) => r.resources);
  if (resources.length === 0) throw new Error('the soak needs seeded resources');
  const patients = seeded.records.map((r) => r.patientRef);
  const created: string[] = [];
  const createBodies = buildCreateBodies(seed, seeded, CREATE_POOL);
  const transactions = transactionBodies(seed, seeded);
  let creates = 0;
  let revision = 0;
  const remember = (response: HttpResponse) => {
    const ref =
      response.status === 201 && response.headers.location && referenceFromLocation(response.headers.location);
    if (!ref) return;
    if (created.length >= REMEMBERED_CREATES) created[rng.int(0, REMEMBERED_CREATES - 1)] = ref;
    else created.push(ref);
  };
  const write = (method: 'POST' | 'PUT', path: string, body: string, onResponse?: RequestSpec['onResponse']) => ({
    method,
    path: path === '' ? target.basePath : `${target.basePath}/${path}`,
    body,
    headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
    onResponse,
  });
  const builders: Record<Operation, () => RequestSpec> = {
    read: () => {
      const ref = created.length > 0 && rng.chance(0.3) ? rng.pick(created) : rng.pick(resources).serverRef;
      return { method: 'GET', path: `${target.basePath}/${ref}`, headers: { Accept: FHIR_JSON } };
    },
    search: () => ({
      method: 'GET',
      path: `${target.basePath}/${searchQuery(rng, patients)}`,
      headers: { Accept: FHIR_JSON },
    }),
    create: () => {
      const body: CreateBody = createBodies[creates++ % createBodies.length];
      return write('POST', body.resourceType, body.json, remember);
    },
    update: () => {
      const chosen = rng.pick(resources);
      return write('PUT', chosen.serverRef, editedBody(chosen.body, ++revision));
    },
    transaction: () => write('POST', '', rng.pick(transactions)),
  };
  return () => builders[rng.weighted(MIX)]();
}

/** Searches of the kinds a clinical app makes: by patient, by code and date, by name, with an include. */
function searchQuery(rng: Random, patients: string[]): string {
  const patient = rng.pick(patients);
  const queries = [
    () => `Observation?subject=${patient}&_count=20`,
    () => `Observation?subject=${patient}&code=http://loinc.org|8867-4&date=ge2020-01-01`,
    () => `Encounter?patient=${patient}&_sort=-date&_count=10`,
    () => `Patient?name=${rng.pick(['smith', 'jo', 'an', 'mar', 'lee'])}&_count=20`,
    () => `Condition?patient=${patient}&_include=Condition:subject`,
    () => `Observation?subject=${patient}&_summary=count`,
  ];
  return rng.pick(queries)();
}

/** Whole patient records as transaction Bundles whose outside references resolve to seeded resources. */
function transactionBodies(seed: number, seeded: SeedResult): string[] {
  const bodies: string[] = [];
  const first = seeded.records.length + CREATE_POOL;
  for (const record of generatePatientRecords(seed, TRANSACTION_POOL, first)) {
    bodies.push(JSON.stringify(toTransactionBundle(record.resources, seeded.directory)));
  }
  return bodies;
}

/** Least-squares slope of RSS against time over the samples, in MB per minute. */
export function rssSlopeMbPerMinute(samples: RssSample[]): number {
  if (samples.length < 2) return 0;
  const xs = samples.map((s) => s.atMs / 60_000);
  const ys = samples.map((s) => s.rssMb);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  const covariance = xs.reduce((sum, x, i) => sum + (x - meanX) * (ys[i] - meanY), 0);
  const variance = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
  return variance === 0 ? 0 : covariance / variance;
}

/**
 * The lowest sample of each quarter of `samples`: RSS saws up and down with garbage collections and the page
 * cache, and a leak shows as a floor that keeps rising, which the peaks would exaggerate.
 */
export function floorSamples(samples: RssSample[], groups = 4): RssSample[] {
  if (samples.length < groups * 2) return samples;
  const size = samples.length / groups;
  return Array.from({ length: groups }, (_, g) =>
    samples.slice(Math.round(g * size), Math.round((g + 1) * size)).reduce((low, s) => (s.rssMb < low.rssMb ? s : low)),
  );
}

const minutes = (ms: number) => fixed(ms / 60_000, 1);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Growth over the second half of the run against the first: RSS slope, p99 and throughput. */
export function growthChecks(phases: PhaseReport[], samples: RssSample[]): TargetCheck[] {
  const lastAt = samples.length > 0 ? samples[samples.length - 1].atMs : 0;
  const slope = rssSlopeMbPerMinute(floorSamples(samples.filter((s) => s.atMs >= lastAt / 2)));
  const half = Math.ceil(phases.length / 2);
  const early = phases.slice(0, Math.max(1, phases.length - half));
  const late = phases.slice(phases.length - half);
  const p99 = (list: PhaseReport[]) => median(list.map((p) => p.load.latency.p99Ms));
  const rate = (list: PhaseReport[]) => median(list.map((p) => p.load.requestsPerSecond));
  const p99Growth = p99(early) > 0 ? p99(late) / p99(early) : 1;
  const throughput = rate(early) > 0 ? rate(late) / rate(early) : 1;
  const errors = phases.reduce((sum, p) => sum + p.load.errors, 0);
  return [
    {
      name: 'RSS floor slope over the second half',
      value: `${fixed(slope, 1)} MB/min`,
      goal: `<= ${MAX_RSS_SLOPE_MB_PER_MIN} MB/min`,
      met: slope <= MAX_RSS_SLOPE_MB_PER_MIN,
    },
    {
      name: 'p99, second half vs first half (medians of windows)',
      value: `${fixed(p99Growth, 2)}×`,
      goal: `<= ${MAX_P99_GROWTH}×`,
      met: p99Growth <= MAX_P99_GROWTH,
    },
    {
      name: 'throughput, second half vs first half',
      value: `${fixed(throughput, 2)}×`,
      goal: `>= ${MIN_THROUGHPUT_RATIO}×`,
      met: throughput >= MIN_THROUGHPUT_RATIO,
    },
    { name: 'errors (all windows)', value: String(errors), goal: '0', met: errors === 0 },
  ];
}

function progress(message: string): void {
  console.error(`[bench soak] ${message}`);
}

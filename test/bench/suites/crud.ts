// The crud suite: seed patient records by transaction, then measure creates, reads by id and updates over
// N keep-alive connections, and compare with the bare-HTTP and raw-SQLite ceilings measured right after.
import { referenceFromLocation } from '../bundle';
import { measureBareHttpCeiling, measureSqliteInsertCeiling, type InsertRow } from '../ceiling';
import { generatePatientRecords } from '../generator';
import { runLoad, type HttpResponse, type LoadOptions, type RequestSpec } from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { FHIR_JSON, seedServer, targetLoad, type SeedResult, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle, type MemoryUsage } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';
import { tokenRequestBodies, tokenRequests } from '../token-requests';
import { buildCreateBodies, editedBody, type CreateBody } from '../workload';

const TARGET_READ_RATIO = 0.6;
/** Reads with a bearer token against the same reads on a server with AUTH_DISABLED (issue 13). */
const TARGET_AUTH_READ_RATIO = 0.85;
/** Token requests signed before the token phase: more than its warm-up and run can use at 3,000/s. */
const TOKEN_REQUESTS_PER_SECOND_BOUND = 3000;
const TARGET_CREATES_PER_SECOND = 1500;
const TARGET_P99_MS = 25;
const SAMPLED_READ_BODIES = 500;
const MAX_SQLITE_CEILING_MS = 10_000;

export const crudSuite: BenchSuite = {
  name: 'crud',
  description: 'seed by transaction, then create / read by id / update; bare-HTTP and raw-SQLite ceilings',
  run: runCrudSuite,
};

interface Measured {
  phases: PhaseReport[];
  createBodies: CreateBody[];
  startupMemory?: MemoryUsage;
  /** a typical read response and the path it was read from */
  readSample?: { path: string; body: string };
  seeded: SeedResult;
}

async function runCrudSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const measured = await measureServer(options, port);
  progress('measuring ceilings: bare HTTP, raw SQLite inserts');
  const ceilings = await measureCeilings(options, port, measured);
  return {
    suite: 'crud',
    phases: measured.phases,
    ceilings,
    targets: targetChecks(measured.phases, ceilings),
    notes: [
      `seeded ${measured.seeded.records.length} patient records (${measured.seeded.resourceCount} resources) ` +
        `by ${measured.seeded.mode === 'transaction' ? 'transaction Bundles' : 'individual creates (no transactions)'}`,
      `server RSS after startup: ${measured.startupMemory ? fixed(measured.startupMemory.rssMb, 0) : '?'} MB`,
      `read ceiling body: ${measured.readSample ? Buffer.byteLength(measured.readSample.body) : '?'} bytes ` +
        `(median-size read response)`,
    ],
  };
}

async function measureServer(options: BenchOptions, port: number): Promise<Measured> {
  const fhir = await startFhirServer(options, port);
  const { target } = fhir;
  try {
    const startupMemory = fhir.server.memory();
    progress(`server pid ${fhir.server.pid} ready on port ${port}; seeding ${options.patients} patient records`);
    const seeded = await seedServer(target, {
      seed: options.seed,
      patients: options.patients,
      connections: Math.min(options.connections, 8),
    });
    const seedPhase = describeSeed(seeded, fhir);
    progress(`seeded ${seeded.resourceCount} resources; generating create bodies`);
    const poolSize = Math.min(60_000, Math.max(5_000, ((options.durationMs + options.warmupMs) / 1000) * 3_000));
    const createBodies = buildCreateBodies(options.seed, seeded, poolSize);
    const phase = (name: string, next: LoadOptions['next']) => {
      progress(`measuring ${name}s`);
      return measurePhase(name, fhir, options, target, next);
    };
    const created: string[] = [];
    const createPhase = await phase('create', createRequests(target, createBodies, created));
    const readSamples: { path: string; body: string }[] = [];
    const readPhase = await phase('read', readRequests(target, options.seed, seeded, created, readSamples));
    const updatePhase = await phase('update', updateRequests(target, options.seed, seeded));
    progress('signing client assertions for the token endpoint');
    const tokenBodies = await tokenRequestBodies(
      fhir.dataDir,
      fhir.baseUrl,
      Math.ceil(((options.durationMs + options.warmupMs) / 1000) * TOKEN_REQUESTS_PER_SECOND_BOUND),
    );
    const tokenPhase = await phase('token (client_credentials)', tokenRequests(tokenBodies));
    const readPhases = await measureReadsWithAndWithoutToken(options, port, fhir, seeded, created);
    return {
      phases: [seedPhase, createPhase, readPhase, updatePhase, tokenPhase, ...readPhases],
      startupMemory,
      createBodies,
      readSample: medianBySize(readSamples),
      seeded,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    await fhir.stop();
  }
}

const TOKEN_READS = 'read (token, fresh server)';
const OPEN_READS = 'read (no token, AUTH_DISABLED)';

/**
 * Reads with and without a token, each on a server freshly restarted on the same data (one with
 * AUTH_DISABLED), after the same warm-up, so that the ratio compares the token check and nothing else.
 */
async function measureReadsWithAndWithoutToken(
  options: BenchOptions,
  port: number,
  fhir: FhirServerHandle,
  seeded: SeedResult,
  created: string[],
): Promise<PhaseReport[]> {
  await fhir.server.stop();
  const phases: PhaseReport[] = [];
  for (const authDisabled of [false, true]) {
    progress(`restarting the server on the same data${authDisabled ? ' with AUTH_DISABLED' : ''}; measuring reads`);
    const server = await startFhirServer({ ...options, keepData: true }, port, { authDisabled, dataDir: fhir.dataDir });
    try {
      // A fresh process reads from the file until its cache is warm: the warm-up runs as long as the phase.
      const warm = { ...options, warmupMs: options.warmupMs + options.durationMs };
      const reads = readRequests(server.target, options.seed, seeded, created, []);
      const phase = await measurePhase('read', server, warm, server.target, reads);
      phases.push({ ...phase, name: authDisabled ? OPEN_READS : TOKEN_READS });
    } finally {
      await server.server.stop();
    }
  }
  return phases;
}

function describeSeed(seeded: SeedResult, fhir: FhirServerHandle): PhaseReport {
  const perRecord = Math.round(seeded.resourceCount / Math.max(1, seeded.records.length));
  const perSecond = (seeded.resourceCount * 1000) / Math.max(1, seeded.load.durationMs);
  const unit = seeded.mode === 'transaction' ? 'transactions' : 'records created one by one';
  return {
    name: 'seed',
    note: `${unit} of ~${perRecord} resources, ${fixed(perSecond, 0)} resources/s`,
    load: seeded.load,
    memory: fhir.server.memory(),
  };
}

function progress(message: string): void {
  console.error(`[bench crud] ${message}`);
}

/** Warm-up (not recorded), then the measured run; memory is read when the phase ends. */
async function measurePhase(
  name: string,
  fhir: FhirServerHandle,
  options: BenchOptions,
  target: Target,
  next: LoadOptions['next'],
): Promise<PhaseReport> {
  const base = targetLoad(target, options, next);
  if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
  const load = await runLoad({ ...base, durationMs: options.durationMs });
  return { name, load, memory: fhir.server.memory() };
}

function createRequests(target: Target, bodies: CreateBody[], created: string[]): LoadOptions['next'] {
  let n = 0;
  const remember = (response: HttpResponse) => {
    const location = response.headers.location;
    const ref = location ? referenceFromLocation(location) : undefined;
    if (response.status === 201 && ref) created.push(ref);
  };
  return () => {
    const body = bodies[n++ % bodies.length];
    return {
      method: 'POST',
      path: `${target.basePath}/${body.resourceType}`,
      body: body.json,
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
      onResponse: remember,
    };
  };
}

function readRequests(
  target: Target,
  seed: number,
  seeded: SeedResult,
  created: string[],
  samples: { path: string; body: string }[],
): LoadOptions['next'] {
  const refs = [...seeded.records.flatMap((r) => r.resources.map((s) => s.serverRef)), ...created];
  const rng = new Random(seed);
  return (): RequestSpec => {
    const path = `${target.basePath}/${rng.pick(refs)}`;
    const keep = (response: HttpResponse) => {
      if (response.status === 200 && samples.length < SAMPLED_READ_BODIES) {
        samples.push({ path, body: response.body.toString('utf8') });
      }
    };
    return { method: 'GET', path, headers: { Accept: FHIR_JSON }, onResponse: keep };
  };
}

function updateRequests(target: Target, seed: number, seeded: SeedResult): LoadOptions['next'] {
  const resources = seeded.records.flatMap((r) => r.resources);
  const rng = new Random(seed + 1);
  let revision = 0;
  return () => {
    const chosen = rng.pick(resources);
    return {
      method: 'PUT',
      path: `${target.basePath}/${chosen.serverRef}`,
      body: editedBody(chosen.body, ++revision),
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
    };
  };
}

function medianBySize<T extends { body: string }>(samples: T[]): T | undefined {
  const sorted = [...samples].sort((a, b) => a.body.length - b.body.length);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measureCeilings(options: BenchOptions, port: number, measured: Measured): Promise<CeilingReport[]> {
  const phase = (name: string) => measured.phases.find((p) => p.name === name)?.load.requestsPerSecond ?? 0;
  const sample = measured.readSample ?? fallbackReadSample(options.seed);
  const bare = await measureBareHttpCeiling(options, port, sample);
  const rows: InsertRow[] = measured.createBodies.map((b) => ({ type: b.resourceType, content: b.json }));
  const limits = { maxRows: 200_000, maxMs: Math.min(options.durationMs, MAX_SQLITE_CEILING_MS) };
  const full = measureSqliteInsertCeiling(rows, 'FULL', limits);
  const normal = measureSqliteInsertCeiling(rows, 'NORMAL', limits);
  return [
    {
      name: `bare HTTP GET (${bare.bodyBytes} B body, ${options.connections} connections)`,
      perSecond: bare.load.requestsPerSecond,
      unit: 'req/s',
      ours: { name: 'reads', perSecond: phase('read') },
      detail: { ...bare.load, bodyBytes: bare.bodyBytes, memory: bare.memory },
    },
    {
      name: 'raw SQLite single-row inserts, WAL, synchronous=FULL',
      perSecond: full.rowsPerSecond,
      unit: 'rows/s',
      ours: { name: 'creates', perSecond: phase('create') },
      detail: { ...full },
    },
    {
      name: 'raw SQLite single-row inserts, WAL, synchronous=NORMAL',
      perSecond: normal.rowsPerSecond,
      unit: 'rows/s',
      ours: { name: 'creates', perSecond: phase('create') },
      detail: { ...normal },
    },
  ];
}

/** Used only when no read succeeded: a generated Observation of typical size. */
function fallbackReadSample(seed: number): { path: string; body: string } {
  const [record] = generatePatientRecords(seed, 1);
  const observation = record.resources.find((r) => r.resourceType === 'Observation') ?? record.patient;
  const body = { ...observation, meta: { versionId: '1', lastUpdated: '2026-01-01T08:00:00.000Z' } };
  return { path: `/fhir/${observation.resourceType}/${observation.id}`, body: JSON.stringify(body) };
}

function targetChecks(phases: PhaseReport[], ceilings: CeilingReport[]): TargetCheck[] {
  const byName = (name: string) => phases.find((p) => p.name === name);
  const reads = byName('read')?.load.requestsPerSecond ?? 0;
  const bare = ceilings[0]?.perSecond ?? 0;
  const ratio = bare > 0 ? reads / bare : 0;
  const creates = byName('create')?.load.requestsPerSecond ?? 0;
  const openReads = byName(OPEN_READS)?.load.requestsPerSecond ?? 0;
  const tokenReads = byName(TOKEN_READS)?.load.requestsPerSecond ?? 0;
  const authRatio = openReads > 0 ? tokenReads / openReads : 0;
  const checks: TargetCheck[] = [
    {
      name: 'reads with a token vs without (AUTH_DISABLED)',
      value: `${fixed(authRatio * 100, 1)}%`,
      goal: `>= ${TARGET_AUTH_READ_RATIO * 100}%`,
      met: authRatio >= TARGET_AUTH_READ_RATIO,
    },
    {
      name: 'reads vs bare HTTP',
      value: `${fixed(ratio * 100, 1)}%`,
      goal: `>= ${TARGET_READ_RATIO * 100}%`,
      met: ratio >= TARGET_READ_RATIO,
    },
    {
      name: 'creates per second',
      value: fixed(creates, 0),
      goal: `>= ${fixed(TARGET_CREATES_PER_SECOND, 0)}`,
      met: creates >= TARGET_CREATES_PER_SECOND,
    },
  ];
  for (const name of ['create', 'read', 'update']) {
    const p99 = byName(name)?.load.latency.p99Ms ?? Infinity;
    checks.push({
      name: `${name} p99`,
      value: `${fixed(p99, 2)} ms`,
      goal: `< ${TARGET_P99_MS} ms`,
      met: p99 < TARGET_P99_MS,
    });
  }
  const errors = phases.reduce((sum, p) => sum + p.load.errors, 0);
  checks.push({ name: 'errors (all phases)', value: String(errors), goal: '0', met: errors === 0 });
  return checks;
}

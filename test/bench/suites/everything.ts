// The $everything suite: generated patient records (about 100 resources each) seeded by transactions, then
// Patient/[id]/$everything of random patients (p50/p95, resources/s), against two ceilings measured in the same
// run on the same records: the same resources read one by one by id, and bare compartment searches of each type.
import { performance } from 'node:perf_hooks';
import { compartmentParams } from '../../../resources/search/compartments';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { runLoad, type RequestSpec } from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { seedServer, targetLoad, type SeededRecord, type Target } from '../seed';
import { findFreePort, startFhirServer } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';

const EVERYTHING = 'Patient/$everything';
const READS = 'read by id';
const COMPARTMENT_SEARCHES = 'compartment type searches';
/** One page holds a whole generated record. */
const PAGE = 1000;
const TARGET_P95_MS = 100;
const TARGET_READ_RATIO = 1;

export const everythingSuite: BenchSuite = {
  name: 'everything',
  description: 'Patient/[id]/$everything of ~100-resource records vs reading the same resources by id',
  run: runEverythingSuite,
};

/** Resources per second a phase delivered, counted from the entries of its responses. */
interface Delivered {
  resources: number;
  startedAt: number;
}

async function runEverythingSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  try {
    progress(`seeding ${options.patients} patient records`);
    const seeded = await seedServer(fhir.target, {
      seed: options.seed,
      patients: options.patients,
      connections: options.connections,
    });
    progress(`seeded ${seeded.resourceCount} resources in ${seeded.records.length} records`);
    const records = seeded.records;
    await timed(options, fhir.target, everythingRequests(records, new Random(options.seed)), options.warmupMs);
    const phases: PhaseReport[] = [];
    const rates: Record<string, number> = {};
    const run = async (name: string, next: (delivered: Delivered) => (i: number) => RequestSpec) => {
      progress(`phase ${name}`);
      const delivered: Delivered = { resources: 0, startedAt: performance.now() };
      const load = await timed(options, fhir.target, next(delivered), options.durationMs);
      rates[name] = (delivered.resources * 1000) / Math.max(1, performance.now() - delivered.startedAt);
      phases.push({ name, load, memory: fhir.server.memory(), note: `${fixed(rates[name], 0)} resources/s` });
    };
    await run(EVERYTHING, (d) => everythingRequests(records, new Random(options.seed + 1), d));
    await run(READS, (d) => readRequests(records, new Random(options.seed + 2), d));
    await run(COMPARTMENT_SEARCHES, (d) => compartmentRequests(records, new Random(options.seed + 3), d));
    const ceilings = ceilingReports(rates);
    return {
      suite: everythingSuite.name,
      phases,
      ceilings,
      targets: targetChecks(phases, rates),
      notes: [
        `${seeded.records.length} records, ${fixed(seeded.resourceCount / Math.max(1, records.length), 1)} resources each on average`,
        `$everything asks for _count=${PAGE}, so one request returns a whole record (matches and supporting includes)`,
        'ceilings: the same records read resource by resource (GET [type]/[id]) and by one compartment search per type',
      ],
    };
  } finally {
    await fhir.stop();
  }
}

function timed(options: BenchOptions, target: Target, next: (i: number) => RequestSpec, durationMs: number) {
  return runLoad({ ...targetLoad(target, options, next), durationMs });
}

/** Entries in a Bundle's body, counted without parsing it. */
function entriesIn(body: Buffer): number {
  return body.toString('utf8').split('"fullUrl":').length - 1;
}

function get(path: string, onEntries?: (count: number) => void): RequestSpec {
  return {
    method: 'GET',
    path,
    headers: { Accept: 'application/fhir+json' },
    ...(onEntries ? { onResponse: (response) => response.status === 200 && onEntries(entriesIn(response.body)) } : {}),
  };
}

function everythingRequests(records: SeededRecord[], rng: Random, delivered?: Delivered) {
  return () => {
    const record = records[rng.int(0, records.length - 1)];
    return get(`/fhir/${record.patientRef}/$everything?_count=${PAGE}`, (n) => delivered && (delivered.resources += n));
  };
}

/** The record's resources one by one: the per-resource cost of the same data without the walk. */
function readRequests(records: SeededRecord[], rng: Random, delivered: Delivered) {
  return () => {
    const record = records[rng.int(0, records.length - 1)];
    const resource = record.resources[rng.int(0, record.resources.length - 1)];
    return {
      ...get(`/fhir/${resource.serverRef}`),
      onResponse: (response: { status: number }) => {
        if (response.status === 200) delivered.resources += 1;
      },
    };
  };
}

/** One search per type of a record, by the first parameter that puts the type in the Patient compartment. */
function compartmentRequests(records: SeededRecord[], rng: Random, delivered: Delivered) {
  const registry = SearchParameterRegistry.withBaseParameters();
  return () => {
    const record = records[rng.int(0, records.length - 1)];
    const types = [...record.refsByType.keys()].filter((type) => type !== 'Patient');
    const type = types[rng.int(0, types.length - 1)];
    const param = compartmentParams(registry, 'Patient', type)[0];
    return get(`/fhir/${type}?${param}=${record.patientRef}&_count=${PAGE}`, (n) => (delivered.resources += n));
  };
}

function ceilingReports(rates: Record<string, number>): CeilingReport[] {
  const ours = { name: '$everything resources/s', perSecond: rates[EVERYTHING] ?? 0 };
  return [
    { name: 'the same resources read by id', perSecond: rates[READS] ?? 0, unit: 'resources/s', ours, detail: {} },
    {
      name: 'compartment searches, one type per request',
      perSecond: rates[COMPARTMENT_SEARCHES] ?? 0,
      unit: 'resources/s',
      ours,
      detail: {},
    },
  ];
}

function targetChecks(phases: PhaseReport[], rates: Record<string, number>): TargetCheck[] {
  const p95 = phases.find((p) => p.name === EVERYTHING)?.load.latency.p95Ms ?? Infinity;
  const ratio = (rates[EVERYTHING] ?? 0) / Math.max(1, rates[READS] ?? 0);
  return [
    {
      name: '$everything p95',
      value: `${fixed(p95, 1)} ms`,
      goal: `<= ${TARGET_P95_MS} ms`,
      met: p95 <= TARGET_P95_MS,
    },
    {
      name: '$everything resources/s vs reads by id',
      value: `${fixed(ratio, 2)}x`,
      goal: `>= ${TARGET_READ_RATIO}x`,
      met: ratio >= TARGET_READ_RATIO,
    },
  ];
}

function progress(message: string): void {
  console.error(`[bench everything] ${message}`);
}

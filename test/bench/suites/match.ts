// The match suite: Patient/$match latency over a population of stored patients (--patients, e.g. 10,000),
// probed with the labelled duplicates and near-misses of test/resources/matching/dataset.ts, one request at
// a time; the ceiling is the same probes' blocking searches alone, sent as one batch Bundle of searches.
import type { Patient } from '@medplum/fhirtypes';
import { performance } from 'node:perf_hooks';
import { blockingSearches } from '../../../resources/matching/blocking';
import { patientFeatures } from '../../../resources/matching/features';
import { matchDataset } from '../../resources/matching/dataset';
import { LoadRecorder, openConnections, type Connection, type LoadResult, type RequestSpec } from '../load';
import { fixed } from '../report';
import { FHIR_JSON, type Target } from '../seed';
import { findFreePort, startFhirServer } from '../server-process';
import type { BenchOptions, BenchSuite, PhaseReport, SuiteReport } from '../suite';

const PATIENTS_PER_BUNDLE = 500;
const DUPLICATE_PROBES = 200;
const NEAR_MISS_PROBES = 100;
const WARMUP_PROBES = 50;

export const matchSuite: BenchSuite = {
  name: 'match',
  description: 'Patient/$match p50/p95 over --patients stored patients, against its blocking searches alone',
  run: runMatchSuite,
};

async function runMatchSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  const pool = openConnections({ ...fhir.target, connections: 1, driver: options.driver });
  const connection = pool.connections[0];
  try {
    progress(`generating ${options.patients} patients and ${DUPLICATE_PROBES + NEAR_MISS_PROBES} probes`);
    const data = matchDataset(options.seed, options.patients, DUPLICATE_PROBES, NEAR_MISS_PROBES);
    const seed = await seedPatients(connection, fhir.target, data.stored);
    const probes = data.probes.map((p) => p.patient);
    progress('warming up');
    await measure(connection, probes.slice(0, WARMUP_PROBES), (p) => [matchRequest(fhir.target, p)], 0);
    progress('measuring $match');
    const match = await measure(connection, probes, (p) => [matchRequest(fhir.target, p)], options.durationMs);
    progress('measuring the blocking searches alone');
    const blocking = await measure(connection, probes, (p) => blockingRequests(fhir.target, p), options.durationMs);
    return report(options, seed, match, blocking);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    pool.close();
    await fhir.stop();
  }
}

function progress(message: string): void {
  console.error(`[bench match] ${message}`);
}

/** Stores the patients by transaction Bundles of PUTs (their generated ids kept). */
async function seedPatients(connection: Connection, target: Target, patients: Patient[]): Promise<PhaseReport> {
  const recorder = new LoadRecorder();
  for (let i = 0; i < patients.length; i += PATIENTS_PER_BUNDLE) {
    const entry = patients.slice(i, i + PATIENTS_PER_BUNDLE).map((resource) => ({
      resource,
      request: { method: 'PUT', url: `Patient/${resource.id}` },
    }));
    const spec: RequestSpec = {
      method: 'POST',
      path: target.basePath,
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
      headers: { 'Content-Type': FHIR_JSON, Prefer: 'return=minimal' },
    };
    await send(connection, spec, recorder);
  }
  return { name: `seed ${patients.length} Patients`, load: recorder.result() };
}

/** One sample per probe: the time its requests take one after another; probes repeat until `durationMs`. */
async function measure(
  connection: Connection,
  probes: Patient[],
  requestsOf: (probe: Patient) => RequestSpec[],
  durationMs: number,
): Promise<LoadResult> {
  const recorder = new LoadRecorder();
  const deadline = performance.now() + durationMs;
  for (let i = 0; i < probes.length || performance.now() < deadline; i++) {
    const specs = requestsOf(probes[i % probes.length]);
    const start = performance.now();
    let status = 200;
    for (const spec of specs) status = Math.max(status, await sendStatus(connection, spec));
    recorder.record(specs[0], status, performance.now() - start, () => `status ${status}`);
  }
  return recorder.result();
}

async function send(connection: Connection, spec: RequestSpec, recorder: LoadRecorder): Promise<void> {
  const start = performance.now();
  const response = await connection.request(spec);
  recorder.record(spec, response.status, performance.now() - start, () => response.body.toString('utf8'));
}

async function sendStatus(connection: Connection, spec: RequestSpec): Promise<number> {
  return (await connection.request(spec)).status;
}

function matchRequest(target: Target, patient: Patient): RequestSpec {
  return {
    method: 'POST',
    path: `${target.basePath}/Patient/$match`,
    body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient }] }),
    headers: { 'Content-Type': FHIR_JSON },
  };
}

/** The probe's blocking searches in one batch Bundle: the same searches and one round trip, as $match makes. */
function blockingRequests(target: Target, patient: Patient): RequestSpec[] {
  const entry = blockingSearches(patient, patientFeatures(patient)).map((pairs) => ({
    request: { method: 'GET', url: `Patient?${new URLSearchParams(pairs).toString()}` },
  }));
  return [
    {
      method: 'POST',
      path: target.basePath,
      body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry }),
      headers: { 'Content-Type': FHIR_JSON },
    },
  ];
}

function report(options: BenchOptions, seed: PhaseReport, ours: LoadResult, ceiling: LoadResult): SuiteReport {
  const ratio = (a: number, b: number) => fixed(b > 0 ? a / b : 0, 2);
  return {
    suite: 'match',
    phases: [
      seed,
      { name: 'Patient/$match (one probe at a time)', load: ours },
      { name: 'blocking searches alone (one batch per probe)', load: ceiling },
    ],
    ceilings: [
      {
        name: "the probes' blocking searches alone, as one batch Bundle of searches per probe",
        perSecond: ceiling.requestsPerSecond,
        unit: 'probes/s',
        ours: { name: 'Patient/$match', perSecond: ours.requestsPerSecond },
        detail: { p50Ms: ceiling.latency.p50Ms, p95Ms: ceiling.latency.p95Ms },
      },
    ],
    targets: [],
    notes: [
      `${options.patients} stored patients; ${DUPLICATE_PROBES} duplicate and ${NEAR_MISS_PROBES} near-miss probes, ` +
        'one connection, one request at a time',
      `$match p50 ${fixed(ours.latency.p50Ms, 2)} ms, p95 ${fixed(ours.latency.p95Ms, 2)} ms; blocking searches ` +
        `alone p50 ${fixed(ceiling.latency.p50Ms, 2)} ms, p95 ${fixed(ceiling.latency.p95Ms, 2)} ms; ` +
        `$match / ceiling: p50 ${ratio(ours.latency.p50Ms, ceiling.latency.p50Ms)}x, ` +
        `p95 ${ratio(ours.latency.p95Ms, ceiling.latency.p95Ms)}x`,
    ],
  };
}

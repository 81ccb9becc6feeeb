// Seeds a running FHIR server with generated data (the directory, then one transaction Bundle per patient
// record) and remembers which server id each generated resource got, so later phases have real targets.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  localReference,
  referenceFromLocation,
  rewriteReferences,
  serverReferences,
  toTransactionBundle,
} from './bundle';
import { generateDirectory, generatePatientRecords, type PatientRecord } from './generator';
import { LatencyHistogram } from './histogram';
import { runLoad, sendRequest, type HttpResponse, type LoadOptions, type LoadResult, type RequestSpec } from './load';

export const FHIR_JSON = 'application/fhir+json';
const TRANSACTION_UNSUPPORTED = new Set([404, 405, 501]);

export interface Target {
  host: string;
  port: number;
  /** path prefix of the FHIR base, e.g. `/fhir` */
  basePath: string;
  /** `Bearer <token>` for a server that requires one */
  authorization?: string;
}

export interface SeededResource {
  /** `Type/id` on the server */
  serverRef: string;
  /** the resource as the server holds it: server id, references rewritten to server ids */
  body: Resource;
}

export interface SeededRecord {
  patientRef: string;
  /** server references of the record's resources, by resource type, in generation order */
  refsByType: Map<string, string[]>;
  resources: SeededResource[];
}

export interface SeedResult {
  /** local reference (`Type/generated-id`) -> server reference, for the directory */
  directory: Map<string, string>;
  records: SeededRecord[];
  resourceCount: number;
  /** one request per patient record: a transaction, or (when unsupported) that record's creates in order */
  load: LoadResult;
  mode: 'transaction' | 'individual';
}

/** Load options that send `next`'s requests to the target (with its token) over the suite's connections. */
export function targetLoad(
  target: Target,
  options: { connections: number; driver: LoadOptions['driver'] },
  next: LoadOptions['next'],
): Omit<LoadOptions, 'durationMs' | 'requests'> {
  return {
    host: target.host,
    port: target.port,
    authorization: target.authorization,
    connections: options.connections,
    driver: options.driver,
    next,
  };
}

/** Creates the directory and `patients` records (indexes 0..patients-1 of `seed`). */
export async function seedServer(
  target: Target,
  options: { seed: number; patients: number; connections: number },
): Promise<SeedResult> {
  const directory = generateDirectory(options.seed);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  try {
    const { known, mode } = await createDirectory(agent, target, directory.resources);
    const records: SeededRecord[] = [];
    const generated = generatePatientRecords(options.seed, options.patients);
    const load =
      mode === 'transaction'
        ? await seedByTransactions(target, options.connections, options.patients, generated, known, records)
        : await seedIndividually(agent, target, options.connections, generated, known, records);
    if (records.length === 0 && options.patients > 0) {
      throw new Error(`no patient record could be seeded: ${JSON.stringify(load.errorSamples, null, 1)}`);
    }
    const resourceCount = records.reduce((sum, r) => sum + r.resources.length, 0);
    return { directory: known, records, resourceCount, load, mode };
  } finally {
    agent.destroy();
  }
}

async function createDirectory(
  agent: http.Agent,
  target: Target,
  resources: Resource[],
): Promise<{ known: Map<string, string>; mode: SeedResult['mode'] }> {
  const response = await sendRequest(agent, target, transactionRequest(target, resources, new Map()));
  if (isOk(response.status))
    return { known: serverReferences(resources.map(localReference), parseBundle(response)), mode: 'transaction' };
  if (!TRANSACTION_UNSUPPORTED.has(response.status)) throw httpFailure('directory transaction', response);
  const known = new Map<string, string>();
  await createInOrder(agent, target, resources, known);
  return { known, mode: 'individual' };
}

function seedByTransactions(
  target: Target,
  connections: number,
  patients: number,
  generated: Iterator<PatientRecord>,
  known: ReadonlyMap<string, string>,
  records: SeededRecord[],
): Promise<LoadResult> {
  return runLoad({
    host: target.host,
    port: target.port,
    authorization: target.authorization,
    connections,
    requests: patients,
    next: () => {
      const record: PatientRecord = generated.next().value;
      const spec = transactionRequest(target, record.resources, known);
      spec.onResponse = (response) => {
        if (!isOk(response.status)) return;
        records.push(
          seededRecord(record, serverReferences(record.resources.map(localReference), parseBundle(response)), known),
        );
      };
      return spec;
    },
  });
}

/** Fallback for servers without transactions: each record's resources created one by one, records in parallel. */
async function seedIndividually(
  agent: http.Agent,
  target: Target,
  connections: number,
  generated: Iterator<PatientRecord>,
  known: ReadonlyMap<string, string>,
  records: SeededRecord[],
): Promise<LoadResult> {
  const histogram = new LatencyHistogram();
  const started = performance.now();
  const failures: string[] = [];
  const worker = async () => {
    for (let next = generated.next(); !next.done; next = generated.next()) {
      const record = next.value;
      const begin = performance.now();
      const refs = new Map(known);
      const failure = await createInOrder(agent, target, record.resources, refs).then(
        () => undefined,
        (err: Error) => err.message,
      );
      histogram.recordMs(performance.now() - begin);
      if (failure === undefined) records.push(seededRecord(record, refs, known));
      else failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const durationMs = performance.now() - started;
  const latency = histogram.summary();
  return {
    requests: latency.count,
    errors: failures.length,
    durationMs,
    requestsPerSecond: (latency.count * 1000) / durationMs,
    latency,
    statusCounts: {},
    errorSamples: failures
      .slice(0, 5)
      .map((detail) => ({ status: 'failed', method: 'POST', path: target.basePath, detail })),
  };
}

/** POSTs each resource after the ones it references, adding each new server reference to `known`. */
async function createInOrder(
  agent: http.Agent,
  target: Target,
  resources: readonly Resource[],
  known: Map<string, string>,
): Promise<void> {
  for (const resource of resources) {
    const body = rewriteReferences(resource, (ref) => known.get(ref) ?? ref);
    delete body.id;
    const response = await sendRequest(agent, target, {
      method: 'POST',
      path: `${target.basePath}/${resource.resourceType}`,
      body: JSON.stringify(body),
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
    });
    const location = response.headers.location;
    const serverRef = location ? referenceFromLocation(location) : undefined;
    if (!isOk(response.status) || !serverRef) throw httpFailure(`create ${resource.resourceType}`, response);
    known.set(localReference(resource), serverRef);
  }
}

function seededRecord(
  record: PatientRecord,
  created: ReadonlyMap<string, string>,
  directory: ReadonlyMap<string, string>,
): SeededRecord {
  const resolve = (ref: string) => created.get(ref) ?? directory.get(ref) ?? ref;
  const refsByType = new Map<string, string[]>();
  const resources: SeededResource[] = [];
  for (const resource of record.resources) {
    const serverRef = created.get(localReference(resource));
    if (!serverRef) continue;
    const body = { ...rewriteReferences(resource, resolve), id: serverRef.slice(serverRef.indexOf('/') + 1) };
    resources.push({ serverRef, body });
    refsByType.set(resource.resourceType, [...(refsByType.get(resource.resourceType) ?? []), serverRef]);
  }
  return { patientRef: resolve(localReference(record.patient)), refsByType, resources };
}

function transactionRequest(target: Target, resources: Resource[], known: ReadonlyMap<string, string>): RequestSpec {
  return {
    method: 'POST',
    path: target.basePath,
    body: JSON.stringify(toTransactionBundle(resources, known)),
    headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
  };
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseBundle(response: HttpResponse): Bundle {
  return JSON.parse(response.body.toString('utf8')) as Bundle;
}

function httpFailure(what: string, response: HttpResponse): Error {
  return new Error(`${what} failed with HTTP ${response.status}: ${response.body.toString('utf8').slice(0, 500)}`);
}

// Bulk ingest for the search suite: the directory in one transaction, then patient records grouped into
// transaction Bundles of about `entriesPerBundle` entries (several records each, built before the clock
// starts: prebuilt-bundles.ts), a few Bundles in flight, sent with `Prefer: return=minimal`. Keeps only what
// the search phases need to pick query values.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import http from 'node:http';
import { localReference, serverReferences, toTransactionBundle } from './bundle';
import { generateDirectory, generatePatientRecords } from './generator';
import { prebuildBundles, type PrebuiltBundle, type RecordSketch } from './prebuilt-bundles';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram';
import { sendRequest, type ErrorSample, type HttpResponse, type LoadResult, type RequestSpec } from './load';
import { FHIR_JSON, type Target } from './seed';

export interface SeededObservation {
  /** LOINC code */
  code: string;
  /** effectiveDateTime */
  date: string;
}

export interface SeededPatient {
  /** `Patient/<server id>` */
  ref: string;
  family: string;
  observations: SeededObservation[];
}

export interface BatchSeedResult {
  patients: SeededPatient[];
  resourceCount: number;
  /** Observations per LOINC code over the whole seed */
  codeCounts: Map<string, number>;
  /** one request per Bundle */
  load: LoadResult;
  bundles: number;
}

export async function seedInBatches(
  target: Target,
  options: { seed: number; patients: number; concurrency: number; entriesPerBundle: number },
): Promise<BatchSeedResult> {
  const known = await createDirectory(target, generateDirectory(options.seed).resources);
  const prebuilt = prebuildBundles(generatePatientRecords(options.seed, options.patients), {
    entriesPerBundle: options.entriesPerBundle,
    known,
  });
  const patients: SeededPatient[] = [];
  const codeCounts = new Map<string, number>();
  let resourceCount = 0;
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const histogram = new LatencyHistogram();
  const statusCounts: Record<string, number> = {};
  const errorSamples: ErrorSample[] = [];
  const started = performance.now();
  const send = async (bundle: PrebuiltBundle) => {
    const spec: RequestSpec = {
      method: 'POST',
      path: target.basePath,
      body: bundle.body,
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, Prefer: 'return=minimal' },
    };
    const begin = performance.now();
    let response: HttpResponse;
    try {
      response = await sendRequest(agent, { ...target, timeoutMs: 300_000 }, spec);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      histogram.recordMs(performance.now() - begin);
      statusCounts[code] = (statusCounts[code] ?? 0) + 1;
      errorSamples.push({ status: code, method: 'POST', path: target.basePath, detail: String(err) });
      return;
    }
    histogram.recordMs(performance.now() - begin);
    statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
    if (!isOk(response.status)) {
      const detail = response.body.toString('utf8').slice(0, 500);
      errorSamples.push({ status: response.status, method: 'POST', path: target.basePath, detail });
      return;
    }
    const created = serverReferences(bundle.locals, parseBundle(response));
    resourceCount += created.size;
    for (const record of bundle.records) {
      const summary = summarize(record, created);
      if (!summary) continue;
      patients.push(summary);
      for (const o of summary.observations) codeCounts.set(o.code, (codeCounts.get(o.code) ?? 0) + 1);
    }
  };
  const worker = async () => {
    while (next < prebuilt.length) await send(prebuilt[next++]);
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const durationMs = performance.now() - started;
  const latency = histogram.summary();
  const load: LoadResult = {
    requests: latency.count,
    errors: errorSamples.length,
    durationMs,
    requestsPerSecond: (latency.count * 1000) / durationMs,
    latency,
    statusCounts,
    errorSamples: errorSamples.slice(0, 5),
  };
  if (patients.length === 0 && options.patients > 0) {
    throw new Error(`no patient record could be seeded: ${JSON.stringify(load.errorSamples, null, 1)}`);
  }
  return { patients, resourceCount, codeCounts, load, bundles: prebuilt.length };
}

function summarize(record: RecordSketch, created: ReadonlyMap<string, string>): SeededPatient | undefined {
  const ref = created.get(record.patient);
  if (!ref) return undefined;
  const observations = record.observations
    .filter((o) => created.has(o.local))
    .map(({ code, date }) => ({ code, date }));
  return { ref, family: record.family, observations };
}

async function createDirectory(target: Target, resources: Resource[]): Promise<Map<string, string>> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const response = await sendRequest(agent, target, {
      method: 'POST',
      path: target.basePath,
      body: JSON.stringify(toTransactionBundle(resources)),
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON },
    });
    if (!isOk(response.status)) {
      throw new Error(`directory transaction failed with HTTP ${response.status}: ${response.body.toString('utf8')}`);
    }
    return serverReferences(resources.map(localReference), parseBundle(response));
  } finally {
    agent.destroy();
  }
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseBundle(response: HttpResponse): Bundle {
  return JSON.parse(response.body.toString('utf8')) as Bundle;
}

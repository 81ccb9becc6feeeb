// The export suite: seeds N Patients (`--patients N`) into a child server by 500-entry transactions, runs a
// system-level `$export?_type=Patient` through kick-off, status polling and every file download, sampling the
// server's RSS meanwhile, and compares the rate with its ceiling: a bare `store.scan` of the same data
// in this process (no search, no NDJSON, no HTTP).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../../../resources/store';
import type { ResourceStore } from '../../../resources/store/port';
import { fixed } from '../report';
import { processTokens } from '../../support/process-token';
import { FHIR_JSON, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, SuiteReport, TargetCheck } from '../suite';

const ENTRIES_PER_BUNDLE = 500;
const POLL_MS = 200;
const SCAN_PAGE = 1000;

export const exportSuite: BenchSuite = {
  name: 'export',
  description: 'bulk $export of N Patients (--patients N): resources/s and server RSS vs a bare store.scan',
  run: runExportSuite,
};

interface ExportRun {
  seconds: number;
  exported: number;
  files: number;
  bytes: number;
  baselineRssMb?: number;
  peakRssMb?: number;
}

async function runExportSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hms-bench-export-'));
  const fhir = await startFhirServer(options, port, { dataDir });
  const renew = await processTokens(dataDir, fhir.baseUrl);
  fhir.target.authorization = `Bearer ${await renew()}`;
  tokenSources.set(fhir.target, renew);
  let run: ExportRun;
  try {
    progress(`seeding ${options.patients} Patients`);
    await seed(fhir.target, options.patients);
    progress('exporting');
    run = await exportOnce(fhir);
  } finally {
    await fhir.server.stop();
  }
  const ceiling = await scanCeiling(dataDir);
  if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  const perSecond = run.exported / run.seconds;
  const ceilings: CeilingReport[] = [
    {
      name: 'bare store.scan of Patient, in process',
      perSecond: ceiling.perSecond,
      unit: 'resources/s',
      ours: { name: '$export end to end (kick-off, job, downloads)', perSecond },
      detail: { scanned: ceiling.scanned, seconds: fixed(ceiling.seconds, 2) },
    },
  ];
  const targets: TargetCheck[] = [
    {
      name: 'every resource exported',
      value: String(run.exported),
      goal: String(options.patients),
      met: run.exported === options.patients,
    },
  ];
  return {
    suite: exportSuite.name,
    phases: [],
    ceilings,
    targets,
    notes: [
      `${run.exported} Patients in ${run.files} files (${fixed(run.bytes / 1e6, 1)} MB) in ${fixed(run.seconds, 2)} s: ` +
        `${fixed(perSecond, 0)} resources/s, ${fixed(perSecond / ceiling.perSecond, 3)} of the bare scan`,
      `server RSS ${fixed(run.baselineRssMb ?? 0, 0)} MB before the export, peak ${fixed(run.peakRssMb ?? 0, 0)} MB during it`,
    ],
    extra: { run, ceiling },
  };
}

async function seed(target: Target, patients: number): Promise<void> {
  for (let done = 0; done < patients; done += ENTRIES_PER_BUNDLE) {
    const count = Math.min(ENTRIES_PER_BUNDLE, patients - done);
    const entry = Array.from({ length: count }, (_, i) => ({
      resource: {
        resourceType: 'Patient',
        name: [{ family: `Family${done + i}`, given: ['Bench'] }],
        gender: (done + i) % 2 ? 'female' : 'male',
        birthDate: '1970-01-01',
        identifier: [{ system: 'urn:bench', value: String(done + i) }],
      },
      request: { method: 'POST', url: 'Patient' },
    }));
    const res = await send(
      target,
      'POST',
      '/',
      { Accept: FHIR_JSON, 'Content-Type': FHIR_JSON },
      JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
    );
    if (res.status !== 200) throw new Error(`seed transaction answered ${res.status}`);
  }
}

async function exportOnce(fhir: FhirServerHandle): Promise<ExportRun> {
  const { target } = fhir;
  const baselineRssMb = fhir.server.memory()?.rssMb;
  let peakRssMb = baselineRssMb ?? 0;
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, fhir.server.memory()?.rssMb ?? 0)), 100);
  const started = performance.now();
  try {
    const kick = await send(target, 'GET', '/$export?_type=Patient', { Accept: FHIR_JSON, Prefer: 'respond-async' });
    if (kick.status !== 202) throw new Error(`kick-off answered ${kick.status}: ${kick.body}`);
    const status = new URL(kick.headers['content-location'] as string).pathname.replace(target.basePath, '');
    let manifest: { output: { url: string; count: number }[] } | undefined;
    while (!manifest) {
      const res = await send(target, 'GET', status, { Accept: 'application/json' });
      if (res.status === 200) manifest = JSON.parse(res.body) as typeof manifest;
      else if (res.status === 202) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      else throw new Error(`status answered ${res.status}: ${res.body}`);
    }
    let bytes = 0;
    for (const file of manifest.output) {
      const res = await send(target, 'GET', new URL(file.url).pathname.replace(target.basePath, ''), {});
      bytes += Buffer.byteLength(res.body);
    }
    const seconds = (performance.now() - started) / 1000;
    const exported = manifest.output.reduce((sum, f) => sum + f.count, 0);
    return { seconds, exported, files: manifest.output.length, bytes, baselineRssMb, peakRssMb };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * The physical ceiling: walking the same Patients with the store's own scan, parsing nothing; best of two
 * passes, as the first one also pays for reading the file the server left cold.
 */
async function scanCeiling(dataDir: string): Promise<{ perSecond: number; scanned: number; seconds: number }> {
  const store = await openStore({ dataDir });
  try {
    const passes = [await scanOnce(store), await scanOnce(store)];
    return passes.reduce((best, pass) => (pass.perSecond > best.perSecond ? pass : best));
  } finally {
    await store.close();
  }
}

async function scanOnce(store: ResourceStore): Promise<{ perSecond: number; scanned: number; seconds: number }> {
  const started = performance.now();
  let scanned = 0;
  let after: string | undefined;
  do {
    const page = await store.scan('Patient', { after, count: SCAN_PAGE });
    scanned += page.entries.length;
    after = page.next;
  } while (after);
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: scanned / seconds, scanned, seconds };
}

/** One client's fresh tokens, per target: a million Patients outlast a backend token (5 minutes). */
const tokenSources = new WeakMap<Target, () => Promise<string>>();

/** A request; a 401 (the token expired) gets a new token of the same client and one retry. */
async function send(
  target: Target,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const res = await sendOnce(target, method, pathAndQuery, headers, body);
  const renew = tokenSources.get(target);
  if (res.status !== 401 || !renew) return res;
  target.authorization = `Bearer ${await renew()}`;
  return sendOnce(target, method, pathAndQuery, headers, body);
}

function sendOnce(
  target: Target,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        method,
        path: `${target.basePath}${pathAndQuery}`,
        headers: { ...headers, ...(target.authorization ? { Authorization: target.authorization } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function progress(message: string): void {
  process.stderr.write(`export: ${message}\n`);
}

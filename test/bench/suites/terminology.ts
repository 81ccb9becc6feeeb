// The terminology suite: a hospital loads a 100,000-concept CodeSystem (a LOINC-like lab subset) and a
// ValueSet over it through the API, then typeahead `$expand?filter=` (count 20), `$validate-code` and
// `$lookup` run over N keep-alive connections. Ceilings measured in the same run: a bare in-memory
// word-prefix scan of the same 100,000 displays in this process, and bare HTTP serving a typical answer.
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { measureBareHttpCeiling } from '../ceiling';
import { LatencyHistogram } from '../histogram';
import { runLoad, sendRequest, type HttpResponse, type RequestSpec } from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { FHIR_JSON, targetLoad, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';

const CONCEPTS = 100_000;
const SYSTEM_URL = 'http://hospital.example/fhir/CodeSystem/lab-subset';
const VALUE_SET_URL = 'http://hospital.example/fhir/ValueSet/lab-subset-all';
const TYPEAHEAD_COUNT = 20;
const TARGET_FILTERED_EXPAND_P95_MS = 50;
const SCAN_SAMPLES = 2000;
const SETTLE_MS = 6000;

const ANALYTES = [
  'Hemoglobin',
  'Glucose',
  'Creatinine',
  'Sodium',
  'Potassium',
  'Chloride',
  'Bicarbonate',
  'Urea nitrogen',
  'Calcium',
  'Magnesium',
  'Phosphate',
  'Albumin',
  'Bilirubin',
  'Alanine aminotransferase',
  'Aspartate aminotransferase',
  'Alkaline phosphatase',
  'Cholesterol',
  'Triglyceride',
  'Thyrotropin',
  'Thyroxine',
  'Ferritin',
  'Iron',
  'Transferrin',
  'Vitamin B12',
  'Folate',
  'Troponin I',
  'Troponin T',
  'Natriuretic peptide B',
  'Lactate',
  'Lipase',
  'Amylase',
  'Leukocytes',
  'Erythrocytes',
  'Platelets',
  'Neutrophils',
  'Lymphocytes',
  'Monocytes',
  'Eosinophils',
  'Basophils',
  'Prothrombin time',
  'Fibrinogen',
  'D-dimer',
  'C reactive protein',
  'Procalcitonin',
  'Hemoglobin A1c',
  'Insulin',
  'Cortisol',
  'Testosterone',
  'Estradiol',
  'Prolactin',
  'Urate',
  'Ammonia',
  'Osmolality',
  'Ketones',
  'Protein',
  'Immunoglobulin G',
  'Immunoglobulin M',
  'Complement C3',
  'Rheumatoid factor',
  'Antinuclear antibodies',
];
const PROPERTIES = ['Mass/volume', 'Moles/volume', 'Number/volume', 'Presence', 'Mass fraction', 'Catalytic activity'];
const SPECIMENS = ['Serum or Plasma', 'Blood', 'Urine', 'Cerebral spinal fluid', 'Arterial blood', 'Capillary blood'];
const METHODS = ['', 'by Immunoassay', 'by Automated count', 'by Test strip', 'by Calculation', 'by Electrophoresis'];

interface GeneratedConcept {
  code: string;
  display: string;
}

export const terminologySuite: BenchSuite = {
  name: 'terminology',
  description: `typeahead $expand over a ${CONCEPTS}-concept CodeSystem, $validate-code, $lookup`,
  run: runTerminologySuite,
};

interface ServerRun {
  phases: PhaseReport[];
  /** a typeahead answer, for the bare-HTTP ceiling */
  sample: { path: string; body: string };
  loadMs: number;
  firstExpandMs: number;
}

async function runTerminologySuite(options: BenchOptions): Promise<SuiteReport> {
  const concepts = generateConcepts(options.seed);
  const port = options.port ?? (await findFreePort(options.host));
  const { phases, sample, loadMs, firstExpandMs } = await measureServer(options, port, concepts);
  progress('measuring the in-memory scan ceiling');
  const scan = measureScanCeiling(concepts, options.seed);
  progress('measuring the bare HTTP ceiling');
  const bare = await measureBareHttpCeiling(options, port, sample);
  const ceilings: CeilingReport[] = [
    scanCeiling(scan, phases[0]),
    {
      name: `bare HTTP GET (${bare.bodyBytes} B body, a typeahead answer)`,
      perSecond: bare.load.requestsPerSecond,
      unit: 'req/s',
      ours: { name: phases[0].name, perSecond: phases[0].load.requestsPerSecond },
      detail: { ...bare.load, bodyBytes: bare.bodyBytes },
    },
  ];
  return {
    suite: 'terminology',
    phases,
    ceilings,
    targets: targetChecks(phases),
    notes: [
      `CodeSystem of ${CONCEPTS} generated LOINC-like concepts (${ANALYTES.length} analytes x properties x specimens ` +
        `x methods, numbered) created by PUT in ${fixed(loadMs / 1000, 1)} s, with a ValueSet including all of it`,
      `first $expand (search + parse + index build): ${fixed(firstExpandMs, 0)} ms`,
      `in-memory scan ceiling (this process, no HTTP, no JSON): p50 ${fixed(scan.p50Ms, 2)} ms, p95 ` +
        `${fixed(scan.p95Ms, 2)} ms per filter over the ${CONCEPTS} folded displays`,
      `typeahead filters: a 2-5 letter prefix of a random concept's word, half of them followed by a second word's prefix; count=${TYPEAHEAD_COUNT}`,
    ],
    extra: { scan },
  };
}

async function measureServer(options: BenchOptions, port: number, concepts: GeneratedConcept[]): Promise<ServerRun> {
  const fhir = await startFhirServer(options, port);
  try {
    progress(`server pid ${fhir.server.pid} ready; loading ${CONCEPTS} concepts`);
    const loadMs = await loadTerminology(fhir.target, concepts);
    const begin = performance.now();
    const sample = await firstExpand(fhir.target, concepts);
    const firstExpandMs = performance.now() - begin;
    // For a few seconds after a write, lookups of a url re-search it (stored-lookup.ts): measure after that.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const phases: PhaseReport[] = [];
    for (const phase of requestPhases(concepts)) {
      progress(`measuring ${phase.name}`);
      phases.push(await measurePhase(phase, fhir, options));
    }
    return { phases, sample, loadMs, firstExpandMs };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    await fhir.stop();
  }
}

function progress(message: string): void {
  console.error(`[bench terminology] ${message}`);
}

function generateConcepts(seed: number): GeneratedConcept[] {
  const rng = new Random(seed);
  return Array.from({ length: CONCEPTS }, (_, i) => {
    const method = rng.pick(METHODS);
    const display =
      `${rng.pick(ANALYTES)} ${i % 97} [${rng.pick(PROPERTIES)}] in ${rng.pick(SPECIMENS)}` +
      (method ? ` ${method}` : '');
    return { code: `${10000 + i}-${i % 10}`, display };
  });
}

function request(target: Target, spec: RequestSpec): Promise<HttpResponse> {
  const agent = new http.Agent({ keepAlive: false });
  return sendRequest(agent, { ...target, timeoutMs: 300_000 }, spec).finally(() => agent.destroy());
}

async function put(target: Target, path: string, resource: CodeSystem | ValueSet): Promise<void> {
  const response = await request(target, {
    method: 'PUT',
    path: `${target.basePath}/${path}`,
    body: JSON.stringify(resource),
    headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, Prefer: 'return=minimal' },
  });
  if (response.status >= 300) throw new Error(`PUT ${path}: ${response.status} ${response.body.toString('utf8')}`);
}

async function loadTerminology(target: Target, concepts: GeneratedConcept[]): Promise<number> {
  const begin = performance.now();
  await put(target, 'CodeSystem/lab-subset', {
    resourceType: 'CodeSystem',
    id: 'lab-subset',
    url: SYSTEM_URL,
    version: '1',
    status: 'active',
    content: 'complete',
    caseSensitive: true,
    concept: concepts,
  });
  await put(target, 'ValueSet/lab-subset-all', {
    resourceType: 'ValueSet',
    id: 'lab-subset-all',
    url: VALUE_SET_URL,
    status: 'active',
    compose: { include: [{ system: SYSTEM_URL }] },
  });
  return performance.now() - begin;
}

/** The first expansion builds the index; its answer is also the bare-HTTP sample. */
async function firstExpand(target: Target, concepts: GeneratedConcept[]): Promise<{ path: string; body: string }> {
  const path = expandPath(typeaheadFilter(new Random(1), concepts));
  const response = await request(target, { method: 'GET', path, headers: { Accept: FHIR_JSON } });
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${response.body.toString('utf8')}`);
  return { path, body: response.body.toString('utf8') };
}

function expandPath(filter: string): string {
  const url = encodeURIComponent(VALUE_SET_URL);
  return `/fhir/ValueSet/$expand?url=${url}&filter=${encodeURIComponent(filter)}&count=${TYPEAHEAD_COUNT}`;
}

function typeaheadFilter(rng: Random, concepts: GeneratedConcept[]): string {
  const words = rng
    .pick(concepts)
    .display.split(/[\s[\]/]+/)
    .filter((w) => /^[A-Za-z]{2,}/.test(w));
  const first = words[rng.int(0, words.length - 1)];
  const prefix = first.slice(0, rng.int(2, Math.min(5, first.length)));
  if (!rng.chance(0.5) || words.length < 2) return prefix;
  const second = rng.pick(words.filter((w) => w !== first));
  return `${prefix} ${second.slice(0, rng.int(1, Math.min(4, second.length)))}`;
}

interface RequestPhase {
  name: string;
  path: (rng: Random) => string;
}

function requestPhases(concepts: GeneratedConcept[]): RequestPhase[] {
  const system = encodeURIComponent(SYSTEM_URL);
  return [
    {
      name: `$expand filter (typeahead, count=${TYPEAHEAD_COUNT})`,
      path: (r) => expandPath(typeaheadFilter(r, concepts)),
    },
    {
      name: '$expand unfiltered page (offset, count=100)',
      path: (r) => `/fhir/ValueSet/$expand?url=${encodeURIComponent(VALUE_SET_URL)}&offset=${r.int(0, CONCEPTS - 100)}`,
    },
    {
      name: 'ValueSet/$validate-code',
      path: (r) =>
        `/fhir/ValueSet/$validate-code?url=${encodeURIComponent(VALUE_SET_URL)}&system=${system}` +
        `&code=${encodeURIComponent(r.pick(concepts).code)}`,
    },
    {
      name: 'CodeSystem/$lookup',
      path: (r) => `/fhir/CodeSystem/$lookup?system=${system}&code=${encodeURIComponent(r.pick(concepts).code)}`,
    },
  ];
}

async function measurePhase(phase: RequestPhase, fhir: FhirServerHandle, options: BenchOptions): Promise<PhaseReport> {
  const rng = new Random(options.seed + phase.name.length * 7919);
  const next = (): RequestSpec => ({ method: 'GET', path: phase.path(rng), headers: { Accept: FHIR_JSON } });
  const base = targetLoad(fhir.target, options, next);
  if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
  const load = await runLoad({ ...base, durationMs: options.durationMs });
  return { name: phase.name, load, memory: fhir.server.memory() };
}

/** The same filters matched by a plain word-prefix scan over pre-folded displays: the cost no server avoids. */
interface ScanCeiling {
  p50Ms: number;
  p95Ms: number;
  perSecond: number;
  /** mean concepts a filter matched, to compare with what the server had to rank */
  meanMatches: number;
}

function measureScanCeiling(concepts: GeneratedConcept[], seed: number): ScanCeiling {
  const fold = (text: string) =>
    ` ${text
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, ' ')
      .trim()}`;
  const folded = concepts.map((c) => fold(c.display));
  const rng = new Random(seed + 11);
  const histogram = new LatencyHistogram();
  const begin = performance.now();
  let matched = 0;
  for (let i = 0; i < SCAN_SAMPLES; i++) {
    const words = fold(typeaheadFilter(rng, concepts))
      .split(' ')
      .filter(Boolean)
      .map((w) => ` ${w}`);
    const start = performance.now();
    for (const text of folded) if (words.every((w) => text.includes(w))) matched++;
    histogram.recordMs(performance.now() - start);
  }
  const seconds = (performance.now() - begin) / 1000;
  const summary = histogram.summary();
  return {
    p50Ms: summary.p50Ms,
    p95Ms: summary.p95Ms,
    perSecond: SCAN_SAMPLES / seconds,
    meanMatches: matched / SCAN_SAMPLES,
  };
}

function scanCeiling(scan: ScanCeiling, ours: PhaseReport): CeilingReport {
  return {
    name: `bare in-memory word-prefix scan of ${CONCEPTS} displays (one thread, no HTTP)`,
    perSecond: scan.perSecond,
    unit: 'scans/s',
    ours: { name: ours.name, perSecond: ours.load.requestsPerSecond },
    detail: { ...scan, oursP50Ms: ours.load.latency.p50Ms, oursP95Ms: ours.load.latency.p95Ms },
  };
}

function targetChecks(phases: PhaseReport[]): TargetCheck[] {
  const expand = phases[0];
  return [
    {
      name: `${expand.name} p95`,
      value: `${fixed(expand.load.latency.p95Ms, 1)} ms`,
      goal: `< ${TARGET_FILTERED_EXPAND_P95_MS} ms`,
      met: expand.load.latency.p95Ms < TARGET_FILTERED_EXPAND_P95_MS && expand.load.errors === 0,
    },
    ...phases.map((phase) => ({
      name: `${phase.name}: no errors`,
      value: String(phase.load.errors),
      goal: '0',
      met: phase.load.errors === 0,
    })),
  ];
}

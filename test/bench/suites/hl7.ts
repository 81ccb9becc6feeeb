// The hl7 suite: ORU^R01 lab results (10 OBX each) over MLLP from 1 and from 4 connections, one message at a
// time per connection waiting for its ACK (original mode): ACK latency and messages/s, then the end-to-end
// rate to searchable Observations (first send to last message applied), beside the ceiling of a bare MLLP
// echo server (the bridge's own listener answering a fixed ACK) loaded by the same driver in the same run.
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runMllpLoad, type MllpLoadResult } from '../hl7/mllp-load';
import {
  OBX_PER_ORU,
  RESOURCES_PER_ORU,
  OruFactory,
  adtA04,
  benchPatients,
  v2Time,
  type BenchPatient,
} from '../hl7/messages';
import { cpuSince, processCpu, type CpuTimes } from '../hl7/process-cpu';
import { sendRequest } from '../load';
import { fixed } from '../report';
import { FHIR_JSON, type Target } from '../seed';
import { ChildServer, findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';

/** Connection counts measured, as in the issue: one analyser, and four senders at once. */
const CONNECTION_COUNTS = [1, 4] as const;
const REGISTER_CONNECTIONS = 4;
const TARGET_ACK_P99_MS = 20;
const TARGET_ORU_PER_SECOND = 300;
const DRAIN_POLL_MS = 250;
const DRAIN_TIMEOUT_MS = 15 * 60_000;
const CHANNEL = 'default';

export const hl7Suite: BenchSuite = {
  name: 'hl7',
  description: 'ORU^R01 (10 OBX) over MLLP from 1 and 4 connections: ACK latency, end-to-end rate; bare-MLLP ceiling',
  run: runHl7Suite,
};

/** One bridge phase: the ACKs as the driver saw them, and when the bridge had applied the last message. */
interface BridgeRun {
  connections: number;
  load: MllpLoadResult;
  /** server time (ms) the last message of the phase was applied */
  lastProcessedAt: number;
  /** ORUs ACKed AA in the warm-up before the phase */
  warmupAccepted: number;
  /** messages the channel counted as processed / errored during the phase (warm-up excluded) */
  processed: number;
  errored: number;
  endToEndPerSecond: number;
  drainMs: number;
  /** server CPU per message processed, from the first send to the drain (receive, ACK, apply; Linux only) */
  cpuPerOru?: CpuTimes;
}

interface Verification {
  /** ORUs ACKed AA over the run (warm-ups included): each must have written a report and 10 Observations */
  orus: number;
  observations: number;
  reports: number;
  orphanTasks: number;
  patients: number;
  /** Observations found by subject for the first registered patient, and the ORUs sent about them */
  firstPatientObservations: number;
  firstPatientExpected: number;
  countMs: number;
}

async function runHl7Suite(options: BenchOptions): Promise<SuiteReport> {
  const patients = benchPatients(options.seed, options.patients);
  progress('measuring the ceiling: bare MLLP echo server');
  const ceilingRuns = await measureBareMllp(options, patients);
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  const phases: PhaseReport[] = ceilingRuns.map(({ connections, load, memory }) => ({
    name: `bare MLLP echo (ceiling), ${connections} connection${connections > 1 ? 's' : ''}`,
    load,
    memory,
  }));
  const bridgeRuns: BridgeRun[] = [];
  let verification: Verification;
  const startupMemory = fhir.server.memory();
  try {
    progress(`server pid ${fhir.server.pid} ready (HTTP ${port}, MLLP ${fhir.mllpPort}); registering patients`);
    phases.push(await registerPatients(options, fhir, patients));
    const factory = new OruFactory(options.seed + 1, patients, 'ORU');
    let sent = 0;
    const next = () => factory.build(sent++);
    for (const connections of CONNECTION_COUNTS) {
      progress(`measuring ORU^R01 over ${connections} connection(s)`);
      const run = await measureBridge(options, fhir, connections, next);
      bridgeRuns.push(run);
      phases.push({
        name: `ORU^R01 to the bridge, ${connections} connection${connections > 1 ? 's' : ''}`,
        note:
          `end to end ${fixed(run.endToEndPerSecond, 0)} ORU/s = ` +
          `${fixed(run.endToEndPerSecond * RESOURCES_PER_ORU, 0)} resources/s, drained ${fixed(run.drainMs, 0)} ms ` +
          `after the last ACK${cpuNote(run.cpuPerOru)}`,
        load: run.load,
        memory: fhir.server.memory(),
      });
    }
    progress('verifying with FHIR searches that the results are stored, linked and searchable');
    const orus = bridgeRuns.reduce((sum, r) => sum + r.warmupAccepted + r.load.accepted, 0);
    verification = await verify(fhir, patients, orus, sent);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    await fhir.stop();
  }
  const ceilings = ceilingReports(ceilingRuns, bridgeRuns);
  return {
    suite: 'hl7',
    phases,
    ceilings,
    targets: targetChecks(phases, bridgeRuns, verification),
    notes: [
      `ORU^R01 v2.5.1: 1 OBR + ${OBX_PER_ORU} OBX NM (LOINC codes, UCUM units, ranges), ~${factoryBytes(options, patients)} ` +
        `bytes; each with its own MSH-10 and OBR-3, patients round-robin over the ${patients.length} registered by ADT^A04`,
      `connections are 1 and 4 for every MLLP phase (--connections is not used); each sends one message and waits ` +
        `for its ACK (original mode); the default channel ACKs after the durable store and applies them in order per patient, up to 4 patients at once`,
      'end to end = messages ACKed in the phase / (first send to the moment the bridge applied the last one, from ' +
        "the message store's updatedAt); resources/s = that x " +
        `${RESOURCES_PER_ORU} (DiagnosticReport + ${OBX_PER_ORU} Observations)`,
      `searchable: Observation?_summary=count = ${verification.observations} (expected ${verification.orus * OBX_PER_ORU}), ` +
        `DiagnosticReport ${verification.reports} (expected ${verification.orus}), Patient ${verification.patients}, ` +
        `orphan Tasks ${verification.orphanTasks}, ` +
        `Observation?subject=<first patient> ${verification.firstPatientObservations} ` +
        `(expected ${verification.firstPatientExpected}); counts took ${fixed(verification.countMs, 0)} ms`,
      'server CPU per ORU (Linux /proc, from the first send to the drain, polling included): every thread, and the ' +
        'main thread alone, which receives, ACKs and applies; messages/s and latencies depend on what else the ' +
        'machine runs, CPU per message much less',
      `server RSS after startup: ${startupMemory ? fixed(startupMemory.rssMb, 0) : '?'} MB`,
    ],
    extra: {
      bridge: bridgeRuns.map(({ load: _load, ...rest }) => rest),
      verification,
    },
  };
}

function cpuNote(cpu: CpuTimes | undefined): string {
  if (!cpu) return '';
  return `; server CPU ${fixed(cpu.totalMs, 1)} ms/ORU, event loop ${fixed(cpu.mainMs, 1)}`;
}

function progress(message: string): void {
  console.error(`[bench hl7] ${message}`);
}

function factoryBytes(options: BenchOptions, patients: BenchPatient[]): number {
  return Buffer.byteLength(new OruFactory(options.seed, patients, 'SIZE').build(0).text);
}

/** The bare MLLP echo server as a child process, loaded from 1 and from 4 connections after a warm-up each. */
async function measureBareMllp(
  options: BenchOptions,
  patients: BenchPatient[],
): Promise<{ connections: number; load: MllpLoadResult; memory: PhaseReport['memory'] }[]> {
  const port = await findFreePort(options.host);
  const server = await ChildServer.start({
    script: path.join(__dirname, '..', 'hl7', 'bare-mllp-server.js'),
    args: [String(port), options.host],
    host: options.host,
    port,
    startTimeoutMs: 10_000,
  });
  try {
    const factory = new OruFactory(options.seed + 1, patients, 'BARE');
    let sent = 0;
    const runs = [];
    for (const connections of CONNECTION_COUNTS) {
      const base = {
        host: options.host,
        port,
        connections,
        checkControlId: false,
        next: () => factory.build(sent++),
      };
      if (options.warmupMs > 0) await runMllpLoad({ ...base, durationMs: options.warmupMs });
      const load = await runMllpLoad({ ...base, durationMs: options.durationMs });
      runs.push({ connections, load, memory: server.memory() });
    }
    return runs;
  } finally {
    await server.stop();
  }
}

/** ADT^A04 for every patient over 4 connections, then waits until the bridge has applied them all. */
async function registerPatients(
  options: BenchOptions,
  fhir: FhirServerHandle,
  patients: BenchPatient[],
): Promise<PhaseReport> {
  const time = v2Time(new Date());
  const load = await runMllpLoad({
    host: options.host,
    port: fhir.mllpPort,
    connections: Math.min(REGISTER_CONNECTIONS, patients.length),
    messages: patients.length,
    checkControlId: true,
    next: (i) => {
      const controlId = `ADT-${i}`;
      return { controlId, text: adtA04(patients[i], controlId, time) };
    },
  });
  const drained = await drain(fhir, load);
  const total = await count(fhir.target, 'Patient?_summary=count');
  if (total !== patients.length) {
    throw new Error(`${patients.length} ADT^A04 sent but the server holds ${total} Patients`);
  }
  const perSecond = (patients.length * 1000) / Math.max(1, drained.lastProcessedAt - load.firstSendAt);
  return {
    name: `register patients (ADT^A04, ${REGISTER_CONNECTIONS} connections)`,
    note: `${patients.length} Patients searchable, end to end ${fixed(perSecond, 0)} ADT/s`,
    load,
    memory: fhir.server.memory(),
  };
}

/**
 * Warm-up (not recorded) and its drain, then the measured sends; after the last ACK, waits until the channel's
 * queue is empty and takes the time the last message was applied from the message store.
 */
async function measureBridge(
  options: BenchOptions,
  fhir: FhirServerHandle,
  connections: number,
  next: () => { controlId: string; text: string },
): Promise<BridgeRun> {
  const base = { host: options.host, port: fhir.mllpPort, connections, checkControlId: true, next };
  let warmupAccepted = 0;
  if (options.warmupMs > 0) {
    const warm = await runMllpLoad({ ...base, durationMs: options.warmupMs });
    await drain(fhir, warm);
    warmupAccepted = warm.accepted;
  }
  const before = await channelStatus(fhir);
  const cpuBefore = processCpu(fhir.server.pid);
  const load = await runMllpLoad({ ...base, durationMs: options.durationMs });
  const drained = await drain(fhir, load);
  const cpu = cpuSince(cpuBefore, processCpu(fhir.server.pid));
  const after = drained.status;
  const processed = after.processed - before.processed;
  const errored = after.errored - before.errored;
  const elapsedMs = Math.max(1, drained.lastProcessedAt - load.firstSendAt);
  return {
    connections,
    load,
    lastProcessedAt: drained.lastProcessedAt,
    warmupAccepted,
    processed,
    errored,
    endToEndPerSecond: (processed * 1000) / elapsedMs,
    drainMs: Math.max(0, drained.lastProcessedAt - load.lastAckAt),
    ...(cpu && processed > 0
      ? { cpuPerOru: { mainMs: cpu.mainMs / processed, totalMs: cpu.totalMs / processed } }
      : {}),
  };
}

interface ChannelCounters {
  processed: number;
  errored: number;
  queued: number;
}

async function channelStatus(fhir: FhirServerHandle): Promise<ChannelCounters> {
  const body = (await getJson(fhir.target, '/admin/hl7/status')) as {
    channels?: (ChannelCounters & { id: string; direction: string })[];
  };
  const channel = body.channels?.find((c) => c.id === CHANNEL && c.direction === 'inbound');
  if (!channel) throw new Error(`GET /admin/hl7/status has no inbound channel "${CHANNEL}": ${JSON.stringify(body)}`);
  return channel;
}

/** Polls the channel status until nothing is queued, then reads when the newest processed message was applied. */
async function drain(
  fhir: FhirServerHandle,
  load: MllpLoadResult,
): Promise<{ status: ChannelCounters; lastProcessedAt: number }> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  let lastReport = performance.now();
  for (;;) {
    const status = await channelStatus(fhir);
    if (status.queued === 0) {
      const [newest] = (await getJson(
        fhir.target,
        `/admin/hl7/messages?channel=${CHANNEL}&direction=in&status=processed,error&count=1`,
      )) as { updatedAt: string }[];
      const lastProcessedAt = newest ? Date.parse(newest.updatedAt) : load.lastAckAt;
      return { status, lastProcessedAt: Math.max(lastProcessedAt, load.firstSendAt) };
    }
    if (performance.now() > deadline) throw new Error(`the bridge still has ${status.queued} messages queued`);
    if (performance.now() - lastReport > 10_000) {
      progress(`waiting for the bridge: ${status.queued} messages queued`);
      lastReport = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}

/** Counts by FHIR search: everything the ORUs wrote is found by the search parameters a client would use. */
async function verify(
  fhir: FhirServerHandle,
  patients: BenchPatient[],
  orus: number,
  built: number,
): Promise<Verification> {
  const begin = performance.now();
  const observations = await count(fhir.target, 'Observation?_summary=count');
  const reports = await count(fhir.target, 'DiagnosticReport?_summary=count');
  const orphanTasks = await count(
    fhir.target,
    `Task?code=${encodeURIComponent('urn:hms:task|hl7-unmatched')}&_summary=count`,
  );
  const patientCount = await count(fhir.target, 'Patient?_summary=count');
  const mrn = encodeURIComponent(`urn:hms:v2:BENCHHOSP|${patients[0].mrn}`);
  const found = (await getJson(fhir.target, `/fhir/Patient?identifier=${mrn}`)) as {
    entry?: { resource: { id: string } }[];
  };
  const firstId = found.entry?.[0]?.resource.id;
  const firstPatientObservations = firstId
    ? await count(fhir.target, `Observation?subject=Patient/${firstId}&_summary=count`)
    : 0;
  return {
    orus,
    observations,
    reports,
    orphanTasks,
    patients: patientCount,
    firstPatientObservations,
    firstPatientExpected: Math.ceil(built / patients.length) * OBX_PER_ORU,
    countMs: performance.now() - begin,
  };
}

async function count(target: Target, query: string): Promise<number> {
  const body = (await getJson(target, `${target.basePath}/${query}`)) as { total?: number };
  if (typeof body.total !== 'number') throw new Error(`${query} answered no total: ${JSON.stringify(body)}`);
  return body.total;
}

const agent = new http.Agent({ keepAlive: false });

async function getJson(target: Target, requestPath: string): Promise<unknown> {
  const response = await sendRequest(agent, target, {
    method: 'GET',
    path: requestPath,
    headers: { Accept: requestPath.startsWith('/admin') ? 'application/json' : FHIR_JSON },
  });
  const text = response.body.toString('utf8');
  if (response.status !== 200) throw new Error(`GET ${requestPath}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

function ceilingReports(
  ceilingRuns: { connections: number; load: MllpLoadResult }[],
  bridgeRuns: BridgeRun[],
): CeilingReport[] {
  const reports: CeilingReport[] = [];
  for (const { connections, load } of ceilingRuns) {
    const ours = bridgeRuns.find((r) => r.connections === connections);
    const label = `${connections} connection${connections > 1 ? 's' : ''}`;
    const detail = { ...load };
    reports.push({
      name: `bare MLLP echo, fixed ACK (${label})`,
      perSecond: load.requestsPerSecond,
      unit: 'msg/s',
      ...(ours ? { ours: { name: 'ORU ACKs', perSecond: ours.load.requestsPerSecond } } : {}),
      detail,
    });
    if (ours) {
      reports.push({
        name: `bare MLLP echo, fixed ACK (${label})`,
        perSecond: load.requestsPerSecond,
        unit: 'msg/s',
        ours: { name: 'ORU end to end', perSecond: ours.endToEndPerSecond },
        detail,
      });
    }
  }
  return reports;
}

function targetChecks(phases: PhaseReport[], runs: BridgeRun[], verification: Verification): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const run of runs) {
    const label = `${run.connections} connection${run.connections > 1 ? 's' : ''}`;
    checks.push({
      name: `ORU ACK p99, ${label}`,
      value: `${fixed(run.load.latency.p99Ms, 2)} ms`,
      goal: `<= ${TARGET_ACK_P99_MS} ms`,
      met: run.load.latency.p99Ms <= TARGET_ACK_P99_MS,
    });
    checks.push({
      name: `ORU/s mapped and stored (end to end), ${label}`,
      value: `${fixed(run.endToEndPerSecond, 0)} (${fixed(run.endToEndPerSecond * RESOURCES_PER_ORU, 0)} resources/s)`,
      goal: `>= ${TARGET_ORU_PER_SECOND} (${fixed(TARGET_ORU_PER_SECOND * RESOURCES_PER_ORU, 0)})`,
      met: run.endToEndPerSecond >= TARGET_ORU_PER_SECOND,
    });
    checks.push({
      name: `processed = ACKed AA, ${label}`,
      value: `${run.processed} of ${run.load.accepted} (${run.errored} errored)`,
      goal: 'all, 0 errored',
      met: run.processed === run.load.accepted && run.errored === 0,
    });
  }
  const expected = verification.orus * OBX_PER_ORU;
  checks.push({
    name: 'Observations searchable (Observation?_summary=count)',
    value: String(verification.observations),
    goal: `= ${expected}`,
    met: verification.observations === expected && verification.reports === verification.orus,
  });
  checks.push({
    name: 'results linked to their patient (no orphan Tasks)',
    value: String(verification.orphanTasks),
    goal: '0',
    met: verification.orphanTasks === 0 && verification.firstPatientObservations === verification.firstPatientExpected,
  });
  const errors = phases.reduce((sum, p) => sum + p.load.errors, 0);
  checks.push({ name: 'errors (all phases)', value: String(errors), goal: '0', met: errors === 0 });
  return checks;
}

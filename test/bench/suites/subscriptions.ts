// The subscriptions suite: Encounter creates over N connections, first with no subscription, then with 1,000
// active topic subscriptions (one per patient, `patient=Patient/...`, id-only rest-hook to a receiver in this
// process), so every create notifies one subscriber. Reported: the create rate with subscriptions as a ratio of
// the rate without (the cost of matching and delivery), and the notification latency (write sent to
// notification received) at a paced 500 creates/s and at full load.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram, type LatencySummary } from '../histogram';
import { runLoad, type LoadOptions } from '../load';
import { fixed } from '../report';
import { FHIR_JSON, targetLoad, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, PhaseReport, SuiteReport, TargetCheck } from '../suite';

const SUBSCRIPTIONS = 1000;
const PACED_PER_SECOND = 500;
const TARGET_RATIO = 0.8;
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const TOPIC = 'http://hms.local/fhir/SubscriptionTopic/encounter';

export const subscriptionsSuite: BenchSuite = {
  name: 'subscriptions',
  description: 'Encounter creates without and with 1,000 topic subscriptions; notification latency p50/p99',
  run: runSubscriptionsSuite,
};

/** Receives notifications and records, per Encounter id, how long after its create was sent it arrived. */
class Receiver {
  latency = new LatencyHistogram();
  readonly sentAt = new Map<string, number>();
  received = 0;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      res.writeHead(200).end();
      for (const [, id] of Buffer.concat(chunks)
        .toString('utf8')
        .matchAll(/\/Encounter\/(bench-[^"/]+)"/g)) {
        const sent = this.sentAt.get(id);
        if (sent === undefined) continue;
        this.sentAt.delete(id);
        this.received++;
        this.latency.recordMs(now - sent);
      }
    });
  });

  async start(host: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function runSubscriptionsSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  const receiver = new Receiver();
  try {
    const endpoint = await receiver.start(options.host);
    progress(`creating ${SUBSCRIPTIONS} patients`);
    await putPatients(fhir.target);
    let sequence = 0;
    const creates =
      (phase: string): LoadOptions['next'] =>
      () => {
        const i = sequence++;
        const id = `bench-${phase}-${i}`;
        receiver.sentAt.set(id, performance.now());
        return encounterPut(fhir.target, id, i % SUBSCRIPTIONS);
      };
    progress('measuring creates without subscriptions');
    const without = await measure('create, no subscription', fhir, options, creates('a'));
    receiver.sentAt.clear();
    progress(`creating ${SUBSCRIPTIONS} subscriptions`);
    await subscribe(fhir.target, endpoint);
    progress('measuring creates with subscriptions');
    const received = receiver.received;
    const withSubscriptions = await measure(`create, ${SUBSCRIPTIONS} subscriptions`, fhir, options, creates('b'));
    await settle(receiver);
    const fullLoadLatency = receiver.latency.summary();
    const deliveredAtFullLoad = receiver.received - received;
    progress(`measuring notification latency at ${PACED_PER_SECOND} creates/s`);
    const paced = await pacedCreates(fhir.target, receiver, options.durationMs);
    const ratio = withSubscriptions.load.requestsPerSecond / without.load.requestsPerSecond;
    return {
      suite: 'subscriptions',
      phases: [without, withSubscriptions, paced.phase],
      ceilings: [
        {
          name: 'creates without subscriptions (same server, same run)',
          perSecond: without.load.requestsPerSecond,
          unit: 'creates/s',
          ours: {
            name: `creates with ${SUBSCRIPTIONS} subscriptions`,
            perSecond: withSubscriptions.load.requestsPerSecond,
          },
          detail: {},
        },
      ],
      targets: [check('create rate with subscriptions / without', ratio, TARGET_RATIO)],
      notes: [
        `notification latency at ${fixed(paced.rate, 0)} creates/s: p50 ${fixed(paced.latency.p50Ms, 1)} ms, ` +
          `p99 ${fixed(paced.latency.p99Ms, 1)} ms (${paced.latency.count} notifications)`,
        `notification latency at full load: p50 ${fixed(fullLoadLatency.p50Ms, 1)} ms, ` +
          `p99 ${fixed(fullLoadLatency.p99Ms, 1)} ms (${deliveredAtFullLoad} notifications)`,
      ],
    };
  } finally {
    await receiver.close();
    await fhir.stop();
  }
}

function check(name: string, value: number, goal: number): TargetCheck {
  return { name, value: `${fixed(value * 100, 0)}%`, goal: `>= ${fixed(goal * 100, 0)}%`, met: value >= goal };
}

async function measure(
  name: string,
  fhir: FhirServerHandle,
  options: BenchOptions,
  next: LoadOptions['next'],
): Promise<PhaseReport> {
  const base = targetLoad(fhir.target, options, next);
  if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
  const load = await runLoad({ ...base, durationMs: options.durationMs });
  return { name, load, memory: fhir.server.memory() };
}

/** Creates at a steady rate (one request every 2 ms), so latency is measured below saturation. */
async function pacedCreates(
  target: Target,
  receiver: Receiver,
  durationMs: number,
): Promise<{ phase: PhaseReport; latency: LatencySummary; rate: number }> {
  receiver.latency = new LatencyHistogram();
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  const writeLatency = new LatencyHistogram();
  let i = 0;
  let errors = 0;
  while (performance.now() - started < durationMs) {
    const due = started + (i * 1000) / PACED_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `bench-c-${i}`;
    const spec = encounterPut(target, id, i % SUBSCRIPTIONS);
    const sent = performance.now();
    receiver.sentAt.set(id, sent);
    pending.push(
      fetch(`http://${target.host}:${target.port}${spec.path}`, {
        method: 'PUT',
        headers: spec.headers,
        body: spec.body as string,
      }).then(
        async (res) => {
          await res.arrayBuffer();
          if (!res.ok) errors++;
          writeLatency.recordMs(performance.now() - sent);
        },
        () => errors++,
      ),
    );
    i++;
  }
  await Promise.all(pending);
  await settle(receiver);
  const elapsed = performance.now() - started;
  const write = writeLatency.summary();
  return {
    phase: {
      name: `create, paced at ${PACED_PER_SECOND}/s`,
      load: {
        requests: i,
        errors,
        durationMs: elapsed,
        requestsPerSecond: (i * 1000) / elapsed,
        latency: write,
        statusCounts: {},
        errorSamples: [],
      },
    },
    latency: receiver.latency.summary(),
    rate: (i * 1000) / elapsed,
  };
}

/** Waits until the notifications of what was sent have come (or stopped coming for a second). */
async function settle(receiver: Receiver): Promise<void> {
  let last = -1;
  while (receiver.sentAt.size > 0 && receiver.received !== last) {
    last = receiver.received;
    await new Promise((r) => setTimeout(r, 1000));
  }
  receiver.sentAt.clear();
}

function encounterPut(target: Target, id: string, patient: number) {
  return {
    method: 'PUT' as const,
    path: `${target.basePath}/Encounter/${id}`,
    headers: { 'content-type': FHIR_JSON, prefer: 'return=minimal', ...auth(target) },
    body: JSON.stringify({
      resourceType: 'Encounter',
      id,
      status: 'arrived',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/bench-p${patient}` },
    }),
  };
}

function auth(target: Target): Record<string, string> {
  return target.authorization ? { authorization: target.authorization } : {};
}

async function post(target: Target, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://${target.host}:${target.port}${target.basePath}${path}`, {
    method: 'POST',
    headers: { 'content-type': FHIR_JSON, prefer: 'return=minimal', ...auth(target) },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status}`);
}

async function putPatients(target: Target): Promise<void> {
  const entry = Array.from({ length: SUBSCRIPTIONS }, (_, i) => ({
    resource: { resourceType: 'Patient', id: `bench-p${i}`, name: [{ family: `Bench${i}` }] },
    request: { method: 'PUT', url: `Patient/bench-p${i}` },
  }));
  await post(target, '', { resourceType: 'Bundle', type: 'transaction', entry });
}

async function subscribe(target: Target, endpoint: string): Promise<void> {
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    await post(target, '/Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'bench',
      criteria: TOPIC,
      _criteria: {
        extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: `patient=Patient/bench-p${i}` }],
      },
      channel: {
        type: 'rest-hook',
        endpoint,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
      },
    });
  }
}

function progress(message: string): void {
  process.stderr.write(`[subscriptions] ${message}\n`);
}

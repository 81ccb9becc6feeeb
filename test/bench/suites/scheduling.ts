// The scheduling suite: --patients practitioners (200 by default) with weekday hours and a year of 30-minute
// slots each, laid out by Schedule/$generate-slots; then, over N connections, a clerk's booking again and
// again: `Appointment/$find` for one practitioner in a two-week window, then `$book` of the first proposal.
// The ceiling is what a client would do without the operations, on the same server in the same run: the
// plain Slot search, then a transaction Bundle of the Slot PUT (If-Match) and the Appointment POST. Each
// connection books its own practitioners, so the measured books do not race each other (races are tested).
import { performance } from 'node:perf_hooks';
import type { Appointment, Bundle, Slot } from '@medplum/fhirtypes';
import { SLOT_MINUTES_URL, TIME_ZONE_URL } from '../../../resources/scheduling/schedule-definition';
import { LoadRecorder, openConnections, type Connection, type LoadResult, type RequestSpec } from '../load';
import { Random } from '../random';
import { fixed } from '../report';
import { FHIR_JSON, type Target } from '../seed';
import { findFreePort, startFhirServer, type FhirServerHandle } from '../server-process';
import type { BenchOptions, BenchSuite, CeilingReport, PhaseReport, SuiteReport, TargetCheck } from '../suite';

const DAY_MS = 86_400_000;
const SPECIALTIES = [
  '394579002',
  '394582007',
  '394589003',
  '394591006',
  '394592004',
  '394593009',
  '394594003',
  '394597005',
  '394600006',
  '394801008',
];
const GENERATING_AT_ONCE = 4;
const WINDOW_DAYS = 14;
const TARGET_BOOK_P99_MS = 50;

export const schedulingSuite: BenchSuite = {
  name: 'scheduling',
  description: '$find + $book at N connections over --patients practitioners with a year of slots each',
  run: runSchedulingSuite,
};

function progress(message: string): void {
  console.error(`[bench scheduling] ${message}`);
}

/** Midnight UTC of the next Monday: the year of slots starts there. */
function nextMonday(): number {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const weekday = new Date(today).getUTCDay();
  return today + ((8 - weekday) % 7 || 7) * DAY_MS;
}

async function runSchedulingSuite(options: BenchOptions): Promise<SuiteReport> {
  const port = options.port ?? (await findFreePort(options.host));
  const fhir = await startFhirServer(options, port);
  const practitioners = options.patients;
  const start = nextMonday();
  const pool = openConnections({ ...fhir.target, connections: options.connections, driver: options.driver });
  try {
    progress(`seeding ${practitioners} practitioners with hours and schedules`);
    await seedDirectory(pool.connections[0], fhir.target, practitioners);
    progress('generating a year of slots per schedule');
    const generation = await generateYear(pool.connections, fhir.target, practitioners, start);
    progress(`${generation.slots} slots in ${fixed(generation.ms / 1000, 1)} s; measuring $find + $book`);
    const rng = new Random(options.seed);
    const ours = await clerks(pool.connections, options, operationsBooking(fhir.target, start, rng), practitioners);
    progress('measuring the ceiling: plain Slot search + transaction Bundle');
    const bare = await clerks(pool.connections, options, plainBooking(fhir.target, start, rng), practitioners);
    return report(options, fhir, generation, ours, bare);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${fhir.server.recentOutput()}`, { cause: err });
  } finally {
    pool.close();
    await fhir.stop();
  }
}

async function seedDirectory(connection: Connection, target: Target, practitioners: number): Promise<void> {
  const entry = [];
  for (let i = 0; i < practitioners; i++) {
    const specialty = { coding: [{ system: 'http://snomed.info/sct', code: SPECIALTIES[i % SPECIALTIES.length] }] };
    entry.push(
      put({ resourceType: 'Practitioner', id: `pr${i}`, name: [{ family: `Doctor ${i}` }] }),
      put({
        resourceType: 'PractitionerRole',
        id: `role${i}`,
        practitioner: { reference: `Practitioner/pr${i}` },
        specialty: [specialty],
        availableTime: [
          {
            daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'],
            availableStartTime: '08:00:00',
            availableEndTime: '16:00:00',
          },
        ],
      }),
      put({
        resourceType: 'Schedule',
        id: `sched${i}`,
        actor: [{ reference: `PractitionerRole/role${i}` }],
        specialty: [specialty],
        extension: [
          { url: TIME_ZONE_URL, valueCode: 'UTC' },
          { url: SLOT_MINUTES_URL, valueInteger: 30 },
        ],
      }),
    );
  }
  const response = await connection.request(
    post(target.basePath, { resourceType: 'Bundle', type: 'transaction', entry }),
  );
  if (response.status !== 200)
    throw new Error(`seeding the directory: ${response.status} ${response.body.toString().slice(0, 300)}`);
}

const put = (resource: { resourceType: string; id: string; [key: string]: unknown }) => ({
  resource,
  request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): RequestSpec {
  return {
    method: 'POST',
    path,
    body: JSON.stringify(body),
    headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, ...headers },
  };
}

const get = (path: string): RequestSpec => ({ method: 'GET', path, headers: { Accept: FHIR_JSON } });

async function generateYear(
  connections: Connection[],
  target: Target,
  practitioners: number,
  start: number,
): Promise<{ slots: number; ms: number; load: LoadResult }> {
  const recorder = new LoadRecorder();
  const end = new Date(start + 364 * DAY_MS).toISOString().slice(0, 10);
  const from = new Date(start).toISOString().slice(0, 10);
  let next = 0;
  let slots = 0;
  const began = performance.now();
  await Promise.all(
    connections.slice(0, GENERATING_AT_ONCE).map(async (connection) => {
      while (next < practitioners) {
        const spec = post(`${target.basePath}/Schedule/sched${next++}/$generate-slots?start=${from}&end=${end}`, {});
        const at = performance.now();
        const response = await connection.request(spec);
        const body = response.body.toString('utf8');
        if (!recorder.record(spec, response.status, performance.now() - at, () => body)) continue;
        const created = (JSON.parse(body) as { parameter?: { name: string; valueInteger?: number }[] }).parameter?.find(
          (p) => p.name === 'created',
        );
        slots += created?.valueInteger ?? 0;
      }
    }),
  );
  return { slots, ms: performance.now() - began, load: recorder.result() };
}

interface Booking {
  find: LoadResult;
  book: LoadResult;
}

type Attempt = (
  connection: Connection,
  practitioner: number,
) => Promise<{ findMs: number; findStatus: number; bookMs?: number; bookStatus?: number; detail: string }>;

/** Each connection books its own practitioners (index mod connections) in turn until the duration is up. */
async function clerks(
  connections: Connection[],
  options: BenchOptions,
  attempt: Attempt,
  practitioners: number,
): Promise<Booking> {
  const find = new LoadRecorder();
  const book = new LoadRecorder();
  const run = async (durationMs: number, record: boolean) => {
    const deadline = performance.now() + durationMs;
    await Promise.all(
      connections.map(async (connection, index) => {
        const mine = Array.from({ length: practitioners }, (_, p) => p).filter((p) => p % connections.length === index);
        for (let turn = 0; performance.now() < deadline && mine.length > 0; turn++) {
          const result = await attempt(connection, mine[turn % mine.length]);
          if (!record) continue;
          find.record(get('$find'), result.findStatus, result.findMs, () => result.detail);
          if (result.bookMs !== undefined)
            book.record(post('$book', {}), result.bookStatus ?? 0, result.bookMs, () => result.detail);
        }
      }),
    );
  };
  if (options.warmupMs > 0) await run(options.warmupMs, false);
  await run(options.durationMs, true);
  return { find: find.result(), book: book.result() };
}

function windowOf(start: number, rng: Random): { from: string; to: string } {
  const day = start + rng.int(0, 364 - WINDOW_DAYS) * DAY_MS;
  return { from: new Date(day).toISOString(), to: new Date(day + WINDOW_DAYS * DAY_MS).toISOString() };
}

type Timed = Awaited<ReturnType<typeof timed>>;

/** One turn: the search and the booking, as measured. */
function turnOf(found: Timed, booked: Timed) {
  return {
    findMs: found.ms,
    findStatus: found.status,
    bookMs: booked.ms,
    bookStatus: booked.status,
    detail: booked.body.slice(0, 300),
  };
}

async function timed(connection: Connection, spec: RequestSpec) {
  const at = performance.now();
  const response = await connection.request(spec);
  return { ms: performance.now() - at, status: response.status, body: response.body.toString('utf8') };
}

function operationsBooking(target: Target, start: number, rng: Random): Attempt {
  return async (connection, practitioner) => {
    const { from, to } = windowOf(start, rng);
    const query = `start=${from}&end=${to}&practitioner=Practitioner/pr${practitioner}&_count=1`;
    const found = await timed(connection, get(`${target.basePath}/Appointment/$find?${query}`));
    const proposal =
      found.status === 200
        ? ((JSON.parse(found.body) as Bundle).entry?.[0]?.resource as Appointment | undefined)
        : undefined;
    if (!proposal) return { findMs: found.ms, findStatus: found.status, detail: found.body.slice(0, 300) };
    const parameters = {
      resourceType: 'Parameters',
      parameter: [{ name: 'appointment-resource', resource: proposal }],
    };
    const booked = await timed(connection, post(`${target.basePath}/Appointment/$book`, parameters));
    return turnOf(found, booked);
  };
}

function plainBooking(target: Target, start: number, rng: Random): Attempt {
  return async (connection, practitioner) => {
    const { from, to } = windowOf(start, rng);
    const query = `schedule=Schedule/sched${practitioner}&status=free&start=ge${from}&start=lt${to}&_sort=start&_count=1`;
    const found = await timed(connection, get(`${target.basePath}/Slot?${query}`));
    const slot =
      found.status === 200 ? ((JSON.parse(found.body) as Bundle).entry?.[0]?.resource as Slot | undefined) : undefined;
    if (!slot?.id) return { findMs: found.ms, findStatus: found.status, detail: found.body.slice(0, 300) };
    const { meta, ...rest } = slot;
    const appointment: Appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      start: slot.start,
      end: slot.end,
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: [{ actor: { reference: `PractitionerRole/role${practitioner}` }, status: 'accepted' }],
    };
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { ...rest, status: 'busy' },
          request: { method: 'PUT', url: `Slot/${slot.id}`, ifMatch: `W/"${meta?.versionId}"` },
        },
        { resource: appointment, request: { method: 'POST', url: 'Appointment' } },
      ],
    };
    const booked = await timed(connection, post(target.basePath, bundle));
    return turnOf(found, booked);
  };
}

function report(
  options: BenchOptions,
  fhir: FhirServerHandle,
  generation: { slots: number; ms: number; load: LoadResult },
  ours: Booking,
  bare: Booking,
): SuiteReport {
  const memory = fhir.server.memory();
  const phases: PhaseReport[] = [
    {
      name: `$generate-slots: a year for ${options.patients} schedules, ${GENERATING_AT_ONCE} at a time`,
      note: `${generation.slots} slots, ${fixed((generation.slots * 1000) / generation.ms, 0)} slots/s`,
      load: generation.load,
    },
    {
      name: `Appointment/$find (one practitioner, ${WINDOW_DAYS} days, _count=1)`,
      load: ours.find,
      ...(memory ? { memory } : {}),
    },
    { name: 'Appointment/$book (the proposal found)', load: ours.book },
    { name: 'plain Slot search (ceiling for $find)', load: bare.find },
    { name: 'transaction Bundle: Slot PUT If-Match + Appointment POST (ceiling for $book)', load: bare.book },
  ];
  const ceilings: CeilingReport[] = [
    {
      name: 'plain Slot search, same query shape',
      perSecond: bare.find.requestsPerSecond,
      unit: 'req/s',
      ours: { name: '$find', perSecond: ours.find.requestsPerSecond },
      detail: {},
    },
    {
      name: 'transaction Bundle with the same two writes',
      perSecond: bare.book.requestsPerSecond,
      unit: 'req/s',
      ours: { name: '$book', perSecond: ours.book.requestsPerSecond },
      detail: {},
    },
  ];
  const errors = phases.reduce((sum, p) => sum + p.load.errors, 0);
  const targets: TargetCheck[] = [
    {
      name: '$book p99',
      value: `${fixed(ours.book.latency.p99Ms, 2)} ms`,
      goal: `<= ${TARGET_BOOK_P99_MS} ms`,
      met: ours.book.latency.p99Ms <= TARGET_BOOK_P99_MS,
    },
    { name: 'errors (all phases)', value: String(errors), goal: '0', met: errors === 0 },
  ];
  return {
    suite: 'scheduling',
    phases,
    ceilings,
    targets,
    notes: [
      `${options.patients} practitioners in ${SPECIALTIES.length} specialties, Monday-Friday 08:00-16:00 UTC, 30-minute slots, a year from next Monday`,
      `each of the ${options.connections} connections books its own practitioners in turn (no two race for a slot); each turn is one $find and one $book; the first phase pair is measured, then the ceiling pair on the same data`,
    ],
  };
}

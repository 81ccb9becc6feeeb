// Kill -9 rounds (six; CRASH_ROUNDS for a deeper run) under mixed load on one DATA_DIR: the compiled server runs
// as a child process while updates, creates and transactions stream in, is killed at a random moment, and
// restarted. After each restart every acknowledged write is there with its version, every transaction's marker
// set is all there or not there at all, and SQLite's integrity_check on the store file (opened read-only while
// no process holds it) says ok.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { findFreePort, type ChildServer } from '../bench/server-process';
import { tempDir } from '../support/app';
import { HOST, MAIN, startMainServer } from '../support/child-server';
import { processToken } from '../support/process-token';
import { SQLITE_FILE_NAME } from '../../resources/store';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const UPDATERS = 6;
const CREATORS = 3;
const TRANSACTORS = 3;
/** Resources in one transaction: a Patient and its Observations, all carrying the transaction's marker. */
const MARKER_SET = 4;
/** The kill comes this long after the round's first acknowledgement, at random within the range. */
const KILL_AFTER_MS = { min: 50, max: 900 };
const MARKER_SYSTEM = 'urn:crash-marker';

interface UpdateAck {
  id: string;
  version: number;
  counter: number;
}

/** What the clients were told, across all rounds. */
interface Ledger {
  updates: UpdateAck[];
  /** Observation ids whose create was acknowledged */
  created: string[];
  /** markers of transactions sent, and of those acknowledged, by round */
  txStarted: Map<number, string[]>;
  txAcked: Set<string>;
}

/** The server with a start timeout long enough for a loaded machine (eleven starts in a row). */
function startServer(dataDir: string, port: number): Promise<ChildServer> {
  return startMainServer(dataDir, port, {
    mllpPort: 'off',
    // Writes are what is killed here; search workers would only lengthen each of the eleven starts.
    env: { SEARCH_WORKERS: '0' },
    startTimeoutMs: 180_000,
  });
}

let authorization = '';
let nextCounter = 0;

async function fhir(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/${url}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', authorization },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  // A refused token is no answer about the data: say so instead of failing on a status further on.
  if (res.status === 401) throw new Error(`401 on ${method} ${url}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/** Runs `step` until told to stop or until the server dies under it (that request was never acknowledged). */
async function loop(stop: () => boolean, step: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; !stop(); i++) {
    try {
      await step(i);
    } catch {
      return;
    }
  }
}

function updater(base: string, id: string, ledger: Ledger, stop: () => boolean): Promise<void> {
  return loop(stop, async () => {
    const counter = nextCounter++;
    const res = await fhir(base, 'PUT', `Patient/${id}`, {
      resourceType: 'Patient',
      id,
      identifier: [{ system: 'urn:counter', value: String(counter) }],
    });
    if (res.status === 200 || res.status === 201) {
      ledger.updates.push({ id, version: Number(res.body.meta.versionId), counter });
    }
  });
}

function creator(base: string, ledger: Ledger, stop: () => boolean): Promise<void> {
  return loop(stop, async () => {
    const res = await fhir(base, 'POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'crash-create' },
      identifier: [{ system: 'urn:crash-create', value: randomUUID() }],
    });
    if (res.status === 201) ledger.created.push(res.body.id as string);
  });
}

function markerBundle(marker: string): unknown {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  const identifier = [{ system: MARKER_SYSTEM, value: marker }];
  const observations = Array.from({ length: MARKER_SET - 1 }, (_, k) => ({
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { text: `${marker}-${k}` },
      identifier,
      subject: { reference: patientUrl },
    },
    request: { method: 'POST', url: 'Observation' },
  }));
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patientUrl,
        resource: { resourceType: 'Patient', identifier },
        request: { method: 'POST', url: 'Patient' },
      },
      ...observations,
    ],
  };
}

function transactor(base: string, round: number, ledger: Ledger, stop: () => boolean): Promise<void> {
  const started = ledger.txStarted.get(round) ?? [];
  ledger.txStarted.set(round, started);
  return loop(stop, async () => {
    const marker = `r${round}-${randomUUID()}`;
    started.push(marker);
    const res = await fhir(base, 'POST', '', markerBundle(marker));
    if (res.status === 200) ledger.txAcked.add(marker);
  });
}

/** Starts the load, kills the server at a random moment after the first acknowledgement, waits for the clients. */
async function roundUnderLoad(server: ChildServer, round: number, ledger: Ledger): Promise<void> {
  const base = `http://${HOST}:${server.port}/fhir`;
  const acksBefore = ledger.updates.length + ledger.created.length + ledger.txAcked.size;
  let stopped = false;
  const stop = () => stopped;
  const work = [
    ...Array.from({ length: UPDATERS }, (_, i) => updater(base, `crash-${i}`, ledger, stop)),
    ...Array.from({ length: CREATORS }, () => creator(base, ledger, stop)),
    ...Array.from({ length: TRANSACTORS }, () => transactor(base, round, ledger, stop)),
  ];
  const deadline = Date.now() + 30_000;
  while (ledger.updates.length + ledger.created.length + ledger.txAcked.size === acksBefore) {
    if (Date.now() > deadline) throw new Error(`round ${round}: no write acknowledged:\n${server.recentOutput()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const delay = KILL_AFTER_MS.min + Math.random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min);
  await new Promise((resolve) => setTimeout(resolve, delay));
  await server.kill('SIGKILL');
  stopped = true;
  await Promise.all(work);
}

function integrityCheck(dataDir: string): string {
  const db = new Database(path.join(dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
  } finally {
    db.close();
  }
}

/** Runs `check` over `items` with a few requests in flight at once. */
async function eachConcurrently<T>(items: T[], check: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await check(item);
    }),
  );
}

/** Markers of a round as the store holds them: how many resources (of both types) carry each one. */
async function markerCounts(base: string, round: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const type of ['Patient', 'Observation']) {
    let url: string | undefined = `${type}?identifier=${MARKER_SYSTEM}|&_count=1000&_elements=identifier`;
    while (url) {
      const page = await fhir(base, 'GET', url);
      expect(page.status).toBe(200);
      for (const entry of page.body.entry ?? []) {
        const marker = entry.resource.identifier[0].value as string;
        if (marker.startsWith(`r${round}-`)) counts.set(marker, (counts.get(marker) ?? 0) + 1);
      }
      const next = (page.body.link as { relation: string; url: string }[]).find((l) => l.relation === 'next');
      url = next ? next.url.slice(next.url.indexOf('/fhir/') + '/fhir/'.length) : undefined;
    }
  }
  return counts;
}

async function verifyAfterRestart(base: string, round: number, ledger: Ledger, checked: number): Promise<void> {
  const latest = new Map<string, UpdateAck>();
  for (const ack of ledger.updates) if ((latest.get(ack.id)?.version ?? 0) < ack.version) latest.set(ack.id, ack);
  await eachConcurrently([...latest.values()], async (ack) => {
    const current = await fhir(base, 'GET', `Patient/${ack.id}`);
    expect(current.status).toBe(200);
    expect(Number(current.body.meta.versionId)).toBeGreaterThanOrEqual(ack.version);
  });
  // Versions acknowledged since the last check: each one is there, holding what was sent.
  await eachConcurrently(ledger.updates.slice(checked), async (ack) => {
    const version = await fhir(base, 'GET', `Patient/${ack.id}/_history/${ack.version}`);
    expect([ack.id, version.status]).toEqual([ack.id, 200]);
    expect(version.body.identifier[0].value).toBe(String(ack.counter));
  });
  await eachConcurrently(ledger.created, async (id) => {
    expect([id, (await fhir(base, 'GET', `Observation/${id}`)).status]).toEqual([id, 200]);
  });
  const counts = await markerCounts(base, round);
  for (const marker of ledger.txStarted.get(round) ?? []) {
    const count = counts.get(marker) ?? 0;
    const allowed = ledger.txAcked.has(marker) ? [MARKER_SET] : [0, MARKER_SET];
    if (!allowed.includes(count)) throw new Error(`transaction ${marker}: ${count} of ${MARKER_SET} resources stored`);
  }
}

test('kill -9 rounds under mixed load lose no acknowledged write and leave no transaction half done', async () => {
  expect(fs.existsSync(MAIN)).toBe(true);
  const dataDir = tempDir('hms-crash-');
  const port = await findFreePort(HOST);
  const ledger: Ledger = { updates: [], created: [], txStarted: new Map(), txAcked: new Set() };
  let checkedUpdates = 0;
  let server = await startServer(dataDir, port);
  const base = `http://${HOST}:${port}/fhir`;
  authorization = `Bearer ${await processToken(dataDir, base)}`;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await roundUnderLoad(server, round, ledger);
      expect([round, integrityCheck(dataDir)]).toEqual([round, 'ok']);
      server = await startServer(dataDir, port);
      // Backend-services tokens live five minutes at most, and a loaded machine can take longer than that.
      authorization = `Bearer ${await processToken(dataDir, base)}`;
      await verifyAfterRestart(base, round, ledger, checkedUpdates).catch((error: Error) => {
        throw new Error(`round ${round}: ${error.message}`, { cause: error });
      });
      checkedUpdates = ledger.updates.length;
    }
    // Every round acknowledged writes of all three kinds, so each kind was in flight at some kill.
    expect(ledger.updates.length).toBeGreaterThan(ROUNDS);
    expect(ledger.created.length).toBeGreaterThan(0);
    expect(ledger.txAcked.size).toBeGreaterThan(0);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  // Eleven server starts: about a minute on an idle 2-core machine, far longer when the machine is loaded.
}, 900_000);

// kill -9 under an HL7 stream: the compiled server runs as a child process, three MLLP senders stream ORU^R01
// results (each its own control id and order numbers) as fast as the ACKs come back, a fourth loses its ACKs,
// and the process is killed mid-stream. After a restart on the same DATA_DIR the bridge must finish what it had stored, every message that
// got an AA must be stored and processed, and the senders' resends of everything without an AA must be
// deduplicated or applied so that in the end each message has exactly one DiagnosticReport per order and no
// Observation exists twice.
import fs from 'node:fs';
import net from 'node:net';
import { MllpClient } from '../../../../integrations/hl7v2/mllp/client';
import { encodeFrame } from '../../../../integrations/hl7v2/mllp/framer';
import { findFreePort } from '../../../bench/server-process';
import { tempDir } from '../../../support/app';
import { HOST, MAIN, startMainServer } from '../../../support/child-server';
import { hl7Fixture } from '../../../support/hl7';
import { parseAck } from '../../../support/hl7-server';
import { processToken } from '../../../support/process-token';

/** Senders that wait for each ACK; one more sends without reading its ACKs. */
const SENDERS = 3;
/** More than the senders can get through before the kill (at most KILL_AFTER_ACKS + SENDERS). */
const POOL = 1000;
const STREAM_MS = 1500;
/** Enough to show the stream ran; capped so that a fast machine does not queue minutes of processing. */
const KILL_AFTER_ACKS = 250;
const ORDERS_PER_MESSAGE = 2;
const OBX_PER_MESSAGE = 10;

const TEMPLATE = hl7Fixture('oru_r01_01.hl7');
const controlId = (i: number) => `crash-${i}`;

/** The sample with its own MSH-10 and its own placer and filler numbers in both OBRs (A and B). */
function message(i: number): Buffer {
  const text = TEMPLATE.replace('|ORU^R01|182|', `|ORU^R01|${controlId(i)}|`)
    .replace('OBR|2|88502218|82503246|', `OBR|2|P${i}A|F${i}A|`)
    .replace('OBR|1|855238581|890775544|', `OBR|1|P${i}B|F${i}B|`);
  if (!text.includes(`|F${i}B|`)) throw new Error('the fixture changed: its OBR-2/3 were not found');
  return Buffer.from(text, 'utf8');
}

interface Stream {
  next: number;
  attempted: Set<number>;
  acked: Set<number>;
  /** ACKs other than AA (there should be none): code and MSA-2. */
  refused: string[];
}

const connect = (mllpPort: number) =>
  MllpClient.connect({ host: HOST, port: mllpPort, connectTimeoutMs: 5000, maxFrameBytes: 1 << 20 });

/** One sender: the next message, wait for its ACK, and so on, until told to stop or the connection dies. */
async function sender(mllpPort: number, stream: Stream, stop: () => boolean): Promise<void> {
  const client = await connect(mllpPort);
  try {
    while (!stop() && stream.next < POOL) {
      const i = stream.next++;
      stream.attempted.add(i);
      let ack;
      try {
        ack = parseAck((await client.send(message(i), { timeoutMs: 30_000 })).toString('utf8'));
      } catch {
        return; // killed under us: this message has no ACK and will be sent again
      }
      if (ack.code === 'AA' && ack.controlId === controlId(i)) stream.acked.add(i);
      else stream.refused.push(`${ack.code} ${ack.controlId}`);
    }
  } finally {
    client.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A sender whose ACKs are lost on the way back: it writes a frame every few milliseconds and drops what comes
 * back, so the bridge certainly holds messages that it stored but whose sender counts them as unacknowledged.
 */
async function lossySender(mllpPort: number, stream: Stream, stop: () => boolean): Promise<void> {
  const socket = net.connect({ host: HOST, port: mllpPort });
  socket.on('data', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => undefined);
  while (!stop() && !socket.destroyed && stream.next < POOL) {
    const i = stream.next++;
    stream.attempted.add(i);
    socket.write(encodeFrame(message(i)));
    await sleep(20);
  }
  socket.destroy();
  await closed;
}

let authorization = '';
let origin = '';

async function get(url: string): Promise<any> {
  const res = await fetch(url.startsWith('http') ? url : `${origin}${url}`, { headers: { authorization } });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const total = async (query: string) =>
  (await get(`/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`)).total;

/** Waits until no inbound message is waiting to be processed (queued counts received and queued). */
async function drained(what: string): Promise<{ received: number; queued: number }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await get('/admin/hl7/status');
    const inbound = (status.channels as { direction: string; received: number; queued: number }[]).filter(
      (c) => c.direction === 'inbound',
    );
    const sum = (key: 'received' | 'queued') => inbound.reduce((n, c) => n + c[key], 0);
    if (sum('queued') === 0) return { received: sum('received'), queued: 0 };
    if (Date.now() > deadline) throw new Error(`${what}: still ${sum('queued')} queued`);
    await sleep(100);
  }
}

/** Every resource of a type, following the next links (1000 a page, the server's maximum). */
async function all(type: string): Promise<any[]> {
  const resources: any[] = [];
  let url: string | undefined = `/fhir/${type}?_count=1000`;
  while (url) {
    const page = await get(url);
    resources.push(...(page.entry ?? []).map((e: { resource: unknown }) => e.resource));
    url = page.link?.find((l: { relation: string }) => l.relation === 'next')?.url;
  }
  return resources;
}

test('every acknowledged HL7 message survives kill -9 and is applied exactly once, resends included', async () => {
  expect(fs.existsSync(MAIN)).toBe(true);
  const dataDir = tempDir('hms-hl7-crash-');
  const port = await findFreePort(HOST);
  let mllpPort = await findFreePort(HOST);
  while (mllpPort === port) mllpPort = await findFreePort(HOST); // two probes in a row may get the same port
  origin = `http://${HOST}:${port}`;
  let server = await startMainServer(dataDir, port, { mllpPort });
  try {
    authorization = `Bearer ${await processToken(dataDir, `${origin}/fhir`)}`;
    const stream: Stream = { next: 0, attempted: new Set(), acked: new Set(), refused: [] };
    let stopped = false;
    const senders = [
      ...Array.from({ length: SENDERS }, () => sender(mllpPort, stream, () => stopped)),
      lossySender(mllpPort, stream, () => stopped),
    ];
    const killAt = Date.now() + STREAM_MS;
    while (Date.now() < killAt && stream.acked.size < KILL_AFTER_ACKS) await sleep(5);
    await server.kill('SIGKILL');
    stopped = true;
    await Promise.all(senders);
    expect(stream.refused).toEqual([]);
    expect(stream.acked.size).toBeGreaterThan(20); // the stream ran: a stalled one proves nothing
    const unacked = [...stream.attempted].filter((i) => !stream.acked.has(i));
    expect(unacked.length).toBeGreaterThan(0); // killed mid-stream, with sends in flight

    server = await startMainServer(dataDir, port, { mllpPort });
    // Everything stored before the kill is applied by the restarted bridge on its own, before any resend.
    const afterRestart = await drained('after the restart');
    // More than the acknowledged ones: the lossy sender's, stored but unacknowledged, must be deduplicated below.
    expect(afterRestart.received).toBeGreaterThan(stream.acked.size);
    for (const i of stream.acked) {
      const stored = await get(`/admin/hl7/messages?controlId=${controlId(i)}`);
      expect(stored.map((m: { status: string }) => `${controlId(i)} ${m.status}`)).toEqual([
        `${controlId(i)} processed`,
      ]);
    }

    // The senders reconnect and send again everything that got no AA, one connection each half.
    const resent: string[] = [];
    await Promise.all(
      [0, 1].map(async (half) => {
        const client = await connect(mllpPort);
        try {
          for (const i of unacked.filter((_, n) => n % 2 === half)) {
            const ack = parseAck((await client.send(message(i), { timeoutMs: 30_000 })).toString('utf8'));
            resent.push(`${ack.code} ${ack.controlId === controlId(i)}`);
          }
        } finally {
          client.close();
        }
      }),
    );
    expect(resent).toEqual(unacked.map(() => 'AA true'));
    const final = await drained('after the resends');

    // One stored message per control id (a resend of a stored one is a duplicate, not a second row), all applied.
    const sent = [...stream.attempted];
    expect(final.received).toBe(sent.length);
    for (const i of sent) {
      const stored = await get(`/admin/hl7/messages?controlId=${controlId(i)}`);
      expect(stored.map((m: { status: string }) => `${controlId(i)} ${m.status}`)).toEqual([
        `${controlId(i)} processed`,
      ]);
    }
    // Each order of each message has exactly one report; the totals leave no room for strays.
    for (const i of sent) {
      for (const order of ['A', 'B'])
        expect([`F${i}${order}`, await total(`DiagnosticReport?identifier=F${i}${order}`)]).toEqual([
          `F${i}${order}`,
          1,
        ]);
    }
    expect(await total('DiagnosticReport')).toBe(sent.length * ORDERS_PER_MESSAGE);
    const observations = await all('Observation');
    expect(observations).toHaveLength(sent.length * OBX_PER_MESSAGE);
    const keys = observations.map((o) => `${o.identifier?.[0]?.system}|${o.identifier?.[0]?.value}`);
    expect(keys.filter((key, n) => keys.indexOf(key) !== n)).toEqual([]);
    // The orphan worklist (the sample's patient and orders are unknown here) has one Task per message, too.
    expect(await total('Task')).toBe(sent.length);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

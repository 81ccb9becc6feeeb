// Encryption at rest and backups with the real server as a child process and the real `hms` command: an encrypted
// DATA_DIR holds no plain resource bytes; `hms backup` runs while the API keeps writing, and every write
// acknowledged before it began is served again after `hms restore`; a wrong key, or a plain store with a key, stops
// start-up with one clear line; unencrypted files served beyond loopback draw a warning.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useDataKey } from '../../resources/store/sqlite/data-key';
import { SqliteStore } from '../../resources/store/sqlite/sqlite-store';
import { ChildServer, findFreePort } from '../bench/server-process';
import { tempDir } from '../support/app';
import { HOST, MAIN } from '../support/child-server';
import { processToken } from '../support/process-token';

const HMS = path.resolve(__dirname, '../../bin/hms.js');
const KEY = 'the data key of this test run';
const MARKER = 'Zyxwquartzfamily';
const WRITERS = 4;

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir('hms-backup-e2e-');
});
afterEach(() => {
  useDataKey(undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function serverEnv(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return { PORT: String(port), HOST, DATA_DIR: dataDir, HL7_MLLP_PORT: '0', LOG_LEVEL: 'warn', ...extra };
}

async function startServer(port: number, extra: Record<string, string> = {}): Promise<ChildServer> {
  return ChildServer.start({
    script: MAIN,
    host: HOST,
    port,
    env: serverEnv(port, extra),
    readyPath: '/fhir/metadata',
  });
}

/** Runs `hms` as its own process (it must not share this test's event loop, which keeps the writes going). */
function hms(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [HMS, ...args], {
    env: { ...process.env, DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** Creates Patients from WRITERS parallel loops until stopped; `acked` lists the ids of every 201 in order. */
function keepWriting(base: string, authorization: string) {
  const acked: string[] = [];
  let stopped = false;
  const loop = async (writer: number) => {
    for (let i = 0; !stopped; i++) {
      const res = await fetch(`${base}/Patient`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: MARKER, given: [`w${writer}n${i}`] }] }),
      });
      if (res.status !== 201) throw new Error(`write failed: ${res.status} ${await res.text()}`);
      acked.push((res.headers.get('location') ?? '').split('/Patient/')[1].split('/')[0]);
    }
  };
  const loops = Promise.all(Array.from({ length: WRITERS }, (_, w) => loop(w)));
  return {
    acked,
    stop: async () => {
      stopped = true;
      await loops;
    },
  };
}

async function allServed(base: string, authorization: string, ids: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(
      ids.slice(i, i + 32).map(async (id) => {
        const res = await fetch(`${base}/Patient/${id}`, { headers: { authorization } });
        if (res.status !== 200) missing.push(id);
        await res.arrayBuffer();
      }),
    );
  }
  return missing;
}

const holdsMarker = (file: string) => fs.existsSync(file) && fs.readFileSync(file).includes(MARKER);

test('an encrypted store backed up while writes go on, restored, serves every write acknowledged before', async () => {
  const port = await findFreePort(HOST);
  const base = `http://${HOST}:${port}/fhir`;
  let server = await startServer(port, { HMS_DATA_KEY: KEY });
  const backup = path.join(tempDir('hms-backup-dir-'), 'backup');
  try {
    // This process registers a client in auth.sqlite, so it needs the key too.
    useDataKey(KEY);
    const authorization = `Bearer ${await processToken(dataDir, base)}`;
    const writes = keepWriting(base, authorization);
    while (writes.acked.length < 200) await new Promise((r) => setTimeout(r, 20));
    const ackedBefore = [...writes.acked];
    const backedUp = await hms(['backup', backup], { HMS_DATA_KEY: KEY });
    await writes.stop();
    expect(backedUp).toEqual({ code: 0, stderr: expect.stringMatching(/backup complete .*encrypted/) });

    // Nothing readable in the live files, their WALs, or the backup.
    const files = ['hms.sqlite', 'hms.sqlite-wal', 'auth.sqlite', 'auth.sqlite-wal', 'hl7.sqlite'];
    expect(files.filter((f) => holdsMarker(path.join(dataDir, f)))).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'hms.sqlite-wal'))).toBe(true);
    expect(fs.readdirSync(backup).filter((f) => holdsMarker(path.join(backup, f)))).toEqual([]);

    const refused = await hms(['restore', backup], { HMS_DATA_KEY: KEY });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/hms.sqlite is in use: stop the server/);

    expect(await server.stop()).toBe(0);
    const restored = await hms(['restore', backup], { HMS_DATA_KEY: KEY });
    expect(restored).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^restored hms.sqlite, auth.sqlite, hl7.sqlite/),
    });
    expect(fs.existsSync(path.join(dataDir, 'hms.sqlite.before-restore'))).toBe(true);

    server = await startServer(port, { HMS_DATA_KEY: KEY });
    // The restored auth.sqlite still has the client, so a new token comes from the restored server.
    const again = `Bearer ${await processToken(dataDir, base)}`;
    expect(await allServed(base, again, ackedBefore)).toEqual([]);
    const total = await fetch(`${base}/Patient?family=${MARKER}&_summary=count`, { headers: { authorization: again } });
    expect((await total.json()).total).toBeGreaterThanOrEqual(ackedBefore.length);
  } finally {
    await server.stop();
    fs.rmSync(path.dirname(backup), { recursive: true, force: true });
  }
});

describe('start-up with a key that does not fit the store: one line, exit 3, no stack trace', () => {
  const runMain = (env: Record<string, string>) =>
    spawnSync(process.execPath, [MAIN], {
      // No worker threads: start-up stops at the store, before they would be of use.
      env: { ...process.env, ...serverEnv(0), VALIDATION_WORKERS: '0', SEARCH_WORKERS: '0', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  test('a wrong key', async () => {
    await SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: KEY }).close();
    const result = runMain({ HMS_DATA_KEY: 'not the key of this store' });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(
      `Store error: HMS_DATA_KEY does not open ${path.join(dataDir, 'hms.sqlite')}: wrong key, or the file is not encrypted`,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(`${result.stdout}${result.stderr}`).not.toContain('not the key of this store');
  });

  test('an unencrypted store with a key set: run hms rekey', async () => {
    await SqliteStore.open(path.join(dataDir, 'hms.sqlite'), { key: undefined }).close();
    const result = runMain({ HMS_DATA_KEY: KEY });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/Store error: .*hms.sqlite is not encrypted, but HMS_DATA_KEY is set: .*hms rekey/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

test('unencrypted files served beyond loopback: a start-up warning', async () => {
  const port = await findFreePort(HOST);
  const server = await ChildServer.start({
    script: MAIN,
    host: HOST,
    port,
    env: serverEnv(port, {
      HOST: '0.0.0.0',
      HMS_SECRET: 's'.repeat(40),
      HL7_MLLP_PORT: 'off',
      VALIDATION_WORKERS: '0',
    }),
    readyPath: '/fhir/metadata',
  });
  try {
    // The child's stdout may reach us a moment after it answers HTTP.
    const warning = /"level":"warn","msg":"the data files are not encrypted/;
    for (let i = 0; i < 100 && !warning.test(server.recentOutput()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.recentOutput()).toMatch(warning);
    expect(server.recentOutput()).not.toContain('s'.repeat(40));
  } finally {
    await server.stop();
  }
});

// The server process: start-up errors are clear and exit non-zero; SIGTERM stops accepting, lets the
// in-flight request finish, closes the store and exits 0.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { ChildServer, findFreePort } from '../bench/server-process';
import { tempDir } from '../support/app';
import { processToken } from '../support/process-token';

const MAIN = path.resolve(__dirname, '../../dist/server/main.js');
const HOST = '127.0.0.1';

function runMain(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
}

test('a bad setting stops start-up with exit code 2 and names the setting', () => {
  const result = runMain({ PORT: 'eighty', DATA_DIR: tempDir() });
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(/PORT must be an integer/);
});

test('SIGTERM lets the in-flight transaction finish, then exits 0 with the data durable', async () => {
  const dataDir = tempDir('hms-lifecycle-');
  const port = await findFreePort(HOST);
  const env = { PORT: String(port), HOST, DATA_DIR: dataDir, LOG_LEVEL: 'info', HL7_MLLP_PORT: '0' };
  let server = await ChildServer.start({ script: MAIN, host: HOST, port, env, readyPath: '/fhir/metadata' });
  const base = `http://${HOST}:${port}/fhir`;
  // An empty store: the one command that creates the first administrator is printed (the child's stderr may
  // reach us a moment after it answers HTTP).
  const hint = 'npx hms user add --username admin --role admin --password-stdin';
  for (let i = 0; i < 100 && !server.recentOutput().includes(hint); i++) await new Promise((r) => setTimeout(r, 50));
  expect(server.recentOutput()).toContain(hint);
  const authorization = `Bearer ${await processToken(dataDir, base)}`;
  // Idle keep-alive connections stay open past a load balancer's 60 s, so a reused one is not reset under it.
  expect((await fetch(`${base}/metadata`)).headers.get('keep-alive')).toBe('timeout=65');
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: 2000 }, (_, i) => ({
      resource: { resourceType: 'Patient', identifier: [{ system: 'urn:shutdown', value: String(i) }] },
      request: { method: 'POST', url: 'Patient' },
    })),
  };
  const inFlight = fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization },
    body: JSON.stringify(bundle),
  });
  await new Promise((r) => setTimeout(r, 150));
  const exitCode = server.kill('SIGTERM');
  const response = await inFlight;
  expect(response.status).toBe(200);
  expect(await exitCode).toBe(0);
  expect(server.recentOutput()).toMatch(/"msg":"stopped"/);

  server = await ChildServer.start({ script: MAIN, host: HOST, port, env, readyPath: '/fhir/metadata' });
  try {
    const search = await (
      await fetch(`${base}/Patient?identifier=urn:shutdown|&_count=0`, { headers: { authorization } })
    ).json();
    expect(search.total).toBe(2000);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

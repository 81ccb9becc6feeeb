// Binary upload and download throughput: a 5 MB PDF-like buffer POSTed raw and read back raw and as FHIR JSON
// through the real server (in-process, SQLite, no auth on loopback), beside a bare HTTP server moving the same
// bytes (the ceiling on this machine). Run: npm run build, then node dist/test/bench/binary-throughput.js.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/log';
import { startServer } from '../../server/main';

const SIZE = 5 * 1024 * 1024;
const ROUNDS = 20;
const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(SIZE - 9, 0x5a)]);
for (let i = 9; i < SIZE; i += 97) content[i] = i % 256;

async function timed(label: string, work: () => Promise<number>): Promise<void> {
  await work(); // warm-up
  const started = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) bytes += await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mbps = bytes / 1024 / 1024 / seconds;
  console.log(
    `${label.padEnd(34)} ${mbps.toFixed(0).padStart(6)} MB/s  ${((seconds / ROUNDS) * 1000).toFixed(1)} ms each`,
  );
}

async function bareCeiling(): Promise<void> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(req.method === 'POST' ? '{}' : content));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await timed('bare HTTP upload (ceiling)', async () => {
    await (await fetch(url, { method: 'POST', body: content })).arrayBuffer();
    return SIZE;
  });
  await timed('bare HTTP download (ceiling)', async () => (await (await fetch(url)).arrayBuffer()).byteLength);
  server.close();
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hms-binary-bench-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    AUTH_DISABLED: 'true',
    HL7_MLLP_PORT: 'off',
    LOG_LEVEL: 'silent',
  });
  const running = await startServer(config, createLogger('silent'));
  const base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}/fhir`;
  try {
    await bareCeiling();
    let id = '';
    await timed('POST /Binary (raw application/pdf)', async () => {
      const res = await fetch(`${base}/Binary`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/pdf' },
        body: content,
      });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
      id = ((await res.json()) as { id: string }).id;
      return SIZE;
    });
    await timed('GET /Binary/id (raw)', async () => {
      const res = await fetch(`${base}/Binary/${id}`);
      const body = Buffer.from(await res.arrayBuffer());
      if (!body.equals(content)) throw new Error('download differs');
      return body.length;
    });
    await timed('GET /Binary/id (FHIR JSON, base64)', async () => {
      const res = await fetch(`${base}/Binary/${id}`, { headers: { Accept: 'application/fhir+json' } });
      const body = (await res.json()) as { data: string };
      return Buffer.byteLength(body.data, 'base64');
    });
  } finally {
    await running.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

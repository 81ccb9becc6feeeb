// Physical ceilings measured in the same run as the server: bare Node HTTP answering a stored FHIR JSON
// (the most any read path can reach) and raw better-sqlite3 single-row inserts (the most durable writes can).
import Database from 'better-sqlite3-multiple-ciphers';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runLoad, type LoadResult } from './load';
import { ChildServer, type MemoryUsage } from './server-process';
import type { BenchOptions } from './suite';

export interface BareHttpCeiling {
  bodyBytes: number;
  load: LoadResult;
  memory?: MemoryUsage;
}

export interface SqliteInsertCeiling {
  synchronous: 'FULL' | 'NORMAL';
  rows: number;
  durationMs: number;
  rowsPerSecond: number;
}

export interface InsertRow {
  type: string;
  content: string;
}

/** Load-tests a child `http.createServer` that answers every GET with `body`, on the given port, after a warm-up. */
/** Serves `sample.body` from a bare server on `port` and loads it as the suite's options say. */
export async function measureBareHttpCeiling(
  bench: Pick<BenchOptions, 'host' | 'connections' | 'durationMs' | 'warmupMs' | 'driver'>,
  port: number,
  sample: { body: string; path: string },
): Promise<BareHttpCeiling> {
  const options = { ...bench, port, ...sample };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hms-bench-bare-'));
  const bodyFile = path.join(dir, 'body.json');
  writeFileSync(bodyFile, options.body);
  const server = await ChildServer.start({
    script: path.join(__dirname, 'bare-server.js'),
    args: [String(options.port), options.host, bodyFile],
    host: options.host,
    port: options.port,
    startTimeoutMs: 10_000,
  });
  try {
    const base = {
      host: options.host,
      port: options.port,
      connections: options.connections,
      driver: options.driver,
      next: () => ({ method: 'GET' as const, path: options.path, headers: { Accept: 'application/fhir+json' } }),
    };
    if (options.warmupMs > 0) await runLoad({ ...base, durationMs: options.warmupMs });
    const load = await runLoad({ ...base, durationMs: options.durationMs });
    return { bodyBytes: Buffer.byteLength(options.body), load, memory: server.memory() };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Single-row autocommit inserts of `rows` (cycled) into `(id, type, content)` in a WAL-mode temp file,
 * until `maxRows` rows or `maxMs` milliseconds, whichever comes first.
 */
export function measureSqliteInsertCeiling(
  rows: readonly InsertRow[],
  synchronous: SqliteInsertCeiling['synchronous'],
  limits: { maxRows: number; maxMs: number },
): SqliteInsertCeiling {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hms-bench-sqlite-'));
  const db = new Database(path.join(dir, 'ceiling.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('CREATE TABLE resources (id TEXT PRIMARY KEY, type TEXT NOT NULL, content TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO resources (id, type, content) VALUES (?, ?, ?)');
    const ids = Array.from({ length: Math.min(limits.maxRows, 200_000) }, () => randomUUID());
    const start = performance.now();
    const deadline = start + limits.maxMs;
    let count = 0;
    while (count < ids.length && performance.now() < deadline) {
      const row = rows[count % rows.length];
      insert.run(ids[count], row.type, row.content);
      count++;
    }
    const durationMs = performance.now() - start;
    return { synchronous, rows: count, durationMs, rowsPerSecond: (count * 1000) / durationMs };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

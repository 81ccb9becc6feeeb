// Runs a server under test as a child process (so it never shares the load driver's event loop): the real
// FHIR server from dist/server/main.js on a fresh DATA_DIR, or any script that logs a "listening" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Target } from './seed';
import { processToken } from '../support/process-token';
import { useDataKey } from '../../resources/store/sqlite/data-key';
import { loadStorageConfig } from '../../server/storage-config';
import type { BenchOptions, MemoryUsage } from './suite';
import { findFreePort } from '../support/ports';

export type { MemoryUsage };
export { findFreePort };

export interface ChildServerOptions {
  script: string;
  /** Node's own options, before the script */
  nodeFlags?: string[];
  args?: string[];
  env?: Record<string, string>;
  host: string;
  port: number;
  /** after the "listening" line, polled with GET until 200 (otherwise a TCP connect is enough) */
  readyPath?: string;
  startTimeoutMs?: number;
}

const STOP_TIMEOUT_MS = 15_000;
/** the JSON log line `"msg":"listening"`, or the FHIR server's own line on stderr at any log level */
const LISTENING_LINE = /"listening"|server listening at /;
const POLL_INTERVAL_MS = 200;

export class ChildServer {
  private readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(options: ChildServerOptions): Promise<ChildServer> {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.script, ...(options.args ?? [])], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ChildServer(child, options.host, options.port);
    await server.waitUntilReady(options);
    return server;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last lines the process wrote, for error reports. */
  recentOutput(): string {
    return this.output.slice(-20).join('\n');
  }

  memory(): MemoryUsage | undefined {
    return readMemory(this.pid);
  }

  /** Sends a signal (SIGKILL for crash tests) and waits for the exit; resolves with the exit code. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited in time; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private async waitUntilReady(options: ChildServerOptions): Promise<void> {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    let listening = false;
    this.captureOutput(() => (listening = true));
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${options.script} exited (${exitCode}):\n${this.recentOutput()}`);
      // Only once this child says it listens: whatever answers on the port before that is some other process.
      if (listening && (await this.answers(options))) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    await this.stop();
    throw new Error(`${options.script} was not ready within the timeout:\n${this.recentOutput()}`);
  }

  private answers(options: ChildServerOptions): Promise<boolean> {
    return options.readyPath
      ? answersOk(options.host, options.port, options.readyPath)
      : isAccepting(options.host, options.port);
  }

  private captureOutput(onListening: () => void): void {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (LISTENING_LINE.test(line)) onListening();
        this.output.push(line);
        if (this.output.length > 200) this.output.shift();
      }
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }
}

export interface FhirServerHandle {
  server: ChildServer;
  baseUrl: string;
  /** where the suites send their requests */
  target: Target;
  dataDir: string;
  /** the HL7 v2 bridge's MLLP port (a free one: the default 2575 may be taken) */
  mllpPort: number;
  /** stops the server and removes its data directory (unless asked to keep it) */
  stop(): Promise<void>;
}

/**
 * Starts the compiled server (`options.serverScript`) on `port` and a fresh temporary DATA_DIR (or `dataDir`),
 * and gets a full-access token from its token endpoint, which the target sends with every request. With
 * `authDisabled` the server runs with AUTH_DISABLED (the unauthenticated baseline) and no token is used.
 */
export async function startFhirServer(
  options: Pick<BenchOptions, 'serverScript' | 'host' | 'keepData'>,
  port: number,
  run: { authDisabled?: boolean; dataDir?: string } = {},
): Promise<FhirServerHandle> {
  if (!existsSync(options.serverScript)) {
    throw new Error(`${options.serverScript} does not exist: build the server first (npm run build)`);
  }
  const dataDir = run.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'hms-bench-data-'));
  const mllpPort = await findFreePort(options.host);
  const server = await ChildServer.start({
    script: options.serverScript,
    nodeFlags: startScriptNodeFlags(),
    host: options.host,
    port,
    env: {
      PORT: String(port),
      HOST: options.host,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      HL7_MLLP_PORT: String(mllpPort),
      // Load from one address and one client is the point here, not abuse.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_CLIENT_PER_MINUTE: '0',
      ...(run.authDisabled ? { AUTH_DISABLED: 'true' } : {}),
    },
    readyPath: '/fhir/metadata',
  });
  const baseUrl = `http://${options.host}:${port}/fhir`;
  // The server child inherits HMS_DATA_KEY; this process opens its auth file to register the bench client.
  useDataKey(loadStorageConfig(process.env).dataKey);
  const authorization = run.authDisabled ? undefined : `Bearer ${await processToken(dataDir, baseUrl)}`;
  return {
    server,
    baseUrl,
    target: { host: options.host, port, basePath: '/fhir', ...(authorization ? { authorization } : {}) },
    dataDir,
    mllpPort,
    stop: async () => {
      await server.stop();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Node's options in package.json's start script, so the server under test runs as `npm start` runs it, and
 * any in BENCH_SERVER_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server under load).
 */
export function startScriptNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...words] = manifest.scripts.start.split(/\s+/);
  if (command !== 'node') throw new Error(`the start script does not run node: ${manifest.scripts.start}`);
  const extra = process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  return [...words.filter((word) => word.startsWith('--')), ...extra];
}

/** A file at the project's root, found from here whether this runs compiled (dist/test/bench) or not. */
function projectFile(name: string): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'tsconfig.json'))) return path.join(dir, name);
    if (path.dirname(dir) === dir) throw new Error(`no project root above ${__dirname}`);
  }
}

/** VmRSS and VmHWM from /proc (Linux); undefined elsewhere or after the process is gone. */
export function readMemory(pid: number): MemoryUsage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** A port that was free a moment ago on `host`. */
function isAccepting(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function answersOk(host: string, port: number, requestPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: requestPath, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

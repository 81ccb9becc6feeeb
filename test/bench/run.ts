// Entry point of `npm run bench -- [suite] [--connections N] [--duration S] ...`: runs one suite against the
// compiled server, prints its Markdown table and writes bench-results/<suite>-<timestamp>.json.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, renderMarkdown, writeJsonReport } from './report';
import type { LoadDriver } from './load';
import type { BenchOptions } from './suite';
import { DEFAULT_SUITE, SUITES } from './suites';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

const USAGE = `usage: npm run bench -- [suite] [options]
suites: ${Object.keys(SUITES).join(', ')} (default ${DEFAULT_SUITE})
  --connections N   concurrent keep-alive connections (16)
  --duration S      measured seconds per phase (10)
  --minutes M       run length in minutes, for the soak suite (10); same as --duration M×60
  --warmup S        unrecorded warm-up seconds before each phase (1)
  --patients N      patient records to seed (200)
  --seed N          data generator seed (20260101)
  --port N          server port (a free one)
  --host H          server host (127.0.0.1)
  --driver D        load driver's HTTP client: node (Node's own, default) or raw (raw sockets, lighter)
  --keep-data       keep the server's DATA_DIR
  --server PATH     compiled server entry (dist/server/main.js)`;

function parseOptions(argv: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      connections: { type: 'string', default: '16' },
      duration: { type: 'string' },
      minutes: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      patients: { type: 'string', default: '200' },
      seed: { type: 'string', default: '20260101' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      driver: { type: 'string', default: 'node' },
      'keep-data': { type: 'boolean', default: false },
      server: { type: 'string', default: path.join(PROJECT_ROOT, 'dist', 'server', 'main.js') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    suite: positionals[0] ?? DEFAULT_SUITE,
    connections: positiveNumber('connections', values.connections),
    durationMs: durationMs(positionals[0] ?? DEFAULT_SUITE, values.minutes, values.duration),
    warmupMs: Number(values.warmup) * 1000,
    patients: positiveNumber('patients', values.patients),
    seed: positiveNumber('seed', values.seed),
    host: values.host,
    port: values.port === undefined ? undefined : positiveNumber('port', values.port),
    keepData: values['keep-data'],
    serverScript: path.resolve(values.server),
    driver: loadDriver(values.driver),
  };
}

/** Seconds a suite runs for when neither --duration nor --minutes says: per phase, or in all for the soak. */
const DEFAULT_DURATION_S: Record<string, number> = { soak: 600 };

function durationMs(suite: string, minutes: string | undefined, seconds: string | undefined): number {
  if (minutes !== undefined) return positiveNumber('minutes', minutes) * 60_000;
  if (seconds !== undefined) return positiveNumber('duration', seconds) * 1000;
  return (DEFAULT_DURATION_S[suite] ?? 10) * 1000;
}

function loadDriver(text: string): LoadDriver {
  if (text !== 'node' && text !== 'raw') throw new Error(`--driver must be node or raw, got "${text}"`);
  return text;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const suite = SUITES[options.suite];
  if (!suite) throw new Error(`unknown suite "${options.suite}"\n${USAGE}`);
  const startedAt = new Date();
  const machine = machineInfo();
  console.error(`bench ${suite.name}: ${suite.description}`);
  const report = await suite.run(options);
  console.log(renderMarkdown(report, options, machine));
  const file = writeJsonReport(PROJECT_ROOT, report, options, machine, startedAt);
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

// Presents a suite's results: a Markdown table on stdout and a JSON file under bench-results/ with the
// machine it ran on, so figures from different runs and machines can be compared.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions, CeilingReport, PhaseReport, SuiteReport } from './suite';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryGb: number;
  platform: string;
  release: string;
  node: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    totalMemoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    release: os.release(),
    node: process.version,
    loadAverage: os.loadavg(),
  };
}

export function renderMarkdown(report: SuiteReport, options: BenchOptions, machine: MachineInfo): string {
  const lines = [
    `## Benchmark \`${report.suite}\``,
    '',
    `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}; ${options.connections} connections ` +
      `(${options.driver === 'raw' ? 'raw-socket' : 'Node http'} client), ` +
      `${options.durationMs / 1000} s per phase (after ${options.warmupMs / 1000} s warm-up), ` +
      `${options.patients} seeded patients, seed ${options.seed}`,
    '',
    '| Phase | Requests | Req/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Server RSS MB (peak) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.phases.map(phaseRow),
  ];
  if (report.ceilings.length > 0) {
    lines.push('', '| Ceiling | Figure | Ours | Ratio |', '|---|---:|---|---:|');
    lines.push(...report.ceilings.map(ceilingRow));
  }
  if (report.targets.length > 0) {
    lines.push('', '| Target | Ours | Goal | Met |', '|---|---:|---:|:---:|');
    lines.push(...report.targets.map((t) => `| ${t.name} | ${t.value} | ${t.goal} | ${t.met ? 'yes' : '**no**'} |`));
  }
  lines.push(...errorLines(report.phases), '', ...[...report.notes, ...machineNotes(machine)].map((n) => `- ${n}`));
  return lines.join('\n');
}

/** Loopback figures share the CPUs with everything else running: say so when the machine was busy. */
function machineNotes(machine: MachineInfo): string[] {
  const load = machine.loadAverage[0];
  if (load <= machine.cpus * 0.5) return [];
  return [`load average ${fixed(load, 2)} on ${machine.cpus} CPUs when the run started: figures are noisy`];
}

function phaseRow(phase: PhaseReport): string {
  const { load, memory } = phase;
  const rss = memory ? `${fixed(memory.rssMb, 0)} (${fixed(memory.peakRssMb, 0)})` : '-';
  const errors = load.errors > 0 ? `**${load.errors}**` : '0';
  const name = phase.note ? `${phase.name} (${phase.note})` : phase.name;
  return `| ${name} | ${load.requests} | ${fixed(load.requestsPerSecond, 0)} | ${fixed(load.latency.p50Ms, 2)} | ${fixed(
    load.latency.p95Ms,
    2,
  )} | ${fixed(load.latency.p99Ms, 2)} | ${fixed(load.latency.maxMs, 1)} | ${errors} | ${rss} |`;
}

function ceilingRow(ceiling: CeilingReport): string {
  const figure = `${fixed(ceiling.perSecond, 0)} ${ceiling.unit}`;
  if (!ceiling.ours) return `| ${ceiling.name} | ${figure} | - | - |`;
  const ratio = ceiling.perSecond > 0 ? `${fixed((100 * ceiling.ours.perSecond) / ceiling.perSecond, 1)}%` : '-';
  return `| ${ceiling.name} | ${figure} | ${ceiling.ours.name}: ${fixed(ceiling.ours.perSecond, 0)}/s | ${ratio} |`;
}

function errorLines(phases: PhaseReport[]): string[] {
  const failing = phases.filter((p) => p.load.errors > 0);
  if (failing.length === 0) return [];
  const lines = ['', 'Errors (status counts and first samples):'];
  for (const phase of failing) {
    lines.push(`- ${phase.name}: ${JSON.stringify(phase.load.statusCounts)}`);
    for (const sample of phase.load.errorSamples) {
      lines.push(`  - ${sample.status} ${sample.method} ${sample.path}: ${sample.detail.replace(/\s+/g, ' ')}`);
    }
  }
  return lines;
}

export function fixed(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Writes `bench-results/<suite>-<timestamp>.json` under `root` and returns its path. */
export function writeJsonReport(
  root: string,
  report: SuiteReport,
  options: BenchOptions,
  machine: MachineInfo,
  startedAt: Date,
): string {
  const dir = path.join(root, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${report.suite}-${stamp}.json`);
  const content = { startedAt: startedAt.toISOString(), machine, options, ...report };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

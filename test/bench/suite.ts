// The contract between the benchmark runner and its suites: the options every suite receives and the
// report every suite returns (phases, ceilings, targets), which the runner prints and saves.
import type { LoadDriver, LoadResult } from './load';

export interface MemoryUsage {
  /** resident set size now, MB */
  rssMb: number;
  /** peak resident set size so far, MB */
  peakRssMb: number;
}

export interface BenchOptions {
  suite: string;
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** patient records to seed before the measured phases */
  patients: number;
  seed: number;
  host: string;
  /** a free port is chosen when absent */
  port?: number;
  keepData: boolean;
  /** compiled server entry point */
  serverScript: string;
  /** the load driver's HTTP client */
  driver: LoadDriver;
}

export interface PhaseReport {
  name: string;
  load: LoadResult;
  /** server memory at the end of the phase */
  memory?: MemoryUsage;
  note?: string;
}

export interface CeilingReport {
  name: string;
  /** operations per second the bare mechanism reached */
  perSecond: number;
  unit: string;
  /** our comparable figure, shown as a ratio of the ceiling */
  ours?: { name: string; perSecond: number };
  detail: Record<string, unknown>;
}

export interface TargetCheck {
  name: string;
  value: string;
  goal: string;
  met: boolean;
}

export interface SuiteReport {
  suite: string;
  phases: PhaseReport[];
  ceilings: CeilingReport[];
  targets: TargetCheck[];
  notes: string[];
  /** anything else worth keeping in the JSON file */
  extra?: Record<string, unknown>;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<SuiteReport>;
}

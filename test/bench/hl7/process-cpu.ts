// CPU time a child process has used, from /proc (Linux): its main thread (the event loop) and all its threads
// (workers, libuv pool, GC). Per message processed, it says what the work costs even on a machine busy with
// other things, where rates and latencies are not reliable.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime: 100 on every Linux configuration Node runs on. */
const CLOCK_TICKS = 100;

export interface CpuTimes {
  /** the main thread's user + system time, ms */
  mainMs: number;
  /** every thread's, ms */
  totalMs: number;
}

/** undefined elsewhere than Linux, or once the process is gone. */
export function processCpu(pid: number): CpuTimes | undefined {
  try {
    return { mainMs: ticksMs(`/proc/${pid}/task/${pid}/stat`), totalMs: ticksMs(`/proc/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

export function cpuSince(before: CpuTimes | undefined, after: CpuTimes | undefined): CpuTimes | undefined {
  if (!before || !after) return undefined;
  return { mainMs: after.mainMs - before.mainMs, totalMs: after.totalMs - before.totalMs };
}

/** utime + stime (fields 14 and 15; the command name before them may hold spaces, hence after the last ")"). */
function ticksMs(file: string): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

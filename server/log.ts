// Structured logging: one JSON object per line on stdout. Callers pass only non-PHI fields (ids of requests,
// route patterns, statuses, durations); bodies, query values, resource ids and tokens are never logged.
import type { LogLevel } from './config';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether lines of this level are written, so callers can skip gathering their fields. */
  writes(level: Exclude<LogLevel, 'silent'>): boolean;
}

export function createLogger(level: LogLevel, write: (line: string) => void = defaultWrite): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: LogFields) => {
    if (RANK[at] < RANK[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields }) + '\n');
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    writes: (at) => RANK[at] >= RANK[level],
  };
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}

// Settings of Bulk Data `$export`: how many exports one client may have queued or running at once
// (EXPORT_MAX_CONCURRENT); a kick-off beyond is refused with 429 and Retry-After.
import { integer, type Env } from './env';

export interface ExportConfig {
  maxConcurrent: number;
}

export const DEFAULT_EXPORT_MAX_CONCURRENT = 2;

export function loadExportConfig(env: Env): ExportConfig {
  return { maxConcurrent: integer(env, 'EXPORT_MAX_CONCURRENT', DEFAULT_EXPORT_MAX_CONCURRENT, 1, 1000) };
}

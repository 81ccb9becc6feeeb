// Where the read-only shared material (conformance suites, fixtures) lives; never written to.
import path from 'node:path';
import fs from 'node:fs';

export const SHARED_DIR = process.env.HMS_SHARED_DIR ?? path.resolve(__dirname, '../../../shared');

export function sharedPath(...parts: string[]): string {
  const full = path.join(SHARED_DIR, ...parts);
  if (!fs.existsSync(full)) throw new Error(`shared material missing: ${full} (set HMS_SHARED_DIR)`);
  return full;
}

// Test data kept in the repository under test/fixtures/, each folder with its licence and source notes.
import fs from 'node:fs';
import path from 'node:path';

export const FIXTURES_DIR = path.resolve(__dirname, '../fixtures');

/** Path of a fixture file or folder; throws when it is missing rather than letting a test pass on nothing. */
export function fixturePath(...parts: string[]): string {
  const full = path.join(FIXTURES_DIR, ...parts);
  if (!fs.existsSync(full)) throw new Error(`test fixture missing: ${full}`);
  return full;
}

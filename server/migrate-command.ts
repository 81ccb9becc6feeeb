// `hms migrate`: copies every version of every resource and the audit log from one store to another (SQLite
// file or MongoDB URL) through the store port, then verifies counts and checksums per type and the audit chain's
// head. Re-running resumes a copy.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../resources/definitions';
import { applySearchParameterChange } from '../resources/prepare/preparer';
import { extractIndexEntries } from '../resources/search/extract';
import type { IndexEntry } from '../resources/search/index-entry';
import { SearchParameterRegistry } from '../resources/search/registry';
import { openStore } from '../resources/store';
import type { AuditMigration } from '../resources/store/migrate-audit';
import {
  DEFAULT_MIGRATION_BATCH,
  migrateStore,
  type MigrationProgress,
  type MigrationReport,
} from '../resources/store/migrate';
import type { ResourceStore, StoredVersion } from '../resources/store/port';
import { SqliteStore } from '../resources/store/sqlite/sqlite-store';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';
import { storedSearchParameters } from './services';

const MIGRATE_USAGE =
  'Usage: hms migrate --from <sqlite file | mongodb url> --to <mongodb url | sqlite file> [--batch N]';

/** Progress lines on stderr at most this often, so a long copy shows it is alive without flooding a log. */
const PROGRESS_INTERVAL_MS = 2000;

interface MigrateArguments {
  from: string;
  to: string;
  batch: number;
}

export async function migrateCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = migrateArguments(args);
  if (typeof parsed === 'string') {
    io.err(`hms migrate: ${parsed}\n${MIGRATE_USAGE}\n`);
    return 2;
  }
  if (!isMongoUrl(parsed.from) && !fs.existsSync(parsed.from)) {
    io.err(`hms migrate: no such file: ${parsed.from}\n`);
    return 2;
  }
  const source = await openLocation(parsed.from, 'source', io);
  if (!source) return 1;
  try {
    const target = await openLocation(parsed.to, 'target', io);
    if (!target) return 1;
    try {
      return await runMigration(source, target, parsed.batch, io);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** The migrate arguments, or what is wrong with them. */
function migrateArguments(args: string[]): MigrateArguments | string {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]];
    if (!['--from', '--to', '--batch'].includes(name)) return `unknown argument ${name}`;
    if (value === undefined || value.startsWith('--')) return `${name} needs a value`;
    values.set(name, value);
  }
  const [from, to] = [values.get('--from'), values.get('--to')];
  if (!from || !to) return 'give both --from and --to';
  const batch = Number(values.get('--batch') ?? DEFAULT_MIGRATION_BATCH);
  if (!Number.isSafeInteger(batch) || batch < 1) return '--batch must be a positive integer';
  if (sameLocation(from, to)) return '--from and --to are the same store';
  return { from, to, batch };
}

function isMongoUrl(location: string): boolean {
  return location.startsWith('mongodb://') || location.startsWith('mongodb+srv://');
}

function sameLocation(a: string, b: string): boolean {
  if (isMongoUrl(a) || isMongoUrl(b)) return a === b;
  const real = (file: string) => (fs.existsSync(file) ? fs.realpathSync(file) : path.resolve(file));
  return real(a) === real(b);
}

/** A URL may carry a password: messages show it without its user information. */
function displayLocation(location: string): string {
  return isMongoUrl(location) ? location.replace(/\/\/[^@/]*@/, '//***@') : location;
}

/** Opens a store, or reports why not (an unreadable file, a MongoDB that cannot be reached) and returns nothing. */
async function openLocation(
  location: string,
  role: 'source' | 'target',
  io: CliIo,
): Promise<ResourceStore | undefined> {
  try {
    if (!isMongoUrl(location)) return SqliteStore.open(location);
    // The MongoDB connection settings (server selection time, standalone for development) come from the
    // environment, as for the server.
    const { mongodbServerSelectionMs, mongodbAllowStandalone } = loadConfig();
    return await openStore({ dataDir: '', mongodbUrl: location, mongodbServerSelectionMs, mongodbAllowStandalone });
  } catch (error) {
    io.err(`hms migrate: cannot open the ${role} ${displayLocation(location)}: ${(error as Error).message}\n`);
    return undefined;
  }
}

async function runMigration(source: ResourceStore, target: ResourceStore, batch: number, io: CliIo): Promise<number> {
  const started = Date.now();
  let reportedAt = started;
  const onProgress = (progress: MigrationProgress) => {
    const now = Date.now();
    if (now - reportedAt < PROGRESS_INTERVAL_MS) return;
    reportedAt = now;
    io.err(`${progressLine(progress, now - started)}\n`);
  };
  let report: MigrationReport;
  try {
    report = await migrateStore(source, target, {
      entriesFor: await indexExtractor(source),
      batchSize: batch,
      onProgress,
    });
  } catch (error) {
    io.err(`hms migrate: ${(error as Error).message}\n`);
    return 1;
  }
  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  io.err(
    `migrate: copied ${report.copied} versions, ${report.skipped} already in the target, ` +
      `${Math.round((report.copied + report.skipped) / seconds)}/s\n`,
  );
  io.err(`migrate: copied ${report.audit.copied} audit records, ${report.audit.skipped} already in the target\n`);
  io.out(verificationTable(report));
  io.out(auditLine(report.audit));
  if (report.match) return 0;
  const failed = report.types.filter((t) => !t.match).map((t) => t.resourceType);
  if (failed.length > 0) {
    io.err(
      `hms migrate: verification failed for ${failed.join(', ')}: the target differs from the source ` +
        '(it holds versions that are not from this source, or lacks some)\n',
    );
  }
  if (!report.audit.match) {
    io.err(
      'hms migrate: the audit log differs from the source ' +
        '(the target held audit records that are not from this source, or lacks some)\n',
    );
  }
  return 1;
}

function progressLine(progress: MigrationProgress, elapsedMs: number): string {
  const rate = Math.round(progress.walked / Math.max(elapsedMs / 1000, 0.001));
  return progress.phase === 'copy'
    ? `migrate: ${progress.copied} versions copied, ${progress.skipped} already in the target (${rate}/s)`
    : `migrate: verifying, ${progress.walked} versions checked`;
}

/** Index entries as the server extracts them, including the SearchParameters the source created at run time. */
async function indexExtractor(source: ResourceStore): Promise<(stored: StoredVersion) => IndexEntry[]> {
  loadFhirDefinitions();
  const registry = SearchParameterRegistry.withBaseParameters();
  applySearchParameterChange(registry, { remove: [], add: await storedSearchParameters(source) });
  return (stored) => extractIndexEntries(registry, parseStored(stored));
}

/** JSON.parse quotes the text it fails on; the message names the version instead, never its content. */
function parseStored(stored: StoredVersion): Resource {
  try {
    return JSON.parse(stored.json as string) as Resource;
  } catch {
    throw new Error(`${stored.resourceType}/${stored.id} version ${stored.versionId} is not valid JSON in the source`);
  }
}

/** The audit log's record count and chain head (first 16 hex digits), as `source / target` where they differ. */
function auditLine({ source, target, match }: AuditMigration): string {
  const both = (s: string | number, d: string | number) => (s === d ? String(s) : `${s} / ${d}`);
  const head = both(source.head.slice(0, 16), target.head.slice(0, 16));
  return `Audit log: ${both(source.records, target.records)} records, head ${head}, ${match ? 'ok' : 'MISMATCH'}\n`;
}

/** Counts and the first 16 hex digits of each checksum; a differing value shows as `source / target`. */
function verificationTable(report: MigrationReport): string {
  const rows = report.types.map((t) => {
    const both = (s: string | number, d: string | number) => (s === d ? String(s) : `${s} / ${d}`);
    return [
      t.resourceType,
      both(t.source.versions, t.target.versions),
      both(t.source.current, t.target.current),
      both(t.source.checksum.slice(0, 16), t.target.checksum.slice(0, 16)),
      t.match ? 'ok' : 'MISMATCH',
    ];
  });
  const table = [['Resource type', 'Versions', 'Current', 'Checksum (sha256)', 'Verified'], ...rows];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  const summary = report.types.every((t) => t.match)
    ? `all ${report.types.length} resource types match`
    : `${report.types.filter((t) => !t.match).length} of ${report.types.length} resource types differ`;
  return `${lines.join('\n')}\n${summary}\n`;
}

// The walk of an export, shared by the export job and `hms export`: for each type, its units (units.ts) in
// pages of the store's search, read with the grants of the token that asked, written as NDJSON parts
// (parts.ts). It checkpoints after each part it writes at a position where the next attempt can start afresh
// (a page boundary of a one-search unit, or the end of a unit), so a restart or retry continues instead of
// starting over. With `_since`, each type's resources are followed by its deletions (deletions.ts), walked
// through the type's history with the same grants and checkpointed at its page boundaries.
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { FhirError } from '../errors';
import { Repository, type RepositoryServices } from '../repository';
import type { SearchParamPairs } from '../search/parse';
import { emptyShaping } from '../search/result-params';
import { shapeResource } from '../search/summary';
import type { StoredVersion } from '../store/port';
import { deletionFilter, deletionLine, type DeletionFilter } from './deletions';
import { restoredAccess, type ExportFile, type ExportJob } from './export-job';
import { DEFAULT_PART_LIMITS, PartWriter, type PartLimits, type PartSink } from './parts';
import { exportUnits, type ExportUnit, type ExportUnits } from './units';

export interface ExportSettings {
  parts: PartLimits;
  /** Resources per search page. */
  pageSize: number;
  /** How long files are kept after the export completed. */
  retentionMs: number;
  /** Exports one client may have queued or running at once; a kick-off beyond is a 429. */
  maxConcurrent: number;
}

export const DEFAULT_EXPORT_SETTINGS: ExportSettings = {
  parts: DEFAULT_PART_LIMITS,
  pageSize: 1000,
  retentionMs: 24 * 60 * 60_000,
  maxConcurrent: 2,
};

/**
 * Where an export is: the type, the unit in it, the search cursor in a one-search unit (or, once the type's
 * deletions are being listed, the history cursor), and what it wrote.
 */
export interface ExportCheckpoint {
  typeIndex: number;
  unit?: string;
  cursor?: string;
  /** The type's resources are written; its deletions are being listed from `cursor`. */
  deletions?: boolean;
  files: ExportFile[];
  exported: number;
  /** Warnings for the manifest's `error` (deletions a token's grants do not let the export list). */
  warnings?: string[];
}

export interface ExportRun {
  job: ExportJob;
  sink: PartSink;
  settings: ExportSettings;
  /** Where a previous attempt stopped. */
  checkpoint?: ExportCheckpoint;
  /** Stores the checkpoint (the job's Task); throws to stop the export. */
  save(checkpoint: ExportCheckpoint): Promise<void>;
  /** Throws to stop the export between pages. */
  assertActive(): void;
}

/** Runs (or resumes) the export; resolves with everything it wrote. */
export async function runExport(services: RepositoryServices, run: ExportRun): Promise<ExportCheckpoint> {
  const { job } = run;
  const state: ExportCheckpoint = run.checkpoint ?? { typeIndex: 0, files: [], exported: 0 };
  const system = new Repository(services, SYSTEM_ACCESS);
  const walk: Walk = {
    run,
    state,
    repo: new Repository(services, restoredAccess(job.access)),
    units: exportUnits(job, services.registry, system),
    deletions: job.request.since ? deletionFilter(job, services.registry, system) : undefined,
    writer: new PartWriter(run.sink, state.files, run.settings.parts),
  };
  while (state.typeIndex < job.types.length) {
    const type = job.types[state.typeIndex];
    if (!state.deletions) await exportType(walk, type);
    if (walk.deletions) await exportDeletions(walk, walk.deletions, type);
    Object.assign(state, { typeIndex: state.typeIndex + 1, unit: undefined, cursor: undefined, deletions: undefined });
    await run.save(state);
  }
  await writeErrors(walk);
  return state;
}

interface Walk {
  run: ExportRun;
  state: ExportCheckpoint;
  repo: Repository;
  units: ExportUnits;
  /** Set when the export lists deletions (`_since`). */
  deletions?: DeletionFilter;
  writer: PartWriter;
}

async function exportType(walk: Walk, type: string): Promise<void> {
  const { state, writer } = walk;
  let position = state.unit;
  let resumeCursor = state.cursor;
  for (;;) {
    const unit = await walk.units.at(type, position);
    if (!unit) break;
    await exportUnit(walk, type, unit, position, resumeCursor);
    resumeCursor = undefined;
    position = unit.next;
    if (!position) break;
    // The end of a unit is a place to start from: a good moment to close a full part.
    if (writer.full) await flushAndSave(walk, type, { unit: position, cursor: undefined });
  }
  // The caller checkpoints the type's end.
  await writer.flush(type);
}

async function exportUnit(
  walk: Walk,
  type: string,
  unit: ExportUnit,
  position: string | undefined,
  resumeCursor: string | undefined,
): Promise<void> {
  // Several searches may find the same resource; one alone never does (and then needs no memory of ids).
  const seen = unit.queries.length > 1 ? new Set<string>() : undefined;
  for (const query of unit.queries) {
    let cursor = seen ? undefined : resumeCursor;
    do {
      walk.run.assertActive();
      const page = await searchPage(walk, type, query, cursor);
      for (const stored of page.entries) {
        if (seen?.has(stored.id)) continue;
        seen?.add(stored.id);
        walk.writer.add(line(walk.run.job, stored));
        walk.state.exported++;
      }
      cursor = page.next;
      // Within a one-search unit every page boundary is a place to start from.
      if (!seen && cursor && walk.writer.full) await flushAndSave(walk, type, { unit: position, cursor });
    } while (cursor);
  }
}

async function searchPage(walk: Walk, type: string, query: SearchParamPairs, cursor: string | undefined) {
  const since = walk.run.job.request.since;
  const params: SearchParamPairs = [
    ...query,
    ...(since ? [['_lastUpdated', `gt${since}`] as [string, string]] : []),
    ['_count', String(walk.run.settings.pageSize)],
    ['_total', 'none'],
    ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
  ];
  return (await walk.repo.search([type], params, { strict: true, internal: true })).page;
}

/** The resource's NDJSON line, cut down to `_elements` (and tagged SUBSETTED) when asked. */
function line(job: ExportJob, stored: StoredVersion): string {
  const json = stored.json as string;
  const elements = job.request.elements;
  if (!elements) return json;
  const names = [...elements.all, ...(elements.byType[stored.resourceType] ?? [])];
  const shaping = { ...emptyShaping(), elements: names };
  return JSON.stringify(shapeResource(JSON.parse(json) as Resource, shaping));
}

/**
 * The type's deletions since `_since`, from its history read with the client's grants: a token whose grants
 * on the type are restricted (granular or patient scopes) may not read the type's history, and then its
 * deletions are not listed and a warning says so.
 */
async function exportDeletions(walk: Walk, filter: DeletionFilter, type: string): Promise<void> {
  const { state, writer, run } = walk;
  const since = Date.parse(run.job.request.since as string);
  let cursor = state.deletions ? state.cursor : undefined;
  do {
    run.assertActive();
    const page = await historyPage(walk, type, since, cursor);
    if (!page) return;
    for (const version of page.entries) if (await filter.lists(version)) writer.add(deletionLine(version));
    cursor = page.next;
    if (cursor && writer.full) await flushAndSave(walk, DELETED_FILE_TYPE, { deletions: true, cursor }, type);
  } while (cursor);
  await writer.flush(DELETED_FILE_TYPE, { deleted: type });
}

/** The resource type of `deleted` files: every line is a Bundle. */
const DELETED_FILE_TYPE = 'Bundle';

async function historyPage(walk: Walk, type: string, since: number, cursor: string | undefined) {
  try {
    return await walk.repo.history({ resourceType: type, since, count: walk.run.settings.pageSize, cursor });
  } catch (error) {
    if (!(error instanceof FhirError && error.status === 403)) throw error;
    const warning = `Deleted ${type} resources are not listed: the access token's grants on ${type} are restricted, and a deleted resource has no content to check them against`;
    walk.state.warnings = [...(walk.state.warnings ?? []), warning];
    return undefined;
  }
}

async function flushAndSave(
  walk: Walk,
  type: string,
  position: Pick<ExportCheckpoint, 'unit' | 'cursor' | 'deletions'>,
  deletedType?: string,
): Promise<void> {
  await walk.writer.flush(type, deletedType ? { deleted: deletedType } : {});
  Object.assign(walk.state, position);
  await walk.run.save(walk.state);
}

/**
 * The parameters ignored under `handling=lenient` and the walk's warnings, as an OperationOutcome file for the
 * manifest's `error`.
 */
async function writeErrors(walk: Walk): Promise<void> {
  const { ignored } = walk.run.job.request;
  const warnings = walk.state.warnings ?? [];
  if (ignored.length + warnings.length === 0 || walk.state.files.some((f) => f.error)) return;
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      ...ignored.map((diagnostics) => ({ severity: 'warning' as const, code: 'not-supported' as const, diagnostics })),
      ...warnings.map((diagnostics) => ({ severity: 'warning' as const, code: 'forbidden' as const, diagnostics })),
    ],
  };
  walk.writer.add(JSON.stringify(outcome));
  await walk.writer.flush('OperationOutcome', { error: true });
}

// The walk of an export, shared by the export job and `hms export`: for each type, its units (units.ts) in
// pages of the store's search, read with the grants of the token that asked, written as NDJSON parts
// (parts.ts). It checkpoints after each part it writes at a position where the next attempt can start afresh
// (a page boundary of a one-search unit, or the end of a unit), so a restart or retry continues instead of
// starting over.
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../access';
import { Repository, type RepositoryServices } from '../repository';
import type { SearchParamPairs } from '../search/parse';
import { emptyShaping } from '../search/result-params';
import { shapeResource } from '../search/summary';
import type { StoredVersion } from '../store/port';
import { restoredAccess, type ExportFile, type ExportJob } from './export-job';
import { DEFAULT_PART_LIMITS, PartWriter, type PartLimits, type PartSink } from './parts';
import { exportUnits, type ExportUnit, type ExportUnits } from './units';

export interface ExportSettings {
  parts: PartLimits;
  /** Resources per search page. */
  pageSize: number;
  /** How long files are kept after the export completed. */
  retentionMs: number;
}

export const DEFAULT_EXPORT_SETTINGS: ExportSettings = {
  parts: DEFAULT_PART_LIMITS,
  pageSize: 1000,
  retentionMs: 24 * 60 * 60_000,
};

/** Where an export is: the type, the unit in it, the search cursor in a one-search unit, and what it wrote. */
export interface ExportCheckpoint {
  typeIndex: number;
  unit?: string;
  cursor?: string;
  files: ExportFile[];
  exported: number;
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
  const walk: Walk = {
    run,
    state,
    repo: new Repository(services, restoredAccess(job.access)),
    units: exportUnits(job, services.registry, new Repository(services, SYSTEM_ACCESS)),
    writer: new PartWriter(run.sink, state.files, run.settings.parts),
  };
  while (state.typeIndex < job.types.length) {
    await exportType(walk, job.types[state.typeIndex]);
    Object.assign(state, { typeIndex: state.typeIndex + 1, unit: undefined, cursor: undefined });
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

async function flushAndSave(
  walk: Walk,
  type: string,
  position: Pick<ExportCheckpoint, 'unit' | 'cursor'>,
): Promise<void> {
  await walk.writer.flush(type);
  Object.assign(walk.state, position);
  await walk.run.save(walk.state);
}

/** The parameters ignored under `handling=lenient`, as an OperationOutcome file for the manifest's `error`. */
async function writeErrors(walk: Walk): Promise<void> {
  const { ignored } = walk.run.job.request;
  if (ignored.length === 0 || walk.state.files.some((f) => f.error)) return;
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: ignored.map((diagnostics) => ({ severity: 'warning', code: 'not-supported', diagnostics })),
  };
  walk.writer.add(JSON.stringify(outcome));
  await walk.writer.flush('OperationOutcome', true);
}

// What an export job carries on its Task: the checked request, the types it covers, the kick-off URL and time,
// the client it belongs to, and the grants of the token that asked (the job reads with exactly those), plus
// how its results (the files written) are recorded on the Task as it goes.
import type { Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import type { AccessContext, Permission, ResourceGrant } from '../access';
import type { ExportRequest } from './request';

export const EXPORT_KIND = 'export';
export const EXPORT_CLEANUP_KIND = 'export-cleanup';

export interface ExportJob {
  request: ExportRequest;
  types: string[];
  /** The kick-off URL, for the manifest's `request`. */
  requestUrl: string;
  transactionTime: string;
  /** The client (or user) the files are for: status and downloads answer only it. */
  owner: string;
  access: StoredAccess;
}

/** An AccessContext as JSON (grant permissions as strings). */
export interface StoredAccess {
  actor: string;
  clientId?: string;
  userId?: string;
  fhirUser?: string;
  role?: string;
  patient?: string;
  grants?: { level: ResourceGrant['level']; resourceType: string; permissions: string; query?: [string, string][] }[];
}

/** One written file: its resource type, its part number (its blob key) and how many lines it holds. */
export interface ExportFile {
  type: string;
  part: number;
  count: number;
  /** A file of OperationOutcomes for the manifest's `error`. */
  error?: boolean;
  /** A file for the manifest's `deleted` (its lines are Bundles): the type whose deletions it lists. */
  deleted?: string;
}

const JOB_INPUT = 'export';
const FILES_OUTPUT = 'files';
const EXPORTED_OUTPUT = 'exported';
/** businessStatus of an export whose files are gone (expired or deleted by the client). */
export const FILES_REMOVED = 'files removed';

/** Who the job belongs to: the token's client, else its user or actor. */
export function ownerOf(access: AccessContext): string {
  return access.clientId ?? access.userId ?? access.actor;
}

export function storeAccess(access: AccessContext): StoredAccess {
  const { actor, clientId, userId, fhirUser, role, patient } = access;
  const grants = access.grants?.map((g) => ({
    level: g.level,
    resourceType: g.resourceType,
    permissions: [...g.permissions].join(''),
    ...(g.query ? { query: g.query } : {}),
  }));
  return { actor, clientId, userId, fhirUser, role, patient, ...(grants ? { grants } : {}) };
}

/** The job's AccessContext: the grants the token had at kick-off, never more. */
export function restoredAccess(stored: StoredAccess): AccessContext {
  const { grants, ...rest } = stored;
  return {
    ...rest,
    ...(grants
      ? {
          grants: grants.map((g) => ({
            ...g,
            permissions: new Set(g.permissions.split('') as Permission[]),
          })),
        }
      : {}),
  };
}

export function exportJobInput(job: ExportJob): TaskInput[] {
  return [{ type: { text: JOB_INPUT }, valueString: JSON.stringify(job) }];
}

export function readExportJob(task: Task): ExportJob {
  const input = task.input?.find((i) => i.type.text === JOB_INPUT)?.valueString;
  return JSON.parse(input ?? '{}') as ExportJob;
}

export function exportOutputs(files: ExportFile[], exported: number): TaskOutput[] {
  return [
    { type: { text: FILES_OUTPUT }, valueString: JSON.stringify(files) },
    { type: { text: EXPORTED_OUTPUT }, valueInteger: exported },
  ];
}

/** The files the Task records (written so far, or all of them once it completed). */
export function exportFiles(task: Task): ExportFile[] {
  const files = task.output?.find((o) => o.type.text === FILES_OUTPUT)?.valueString;
  return files ? (JSON.parse(files) as ExportFile[]) : [];
}

export function exportedCount(task: Task): number {
  return task.output?.find((o) => o.type.text === EXPORTED_OUTPUT)?.valueInteger ?? 0;
}

// A background job IS a Task resource: this module maps between the Task and the job's state (kind, status,
// lease, attempts, next attempt, checkpoint), so the runner works on any store with no tables of its own.
import type { Extension, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';

/** `Task.code` system naming the job kind (`reindex`, `export`, ...). */
export const JOB_KIND_SYSTEM = 'http://hms.local/fhir/CodeSystem/job-kind';

const EXTENSION = 'http://hms.local/fhir/StructureDefinition/job-';
const OWNER = `${EXTENSION}owner`;
const LEASE_UNTIL = `${EXTENSION}lease-until`;
const ATTEMPTS = `${EXTENSION}attempts`;
const MAX_ATTEMPTS = `${EXTENSION}max-attempts`;
const NOT_BEFORE = `${EXTENSION}next-attempt-at`;
const SIGNATURE = `${EXTENSION}signature`;
const JOB_EXTENSIONS = new Set([OWNER, LEASE_UNTIL, ATTEMPTS, MAX_ATTEMPTS, NOT_BEFORE, SIGNATURE]);

/** The output entry holding the handler's checkpoint (JSON), so a resumed job continues where it stopped. */
export const CHECKPOINT_OUTPUT = 'checkpoint';

export type JobStatus = 'requested' | 'in-progress' | 'completed' | 'failed' | 'cancelled';

export interface JobState {
  kind: string;
  status: JobStatus;
  /** Attempts started so far (a claim counts one). */
  attempts: number;
  maxAttempts: number;
  /** The node that holds the lease while in progress. */
  owner?: string;
  /** Epoch ms; an in-progress job whose lease ran out has no live runner. */
  leaseUntil?: number;
  /** Epoch ms before which a requested job is not claimed (retry backoff). */
  notBefore?: number;
  checkpoint?: unknown;
  /** The server's signature of the kind and input (signature.ts). */
  signature?: string;
}

/**
 * The Task of a new job, waiting to be claimed. `label` is the human-readable code text (`$reindex`);
 * `signature` the server's signature of kind and input (signature.ts).
 */
export function newJobTask(
  kind: string,
  label: string,
  input: TaskInput[],
  maxAttempts: number,
  signature: string,
): Task {
  const now = new Date().toISOString();
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: JOB_KIND_SYSTEM, code: kind }], text: label },
    authoredOn: now,
    lastModified: now,
    extension: [
      { url: ATTEMPTS, valueInteger: 0 },
      { url: MAX_ATTEMPTS, valueInteger: maxAttempts },
      { url: SIGNATURE, valueString: signature },
    ],
    ...(input.length > 0 ? { input } : {}),
  };
}

export function jobKindOf(task: Task): string | undefined {
  return task.code?.coding?.find((c) => c.system === JOB_KIND_SYSTEM)?.code;
}

export function readJob(task: Task): JobState {
  const extension = (url: string) => task.extension?.find((e) => e.url === url);
  const instant = (url: string) => {
    const value = extension(url)?.valueInstant;
    return value === undefined ? undefined : Date.parse(value);
  };
  const checkpoint = task.output?.find((o) => o.type.text === CHECKPOINT_OUTPUT)?.valueString;
  return {
    kind: jobKindOf(task) ?? '',
    status: task.status as JobStatus,
    attempts: extension(ATTEMPTS)?.valueInteger ?? 0,
    maxAttempts: extension(MAX_ATTEMPTS)?.valueInteger ?? 1,
    owner: extension(OWNER)?.valueString,
    leaseUntil: instant(LEASE_UNTIL),
    notBefore: instant(NOT_BEFORE),
    checkpoint: checkpoint === undefined ? undefined : JSON.parse(checkpoint),
    signature: extension(SIGNATURE)?.valueString,
  };
}

export interface JobChange {
  status?: JobStatus;
  attempts?: number;
  /** null clears. */
  owner?: string | null;
  leaseUntil?: number | null;
  notBefore?: number | null;
  /** Why the job failed or waits for a retry; null clears. */
  reason?: string | null;
  /** Replaces the checkpoint (undefined keeps it, null drops it). */
  checkpoint?: unknown;
  /** Progress or result outputs, replacing those of the same name. */
  outputs?: TaskOutput[];
  businessStatus?: string;
}

/** The Task with the change applied (lastModified set to `now`). */
export function applyJobChange(task: Task, change: JobChange, now: number): Task {
  const state = readJob(task);
  const merged = { ...state, ...definedOnly(change) };
  const next: Task = {
    ...task,
    status: merged.status,
    lastModified: new Date(now).toISOString(),
    extension: [...(task.extension ?? []).filter((e) => !JOB_EXTENSIONS.has(e.url)), ...jobExtensions(merged)],
    output: mergedOutputs(task.output, change),
  };
  if (change.businessStatus !== undefined) next.businessStatus = { text: change.businessStatus };
  if (change.reason === null) delete next.statusReason;
  else if (change.reason !== undefined) next.statusReason = { text: change.reason };
  if (next.output?.length === 0) delete next.output;
  return withExecutionPeriod(next, merged.status, now);
}

function definedOnly(change: JobChange): Partial<JobState> {
  const state: Record<string, unknown> = {};
  for (const key of ['status', 'attempts', 'owner', 'leaseUntil', 'notBefore'] as const) {
    const value = change[key];
    if (value !== undefined) state[key] = value ?? undefined;
  }
  return state as Partial<JobState>;
}

function jobExtensions(state: JobState): Extension[] {
  const instant = (ms: number) => new Date(ms).toISOString();
  const extensions: Extension[] = [
    { url: ATTEMPTS, valueInteger: state.attempts },
    { url: MAX_ATTEMPTS, valueInteger: state.maxAttempts },
  ];
  if (state.owner !== undefined) extensions.push({ url: OWNER, valueString: state.owner });
  if (state.leaseUntil !== undefined) extensions.push({ url: LEASE_UNTIL, valueInstant: instant(state.leaseUntil) });
  if (state.notBefore !== undefined) extensions.push({ url: NOT_BEFORE, valueInstant: instant(state.notBefore) });
  if (state.signature !== undefined) extensions.push({ url: SIGNATURE, valueString: state.signature });
  return extensions;
}

function mergedOutputs(current: TaskOutput[] | undefined, change: JobChange): TaskOutput[] {
  const replaced = new Set((change.outputs ?? []).map((o) => o.type.text));
  if (change.checkpoint !== undefined) replaced.add(CHECKPOINT_OUTPUT);
  const kept = (current ?? []).filter((o) => !replaced.has(o.type.text));
  const checkpoint =
    change.checkpoint === undefined || change.checkpoint === null
      ? []
      : [{ type: { text: CHECKPOINT_OUTPUT }, valueString: JSON.stringify(change.checkpoint) }];
  return [...kept, ...(change.outputs ?? []), ...checkpoint];
}

/** executionPeriod: start when first claimed, end when the job reached a final status. */
function withExecutionPeriod(task: Task, status: JobStatus, now: number): Task {
  const at = new Date(now).toISOString();
  if (status === 'in-progress' && !task.executionPeriod?.start) return { ...task, executionPeriod: { start: at } };
  if (isFinal(status)) return { ...task, executionPeriod: { ...task.executionPeriod, end: at } };
  return task;
}

export function isFinal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

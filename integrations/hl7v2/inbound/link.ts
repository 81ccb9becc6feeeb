// Links a mapped Bundle to what the store already holds: each conditional reference (the patient by MRN,
// the order by placer number) is resolved to the one match. A reference with no single match keeps its
// identifier as a logical reference, and the message's results go on the orphan worklist as a Task, so a
// result for an unknown patient or order is stored and findable, never dropped.
import type { Bundle, BundleEntry, Reference, Resource, Task } from '@medplum/fhirtypes';
import { conditionalReferences, rewriteReferences } from '../../../resources/bundle-references';
import type { Repository } from '../../../resources/repository';
import { parseCriteria } from '../../../server/fhir/headers';

export const ORPHAN_SYSTEM = 'urn:hms:hl7:orphan';
export const ORPHAN_CODE = { system: 'urn:hms:task', code: 'hl7-unmatched', display: 'HL7 message not matched' };

export interface LinkResult {
  bundle: Bundle;
  /** The conditional references that matched no resource or several. */
  unmatched: string[];
}

/**
 * Links the Bundle. On a rerun (a reprocess) whose references now all match, the orphan Task of the earlier
 * run is completed in the same transaction, so the worklist does not keep what is done.
 */
export async function linkBundle(
  repo: Repository,
  bundle: Bundle,
  messageId: string,
  options: { rerun?: boolean } = {},
): Promise<LinkResult> {
  const entries = bundle.entry ?? [];
  const wanted = new Set<string>();
  for (const entry of entries) {
    if (entry.resource?.resourceType !== 'Binary') conditionalReferences(entry.resource, wanted);
  }
  const resolved = new Map<string, string>();
  const unmatched: string[] = [];
  for (const reference of wanted) {
    const match = await singleMatch(repo, reference);
    if (match) resolved.set(reference, match);
    else unmatched.push(reference);
  }
  const linked = entries.map((entry) => ({
    ...entry,
    ...(entry.resource && entry.resource.resourceType !== 'Binary'
      ? { resource: logicalReferences(rewriteReferences(entry.resource, resolved), new Set(unmatched)) }
      : {}),
  }));
  if (unmatched.length > 0) linked.push(orphanTask(linked, unmatched, messageId));
  else if (options.rerun) linked.push(...(await closedOrphanTasks(repo, messageId)));
  return { bundle: { ...bundle, entry: linked }, unmatched };
}

/** The open orphan Tasks of a message, completed: its links are made now (by this message's run). */
async function closedOrphanTasks(repo: Repository, messageId: string): Promise<BundleEntry[]> {
  const criteria = [
    ['identifier', `${ORPHAN_SYSTEM}|${messageId}`],
    ['status:not', 'completed'],
  ] as [string, string][];
  const { page } = await repo.search(['Task'], criteria, { strict: true });
  return page.entries.map((found) => {
    const task = JSON.parse(found.json ?? '{}') as Task;
    const closed: Task = {
      ...task,
      status: 'completed',
      businessStatus: { text: 'matched' },
      statusReason: { text: 'Linked when the message was reprocessed' },
    };
    return {
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource: closed as Resource,
      request: { method: 'PUT', url: `Task/${task.id}` },
    };
  });
}

async function singleMatch(repo: Repository, reference: string): Promise<string | undefined> {
  const type = reference.slice(0, reference.indexOf('?'));
  const { page } = await repo.search([type], [...parseCriteria(reference), ['_count', '2']], { strict: true });
  return page.entries.length === 1 ? `${type}/${page.entries[0].id}` : undefined;
}

/** An unmatched `Type?identifier=system|value` becomes `{ type, identifier }`; `Type?_id=` keeps only its display. */
function logicalReferences<T>(value: T, unmatched: ReadonlySet<string>): T {
  if (unmatched.size === 0 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => logicalReferences(item, unmatched)) as T;
  const record = value as Record<string, unknown>;
  if (typeof record.reference === 'string' && unmatched.has(record.reference)) {
    return logicalReference(record as Reference) as T;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, logicalReferences(v, unmatched)])) as T;
}

function logicalReference(reference: Reference): Reference {
  const text = reference.reference as string;
  const type = text.slice(0, text.indexOf('?')) as Reference['type'];
  const token = new URLSearchParams(text.slice(text.indexOf('?') + 1)).get('identifier');
  const { reference: _unmatched, ...rest } = reference;
  if (!token) return { ...rest, type, ...(rest.display ? {} : { display: `Unmatched ${type}` }) };
  const bar = unescapedBar(token);
  const identifier =
    bar < 0
      ? { value: unescape(token) }
      : { system: unescape(token.slice(0, bar)), value: unescape(token.slice(bar + 1)) };
  return { ...rest, type, identifier };
}

const unescape = (value: string) => value.replace(/\\(.)/g, '$1');

function unescapedBar(token: string): number {
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '\\') i++;
    else if (token[i] === '|') return i;
  }
  return -1;
}

/** What a person opens from the worklist: the message's main resource rather than whatever was mapped first. */
const FOCUS_TYPES = ['DiagnosticReport', 'ServiceRequest', 'Appointment', 'ChargeItem', 'Encounter', 'Patient'];

/** The worklist item: focus on the message's main resource (a report, an order...), saying which links are missing. */
function orphanTask(entries: BundleEntry[], unmatched: string[], messageId: string): BundleEntry {
  const candidates = entries.filter((e) => e.fullUrl && e.resource && e.resource.resourceType !== 'Binary');
  const rank = (e: BundleEntry) => {
    const index = FOCUS_TYPES.indexOf(e.resource?.resourceType ?? '');
    return index < 0 ? FOCUS_TYPES.length : index;
  };
  const focus = candidates.reduce<BundleEntry | undefined>(
    (best, e) => (!best || rank(e) < rank(best) ? e : best),
    undefined,
  );
  const kinds = [...new Set(unmatched.map((r) => r.slice(0, r.indexOf('?'))))];
  const task: Task = {
    resourceType: 'Task',
    identifier: [{ system: ORPHAN_SYSTEM, value: messageId }],
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [ORPHAN_CODE], text: 'Match an HL7 message to its patient or order' },
    businessStatus: { text: kinds.map((k) => `unknown ${k}`).join(', ') },
    description: `No single match for ${unmatched.join(', ')}`,
    ...(focus ? { focus: { reference: focus.fullUrl } } : {}),
    input: [{ type: { text: 'hl7-message' }, valueString: messageId }],
  };
  return {
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource: task as Resource,
    request: { method: 'PUT', url: `Task?identifier=${encodeURIComponent(`${ORPHAN_SYSTEM}|${messageId}`)}` },
  };
}

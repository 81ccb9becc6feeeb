// transaction: all entries in one store transaction (one failure: nothing stored), in the spec's order:
// DELETE, then POST, then PUT/PATCH, then GET/HEAD. After the deletes, every create's id is fixed (a
// matching conditional create takes the existing id) and conditional references are resolved, so urn:uuid,
// relative (bundle-relative-references.ts) and conditional references can be rewritten everywhere before
// anything else is written.
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, badRequest, outcome, preconditionFailed } from '../../resources/errors';
import { conditionalReferences, rewriteReferences } from '../../resources/bundle-references';
import { newId } from '../../resources/ids';
import { isObject } from '../../resources/search/types/value';
import type { Repository } from '../../resources/repository';
import type { Dispatch, FhirMethod, FhirRequest, FhirResponse } from './context';
import { entryLocation, entryRequest, type ParsedEntry } from './bundle-entry';
import { parseCriteria } from './headers';
import { relativeReferenceMapping, type EntryMapping } from './bundle-relative-references';

const PHASES: FhirMethod[][] = [['DELETE'], ['POST'], ['PUT', 'PATCH'], ['GET', 'HEAD']];
const WRITES = new Set<FhirMethod>(['DELETE', 'POST', 'PUT', 'PATCH']);

export async function runTransaction(
  request: FhirRequest,
  entries: ParsedEntry[],
  dispatch: Dispatch,
): Promise<FhirResponse[]> {
  const conditional = conditionalReferencesOf(entries);
  const ahead = needsNoLookups(entries, conditional) ? await preparedAhead(request, entries, conditional) : undefined;
  const checked = ahead?.prepared ?? (await prevalidated(request.repo, entries));
  return request.repo.withTransaction(async (repo) => {
    const responses: FhirResponse[] = new Array(entries.length);
    const written = new Set<string>();
    let mappingOf: EntryMapping = () => new Map();
    for (const [phase, methods] of PHASES.entries()) {
      if (phase === 1) {
        mappingOf =
          ahead?.mappingOf ??
          relativeReferenceMapping(await assignReferences(repo, entries, conditional), request.baseUrl);
      }
      for (const entry of entries.filter((e) => methods.includes(e.method))) {
        const body = ahead?.bodies.get(entry) ?? rewrittenBody(entry, mappingOf(entry.fullUrl));
        if (checked.has(entry)) repo.trustValidation(body as Resource, checked.get(entry));
        const response = await run(() => dispatch(entryRequest(request, repo, entry, body), entry.segments), entry);
        if (WRITES.has(entry.method)) checkWrittenOnce(response, written, entry);
        responses[entry.index] = response;
      }
    }
    return responses;
  });
}

/**
 * The entry's body with fullUrl and conditional references replaced: the resource of a POST or PUT, or the
 * values of a JSON Patch or FHIRPath Patch (a patch may link to a resource the same transaction creates).
 */
function rewrittenBody(entry: ParsedEntry, references: ReadonlyMap<string, string>): unknown {
  if (entry.method === 'PATCH') {
    return typeof entry.body === 'object' && entry.body !== null
      ? rewriteReferences(entry.body, references)
      : entry.body;
  }
  return entry.resource ? rewriteReferences(entry.resource, references) : entry.body;
}

/** Entries with a resource the repository validates: POST and PUT (a PATCH's resource is the patched one). */
const resourceWrites = (entries: ParsedEntry[]) =>
  entries.filter((e) => (e.method === 'POST' || e.method === 'PUT') && isObject(e.resource));

/**
 * The POST and PUT entries whose resources pass validation, checked on the preparation workers before the
 * write lock is taken (the lock is held for the whole Bundle). An entry that fails is validated again inside
 * and fails there, with its own error.
 */
async function prevalidated(repo: Repository, entries: ParsedEntry[]): Promise<Map<ParsedEntry, undefined>> {
  const writes = resourceWrites(entries);
  const passed = await repo.prevalidate(writes.map((e) => e.resource as Resource));
  return new Map(writes.filter((_, i) => passed[i]).map((e) => [e, undefined]));
}

/** Every conditional reference (`Type?criteria`) of the Bundle's resources, with the first entry holding it. */
function conditionalReferencesOf(entries: ParsedEntry[]): Map<string, ParsedEntry> {
  const found = new Map<string, ParsedEntry>();
  for (const entry of entries) {
    const holder = entry.method === 'PATCH' ? entry.body : entry.resource;
    for (const reference of conditionalReferences(holder)) {
      if (!found.has(reference)) found.set(reference, entry);
    }
  }
  return found;
}

/**
 * True when no entry's target or reference depends on what the store holds: no conditional create, update
 * or reference. Such a Bundle's ids and references are known before the write lock is taken.
 */
function needsNoLookups(entries: ParsedEntry[], conditional: ReadonlyMap<string, ParsedEntry>): boolean {
  return (
    conditional.size === 0 &&
    entries.every(
      (e) => !(e.method === 'POST' && e.entry.request?.ifNoneExist) && !(e.method === 'PUT' && e.query.length > 0),
    )
  );
}

/**
 * For a Bundle that needs no lookups: its ids and references, the rewritten resources, and the index entries
 * of each that passed validation, all computed before the write lock; the preparation workers validate and
 * index, so the transaction itself only writes.
 */
async function preparedAhead(
  request: FhirRequest,
  entries: ParsedEntry[],
  conditional: ReadonlyMap<string, ParsedEntry>,
) {
  const repo = request.repo;
  const mappingOf = relativeReferenceMapping(await assignReferences(repo, entries, conditional), request.baseUrl);
  const bodies = new Map<ParsedEntry, Resource>();
  for (const entry of resourceWrites(entries)) {
    bodies.set(entry, rewriteReferences(entry.resource as Resource, mappingOf(entry.fullUrl)));
  }
  const indexes = await repo.prepareAhead([...bodies.values()]);
  const writes = [...bodies.keys()];
  const prepared = new Map(writes.flatMap((entry, i) => (indexes[i] ? [[entry, indexes[i]] as const] : [])));
  return { mappingOf, bodies, prepared };
}

async function run<T>(work: () => Promise<T>, entry: ParsedEntry): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw entryError(error, entry);
  }
}

/** A resource may be the target of only one write in a transaction (R4 transaction rules). */
function checkWrittenOnce(response: FhirResponse, written: Set<string>, entry: ParsedEntry): void {
  if (!response.stored) return;
  const identity = `${response.stored.resourceType}/${response.stored.id}`;
  if (written.has(identity)) {
    throw entryError(badRequest(`${identity} is the target of more than one entry of the transaction`), entry);
  }
  written.add(identity);
}

/** Maps every fullUrl to the `Type/id` its entry will write, and every conditional reference to its match. */
async function assignReferences(
  repo: Repository,
  entries: ParsedEntry[],
  conditional: ReadonlyMap<string, ParsedEntry>,
): Promise<Map<string, string>> {
  const references = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.fullUrl) continue;
    if (references.has(entry.fullUrl)) throw entryError(badRequest(`Duplicate fullUrl ${entry.fullUrl}`), entry);
    const target = await run(() => entryTarget(repo, entry), entry);
    if (target) references.set(entry.fullUrl, target);
  }
  for (const [reference, entry] of conditional) {
    if (!references.has(reference))
      references.set(reference, await run(() => resolveConditional(repo, reference), entry));
  }
  return references;
}

/** The `Type/id` an entry will write; fixes the id of a create (or of a conditional update that creates). */
async function entryTarget(repo: Repository, entry: ParsedEntry): Promise<string | undefined> {
  const [type, id] = entry.segments;
  if (!entry.resource || entry.segments.length > 2) return undefined;
  if ((entry.method === 'PUT' || entry.method === 'PATCH') && id) return `${type}/${id}`;
  if (entry.segments.length !== 1) return undefined;
  if (entry.method === 'POST') {
    const ifNoneExist = entry.entry.request?.ifNoneExist;
    const match = ifNoneExist ? await singleMatch(repo, type, ifNoneExist) : undefined;
    if (match) return `${type}/${match}`;
    entry.assignedId = newId();
    return `${type}/${entry.assignedId}`;
  }
  if (entry.method === 'PUT' && entry.query.length > 0) return resolveConditionalUpdate(repo, entry, type);
  return undefined;
}

/**
 * A conditional update's target, looked up once under the write lock: the one match, or a new id when there
 * is none (several: 412). The entry then runs as a plain update of that id, with no second lookup.
 */
async function resolveConditionalUpdate(repo: Repository, entry: ParsedEntry, type: string): Promise<string> {
  const criteria = new URLSearchParams(entry.query).toString();
  const { page } = await repo.search([type], [...parseCriteria(criteria), ['_count', '2']], { strict: true });
  if (page.entries.length > 1) {
    throw preconditionFailed(`The conditional update ${type}?${criteria} matches more than one resource`);
  }
  const resource = entry.resource as Resource;
  const match = page.entries[0]?.id;
  if (match && resource.id !== undefined && resource.id !== match) {
    throw badRequest(`The resource id "${resource.id}" does not match the resource the criteria found`, 'id');
  }
  const id = match ?? resource.id ?? newId();
  entry.resource = { ...resource, id };
  entry.segments = [type, id];
  entry.query = [];
  return `${type}/${id}`;
}

/** The id of the one resource matching the criteria; undefined for none or several (the entry decides). */
async function singleMatch(repo: Repository, type: string, criteria: string): Promise<string | undefined> {
  const { page } = await repo.search([type], [...parseCriteria(criteria), ['_count', '2']], { strict: true });
  return page.entries.length === 1 ? page.entries[0].id : undefined;
}

async function resolveConditional(repo: Repository, reference: string): Promise<string> {
  const type = reference.slice(0, reference.indexOf('?'));
  const { page } = await repo.search([type], [...parseCriteria(reference), ['_count', '2']], { strict: true });
  if (page.entries.length !== 1) {
    const found = page.entries.length === 0 ? 'no resource' : 'more than one resource';
    throw preconditionFailed(`The conditional reference ${reference} matches ${found}`);
  }
  return `${type}/${page.entries[0].id}`;
}

function entryError(error: unknown, entry: ParsedEntry): FhirError {
  const where = entryLocation(entry);
  if (!(error instanceof FhirError)) throw error;
  const issues = (error.outcome.issue ?? []).map((i) => ({
    ...i,
    diagnostics: `${where} (${entry.method} ${entry.entry.request?.url}): ${i.diagnostics ?? ''}`,
    expression: [where, ...(i.expression ?? [])],
  }));
  return new FhirError(error.status, outcome(issues), error.headers);
}

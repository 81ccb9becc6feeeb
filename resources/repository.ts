// The only way to read or write resources. One repository per request carries the caller's AccessContext;
// it checks input, validates, versions, indexes and writes through the store in one transaction.
import type {
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
  SearchParameter,
  Subscription,
} from '@medplum/fhirtypes';
import { isUnrestricted, type AccessContext, type Permission } from './access';
import { requirePermission, restrictionFor } from './access-policy';
import { AccessGuard } from './access-guard';
import { nextTimestamp } from './clock';
import { badRequest, forbidden, informational, invalidResource, notFound, preconditionFailed } from './errors';
import { assertValidId, newId } from './ids';
import { applyPatch, type PatchDocument } from './patch';
import { parseSearchParams, type ParsedSearch, type SearchParamPairs } from './search/parse';
import { checkSearchParameter, type SearchParameterRegistry } from './search/registry';
import type {
  HistoryQuery,
  Page,
  ResourceStore,
  StoreReader,
  StoreTransaction,
  StoredVersion,
  VersionWrite,
  WriteMethod,
} from './store/port';
import { hasErrors } from './validation';
import {
  applySearchParameterChange,
  prepareWrite,
  withoutServerMeta,
  type SearchParameterChange,
  type WritePreparer,
} from './prepare/preparer';
import type { IndexEntry } from './search/index-entry';
import { AUDIT_EVENT, readAuditLog, searchAuditLog } from './audit/log-reader';
import { emptyShaping } from './search/result-params';
import { AccessJournal, isAudited, patientsOf, records, versionedReference, writeRecords } from './audit/trail';
import { extractIndexEntries } from './search/extract';
import { isResourceType } from './definitions';
import type { JobQueue } from './jobs/queue';
import type { CommitFeed } from './commit-feed';
import type { EndpointPolicy } from './subscriptions/definition';
import { endpointPolicy } from './subscriptions/endpoints';
import { MAX_BOUND_SUBSCRIPTIONS } from './subscriptions/socket-bindings';
import type { RecordedEvent, SubscriptionState, SubscriptionStates } from './subscriptions/state';
import { prepareSubscriptionWrite } from './subscriptions/write-check';

/** Background $reindex jobs, as the repository starts them (search/reindex.ts, on the job runner). */
export interface ReindexStarter {
  /** Queues a job over these types (all when absent) and returns the Task reporting on it. */
  start(types?: string[]): Promise<StoredVersion>;
}

export interface RepositoryServices {
  store: ResourceStore;
  registry: SearchParameterRegistry;
  /** Validation and index extraction, on worker threads in the server. */
  preparer: WritePreparer;
  /** Background $reindex jobs (search/reindex.ts). */
  reindex?: ReindexStarter;
  /** The background job runner (jobs/runner.ts): $reindex, $export and their clean-ups run on it. */
  jobs?: JobQueue;
  /** The server's public base URL: reference search values on it stand for local references. */
  baseUrl?: string;
  /** Told of every version a transaction wrote, once it is durable (HL7 outbound, subscriptions). */
  commits: CommitFeed;
  /** Hosts rest-hook Subscriptions may name; none (loopback aside) when absent. */
  subscriptionEndpoints?: EndpointPolicy;
  /** The running subscriptions (subscriptions/engine.ts), for `$status`. */
  subscriptions?: SubscriptionStates;
  /** What the server does itself, in the same transaction, when a version is written (scheduling/). */
  writeEffects?: readonly WriteEffect[];
}

/**
 * Work the server does on its own behalf when a resource of `resourceType` is about to be written as `id`, in
 * the same transaction (`server` is the server's repository in it; the version before is still the current one).
 */
export interface WriteEffect {
  resourceType: string;
  apply(server: Repository, resource: Resource, id: string): Promise<void>;
}

export interface WriteResult {
  /** True when a new resource came into being (201), false for an update or an existing match (200). */
  created: boolean;
  stored: StoredVersion;
  /** Set when nothing was written: a conditional create that matched, or an update with no change. */
  outcome?: OperationOutcome;
}

export interface DeleteResult {
  /** The deletion version, absent when there was nothing to delete. */
  stored?: StoredVersion;
  deletedCount: number;
}

export interface WriteOptions {
  /** Version id from If-Match; the write fails with 412 unless it is the current version. */
  ifMatch?: number;
  /** If-None-Match `*` on an update: it may only create; a 412 when the resource exists (not deleted). */
  ifNoneMatch?: boolean;
}

/** Conditional deletes delete at most this many resources; more matches are a 412. */
export const MAX_CONDITIONAL_DELETE = 100;

export class Repository {
  /**
   * Resources a transaction checked on the workers before taking the write lock (see prevalidate and
   * prepareAhead), with their index entries when those were extracted there too.
   */
  private readonly prepared = new WeakMap<object, IndexEntry[] | undefined>();

  constructor(
    private readonly services: RepositoryServices,
    readonly access: AccessContext,
    /** Set while the repository works inside a store transaction (transaction Bundles). */
    private readonly tx?: StoreTransaction,
    /** What this request disclosed, for the audit trail (shared with the transaction's repository). */
    readonly journal = new AccessJournal(),
  ) {
    this.guard = new AccessGuard(access, services.registry, journal);
  }

  private readonly guard: AccessGuard;

  get registry(): SearchParameterRegistry {
    return this.services.registry;
  }

  /** Search-parameter types the store can query. */
  get searchableTypes(): ReadonlySet<string> {
    return this.services.store.searchableTypes;
  }

  /**
   * Validates resources a transaction is about to write, in parallel on the preparation workers and before
   * the write lock is taken; true for each that passed. Inside the transaction only their index entries are
   * then extracted (trustValidation), after reference rewriting, which changes nothing validation looks at.
   */
  async prevalidate(resources: Resource[]): Promise<boolean[]> {
    const issues = await Promise.all(resources.map((r) => this.services.preparer.validate(withoutServerMeta(r), [])));
    return issues.map((found) => !hasErrors(found));
  }

  /**
   * Validates and indexes resources a transaction will write exactly as they are (references rewritten
   * already), on the preparation workers and before the write lock is taken: the index entries of each that
   * passed, undefined for each that failed.
   */
  async prepareAhead(resources: Resource[]): Promise<(IndexEntry[] | undefined)[]> {
    const prepared = await this.services.preparer.prepareMany(resources);
    return prepared.map((p) => (hasErrors(p.issues) ? undefined : p.index));
  }

  /**
   * Marks a resource prevalidate or prepareAhead passed, so that writing it inside this transaction does not
   * validate it again, nor extract its index entries when they are given.
   */
  trustValidation(resource: object, index?: IndexEntry[]): void {
    if (this.tx) this.prepared.set(resource, index);
  }

  /**
   * The server itself, in this repository's transaction: for what an operation does on its own behalf (the Slots
   * a booking takes), which the caller's grants need not cover. Its writes are audited as the server's, under
   * the same request.
   */
  asServer(): Repository {
    return new Repository(this.services, serverAccess(this.access), this.tx);
  }

  /** Runs `work` with a repository whose every read and write belongs to one atomic store transaction. */
  withTransaction<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.tx) return work(this);
    return this.committed((tx) => work(new Repository(this.services, this.access, tx, this.journal)));
  }

  async create(
    type: string,
    resource: Resource,
    options: { ifNoneExist?: SearchParamPairs; id?: string } = {},
  ): Promise<WriteResult> {
    this.checkBody(resource, type);
    this.guard.checkWritable(resource, 'c');
    const index = await this.prepare(resource);
    return this.write(async (tx) => {
      if (options.ifNoneExist) {
        const match = await this.conditionalMatch(tx, type, options.ifNoneExist, 'If-None-Exist', 's');
        if (match)
          return {
            created: false,
            stored: match,
            outcome: informational('A matching resource exists; nothing was created'),
          };
      }
      const stored = await this.writeVersion(tx, resource, options.id ?? newId(), 1, 'POST', index);
      return { created: true, stored };
    });
  }

  /** `internal`: a read the server makes for itself (a version check), not disclosed, so not audited as such. */
  async read(resourceType: string, id: string, options: { internal?: boolean } = {}): Promise<StoredVersion> {
    this.checkType(resourceType);
    assertValidId(id);
    requirePermission(this.access, resourceType, 'r');
    if (resourceType === AUDIT_EVENT) return this.disclose('read', await this.readAuditEvent(id));
    const stored = await this.reader.readCurrent(resourceType, id);
    if (!stored) throw notFound(`${resourceType}/${id} is not known`);
    const visible = this.guard.visible(stored, 'r');
    return options.internal ? visible : this.disclose('read', visible);
  }

  async vread(resourceType: string, id: string, versionId: number): Promise<StoredVersion> {
    this.checkType(resourceType);
    assertValidId(id);
    requirePermission(this.access, resourceType, 'r');
    const stored = await this.reader.readVersion(resourceType, id, versionId);
    if (!stored) throw notFound(`${resourceType}/${id} has no version ${versionId}`);
    return this.disclose('vread', this.guard.visible(stored, 'r'));
  }

  /** Update, or create with the client's id when the resource does not exist (update-as-create). */
  async update(resourceType: string, id: string, resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    this.checkType(resourceType);
    assertValidId(id);
    this.checkBody(resource, resourceType);
    if (resource.id === undefined) throw badRequest('The resource in an update must have an id', 'id');
    if (resource.id !== id)
      throw badRequest(`The resource id "${resource.id}" does not match the URL id "${id}"`, 'id');
    this.guard.checkWritable(resource, 'u');
    const index = await this.prepare(resource);
    return this.write((tx) => this.updateInTx(tx, resource, options, index));
  }

  /** PUT [type]?criteria: 0 matches create, 1 updates it, several are a 412. */
  async conditionalUpdate(
    resourceType: string,
    criteria: SearchParamPairs,
    resource: Resource,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.checkType(resourceType);
    this.checkBody(resource, resourceType);
    this.guard.checkWritable(resource, 'u');
    const index = await this.prepare(resource);
    return this.write(async (tx) => {
      const match = await this.conditionalMatch(tx, resourceType, criteria, 'conditional update', 'u');
      if (!match) {
        if (resource.id !== undefined) assertValidId(resource.id);
        return this.updateInTx(tx, { ...resource, id: resource.id ?? newId() }, options, index);
      }
      if (resource.id !== undefined && resource.id !== match.id) {
        throw badRequest(`The resource id "${resource.id}" does not match the resource the criteria found`, 'id');
      }
      return this.updateInTx(tx, { ...resource, id: match.id }, options, index);
    });
  }

  async patch(
    resourceType: string,
    id: string,
    operations: PatchDocument,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.checkType(resourceType);
    assertValidId(id);
    requirePermission(this.access, resourceType, 'u');
    return this.write(async (tx) => {
      const current = await tx.readCurrent(resourceType, id);
      if (!current) throw notFound(`${resourceType}/${id} is not known`);
      return this.patchInTx(tx, this.guard.visible(current, 'u'), operations, options);
    });
  }

  async conditionalPatch(
    resourceType: string,
    criteria: SearchParamPairs,
    operations: PatchDocument,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.checkType(resourceType);
    return this.write(async (tx) => {
      const match = await this.conditionalMatch(tx, resourceType, criteria, 'conditional patch', 'u');
      if (!match) throw notFound('No resource matches the conditional patch criteria');
      return this.patchInTx(tx, match, operations, options);
    });
  }

  async delete(resourceType: string, id: string, options: WriteOptions = {}): Promise<DeleteResult> {
    this.checkType(resourceType);
    assertValidId(id);
    requirePermission(this.access, resourceType, 'd');
    return this.write(async (tx) => {
      const current = await tx.readCurrent(resourceType, id);
      if (current && !current.deleted) this.guard.visible(current, 'd');
      if (!current) {
        if (options.ifMatch !== undefined) throw preconditionFailed(`${resourceType}/${id} does not exist (If-Match)`);
        throw notFound(`${resourceType}/${id} is not known`);
      }
      checkIfMatch(current, options.ifMatch);
      if (current.deleted) return { deletedCount: 0 };
      return { stored: await this.deleteVersion(tx, current), deletedCount: 1 };
    });
  }

  /** DELETE [type]?criteria: deletes every match, up to MAX_CONDITIONAL_DELETE (more is a 412). */
  async conditionalDelete(resourceType: string, criteria: SearchParamPairs): Promise<DeleteResult> {
    this.checkType(resourceType);
    return this.write(async (tx) => {
      const { query } = this.parseCriteria(resourceType, criteria, 'conditional delete', 'd');
      const page = await tx.search({ ...query, count: MAX_CONDITIONAL_DELETE, total: 'none' });
      if (page.next) {
        throw preconditionFailed(
          `More than ${MAX_CONDITIONAL_DELETE} resources match the conditional delete; narrow the criteria`,
        );
      }
      let stored: StoredVersion | undefined;
      for (const match of page.entries) stored = await this.deleteVersion(tx, match);
      return { stored: page.entries.length === 1 ? stored : undefined, deletedCount: page.entries.length };
    });
  }

  async history(query: HistoryQuery): Promise<Page<StoredVersion>> {
    if (query.resourceType) this.checkType(query.resourceType);
    if (query.id !== undefined) assertValidId(query.id);
    const instance = query.resourceType !== undefined && query.id !== undefined;
    if (instance) {
      // Instance history is part of read: allowed when the current version may be read.
      const current = await this.reader.readCurrent(query.resourceType as string, query.id as string);
      if (!current) throw notFound(`${query.resourceType}/${query.id} is not known`);
      requirePermission(this.access, current.resourceType, 'r');
      // The history of a deleted resource stays readable to callers who may read every one of its type.
      if (!current.deleted || restrictionFor(this.access, this.registry, current.resourceType, 'r')) {
        this.guard.visible(current, 'r');
      }
    } else {
      this.guard.checkWholeHistory(query.resourceType);
    }
    const page = await this.reader.history(query);
    const subtype = instance ? 'history-instance' : query.resourceType ? 'history-type' : 'history-system';
    if (isAudited(this.access)) this.journal.note({ subtype, versions: page.entries });
    return page;
  }

  /** Parses the parameters and runs the search; unknown parameters are reported (or a 400 when strict). */
  async search(
    resourceTypes: string[],
    params: SearchParamPairs,
    /** internal: a search the server runs for itself (not disclosed to the caller, so not audited as such). */
    options: { strict?: boolean; internal?: boolean } = {},
  ): Promise<{ parsed: ParsedSearch; page: Page<StoredVersion> }> {
    for (const type of resourceTypes) this.checkType(type);
    if (resourceTypes.length === 1 && resourceTypes[0] === AUDIT_EVENT) return this.searchAuditTrail(params, options);
    const parsed = parseSearchParams(this.registry, resourceTypes, params, {
      strict: options.strict ?? false,
      baseUrl: this.services.baseUrl,
    });
    parsed.query = this.guard.restrictSearch(parsed.query, 's');
    const page = await this.reader.search(parsed.query);
    if (!isUnrestricted(this.access)) page.entries = page.entries.filter((e) => this.guard.permits(e, 's'));
    if (isAudited(this.access) && !options.internal) {
      this.journal.note({
        subtype: resourceTypes.length === 1 ? 'search-type' : 'search-system',
        versions: page.entries,
        query: new URLSearchParams(params).toString(),
        ...(resourceTypes.length === 1 ? { resourceType: resourceTypes[0] } : {}),
      });
    }
    return { parsed, page };
  }

  /** A search the caller may not run at all finds nothing (for `_include` of types outside the grants). */
  async searchIfPermitted(
    resourceType: string,
    params: SearchParamPairs,
  ): Promise<{ parsed?: ParsedSearch; page: Page<StoredVersion> }> {
    try {
      requirePermission(this.access, resourceType, 's');
    } catch {
      return { page: { entries: [] } };
    }
    return this.search([resourceType], params);
  }

  /** Starts a background $reindex of these types (all when absent) and returns the Task that reports on it. */
  async startReindex(resourceTypes?: string[]): Promise<StoredVersion> {
    for (const type of resourceTypes ?? []) this.checkType(type);
    if (!isUnrestricted(this.access) && !this.access.admin) throw forbidden('$reindex is for administrators');
    if (!this.services.reindex) throw badRequest('$reindex is not available here');
    return this.services.reindex.start(resourceTypes);
  }

  /** Validation without storing ($validate): every issue, errors and warnings. */
  async validate(resource: unknown, profiles: string[] = []): Promise<OperationOutcomeIssue[]> {
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      throw badRequest('The body must be a FHIR resource');
    }
    this.checkType(resource.resourceType);
    if (
      !isUnrestricted(this.access) &&
      !['c', 'u'].some((p) => this.guard.mayDo(resource.resourceType as string, p as Permission))
    ) {
      throw forbidden(`The access token does not grant create or update on ${resource.resourceType}`);
    }
    return this.services.preparer.validate(resource as unknown as Resource, profiles);
  }

  /**
   * What `$status` reports of a Subscription the caller may read: the engine's state while it runs it, else
   * the stored status with no events.
   */
  async subscriptionStatus(id: string): Promise<{ subscription: Subscription; state: SubscriptionState }> {
    const subscription = JSON.parse((await this.read('Subscription', id)).json as string) as Subscription;
    const running = this.services.subscriptions?.state(id);
    const stored: SubscriptionState = {
      status: subscription.status,
      eventsSinceStart: 0,
      errors: subscription.error ? [subscription.error] : [],
    };
    return { subscription, state: running ?? stored };
  }

  /** What `$events` can tell again of a Subscription the caller may read: its latest events, oldest first. */
  async subscriptionEvents(
    id: string,
  ): Promise<{ subscription: Subscription; state: SubscriptionState; events: readonly RecordedEvent[] }> {
    const { subscription, state } = await this.subscriptionStatus(id);
    return { subscription, state, events: this.services.subscriptions?.recentEvents(id) ?? [] };
  }

  /**
   * A token binding websockets to these websocket-channel Subscriptions, each of which the caller may read
   * (`$get-ws-binding-token`); with no ids, every such Subscription the caller may search.
   */
  async subscriptionBindingToken(ids: readonly string[]): Promise<{ token: string; expires: number; ids: string[] }> {
    const engine = this.services.subscriptions;
    if (!engine) throw badRequest('Subscriptions are not running here');
    const tooMany = `A token binds at most ${MAX_BOUND_SUBSCRIPTIONS} subscriptions; name the ones to bind with id`;
    if (ids.length > MAX_BOUND_SUBSCRIPTIONS) throw badRequest(tooMany, 'id');
    const stored =
      ids.length > 0
        ? await Promise.all(ids.map((id) => this.read('Subscription', id)))
        : (
            await this.search(
              ['Subscription'],
              [
                ['type', 'websocket'],
                ['_count', String(MAX_BOUND_SUBSCRIPTIONS + 1)],
              ],
            )
          ).page.entries;
    if (stored.length > MAX_BOUND_SUBSCRIPTIONS) throw badRequest(tooMany, 'id');
    const bound: string[] = [];
    for (const version of stored) {
      const subscription = JSON.parse(version.json as string) as Subscription;
      if (subscription.channel?.type !== 'websocket') {
        throw badRequest(`Subscription/${version.id} does not use the websocket channel`, 'id');
      }
      bound.push(version.id);
    }
    if (bound.length === 0) throw badRequest('No websocket Subscription to bind', 'id');
    return { ...engine.issueBindingToken(bound), ids: bound };
  }

  private get reader(): StoreReader {
    return this.tx ?? this.services.store;
  }

  private write<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.tx) return work(this.tx);
    return this.committed(work);
  }

  /**
   * Runs a store transaction; the registry (and the workers' registries) follow the SearchParameters it wrote
   * only once it has committed, so a rolled-back write never changes what is searchable.
   */
  private async committed<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const changes: SearchParameterChange[] = [];
    const feed = this.services.commits;
    const written: VersionWrite[] | undefined = feed.heard ? [] : undefined;
    const result = await this.services.store.transaction((tx) => work(trackWrites(tx, changes, written)));
    for (const change of changes) {
      applySearchParameterChange(this.registry, change);
      await this.services.preparer.changeSearchParameters(change);
    }
    if (written && written.length > 0) feed.publish(written);
    return result;
  }

  private async updateInTx(
    tx: StoreTransaction,
    resource: Resource,
    options: WriteOptions,
    index: IndexEntry[],
  ): Promise<WriteResult> {
    const id = resource.id as string;
    const current = await tx.readCurrent(resource.resourceType, id);
    if (current && !current.deleted) this.guard.visible(current, 'u');
    else this.guard.checkWritable(resource, 'c');
    if (!current) {
      if (options.ifMatch !== undefined)
        throw preconditionFailed(`${resource.resourceType}/${id} does not exist (If-Match)`);
      return { created: true, stored: await this.writeVersion(tx, resource, id, 1, 'PUT', index) };
    }
    checkIfMatch(current, options.ifMatch);
    if (options.ifNoneMatch && !current.deleted) {
      throw preconditionFailed(`${resource.resourceType}/${id} exists (If-None-Match)`);
    }
    if (!current.deleted && sameContent(current, resource)) {
      return {
        created: false,
        stored: current,
        outcome: informational('No change: the resource is identical to the current version'),
      };
    }
    const stored = await this.writeVersion(tx, resource, id, current.versionId + 1, 'PUT', index);
    return { created: current.deleted, stored };
  }

  private async patchInTx(
    tx: StoreTransaction,
    current: StoredVersion,
    operations: PatchDocument,
    options: WriteOptions,
  ): Promise<WriteResult> {
    checkIfMatch(current, options.ifMatch);
    const patched = applyPatch(JSON.parse(current.json as string) as Resource, operations);
    this.checkBody(patched, current.resourceType);
    this.guard.checkWritable(patched, 'u');
    const index = await this.prepare(patched, true);
    if (sameContent(current, patched)) {
      return {
        created: false,
        stored: current,
        outcome: informational('No change: the patch left the resource as it was'),
      };
    }
    return {
      created: false,
      stored: await this.writeVersion(tx, patched, current.id, current.versionId + 1, 'PATCH', index),
    };
  }

  private async writeVersion(
    tx: StoreTransaction,
    resource: Resource,
    id: string,
    versionId: number,
    method: WriteMethod,
    index: IndexEntry[],
  ): Promise<StoredVersion> {
    for (const effect of this.services.writeEffects ?? []) {
      if (effect.resourceType !== resource.resourceType) continue;
      await effect.apply(new Repository(this.services, serverAccess(this.access), tx), resource, id);
    }
    const lastUpdated = nextTimestamp();
    const { resourceType, id: _ignoredId, meta, ...rest } = resource;
    const withMeta = {
      resourceType,
      id,
      meta: { ...meta, versionId: String(versionId), lastUpdated: new Date(lastUpdated).toISOString() },
      ...rest,
    } as Resource;
    const stored: StoredVersion = {
      resourceType,
      id,
      versionId,
      lastUpdated,
      deleted: false,
      method,
      json: JSON.stringify(withMeta),
    };
    await tx.writeVersion({ ...stored, index });
    if (isAudited(this.access)) await tx.appendAudit(writeRecords(this.registry, this.access, stored, index));
    return stored;
  }

  private async deleteVersion(tx: StoreTransaction, current: StoredVersion): Promise<StoredVersion> {
    const stored: StoredVersion = {
      resourceType: current.resourceType,
      id: current.id,
      versionId: current.versionId + 1,
      lastUpdated: nextTimestamp(),
      deleted: true,
      method: 'DELETE',
    };
    await tx.writeVersion({ ...stored, index: [] });
    if (isAudited(this.access)) {
      const patients = patientsOf(this.registry, current);
      await tx.appendAudit(
        records(this.access, { subtype: 'delete', outcome: '0', entities: [versionedReference(stored)], patients }),
      );
    }
    return stored;
  }

  /** The single current match of conditional criteria, undefined for none, 412 for several. */
  private async conditionalMatch(
    reader: StoreReader,
    resourceType: string,
    criteria: SearchParamPairs,
    what: string,
    permission: Permission,
  ): Promise<StoredVersion | undefined> {
    const { query } = this.parseCriteria(resourceType, criteria, what, permission);
    const page = await reader.search({ ...query, count: 2, total: 'none', sort: [] });
    if (page.entries.length > 1) throw preconditionFailed(`More than one resource matches the ${what} criteria`);
    return page.entries[0];
  }

  /** Conditional criteria are always strict: an ignored parameter could match (and overwrite) everything. */
  private parseCriteria(
    resourceType: string,
    criteria: SearchParamPairs,
    what: string,
    permission: Permission,
  ): ParsedSearch {
    const parsed = parseSearchParams(this.registry, [resourceType], criteria, {
      strict: true,
      baseUrl: this.services.baseUrl,
    });
    if (parsed.query.conditions.length === 0)
      throw badRequest(`The ${what} criteria must contain at least one search parameter`);
    parsed.query = this.guard.restrictSearch(parsed.query, permission);
    return parsed;
  }

  private async readAuditEvent(id: string): Promise<StoredVersion> {
    const stored = await readAuditLog(this.services.store, id);
    if (!stored) throw notFound(`AuditEvent/${id} is not known`);
    return this.guard.visible(stored, 'r');
  }

  /** AuditEvent searches read the audit log; a patient-level grant sees the accesses to its own patient only. */
  private async searchAuditTrail(
    params: SearchParamPairs,
    options: { internal?: boolean },
  ): Promise<{ parsed: ParsedSearch; page: Page<StoredVersion> }> {
    const restriction = restrictionFor(this.access, this.registry, AUDIT_EVENT, 's');
    const { page, applied, count } = await searchAuditLog(this.services.store, params, restriction?.patient);
    if (isAudited(this.access) && !options.internal) {
      const query = new URLSearchParams(params).toString();
      this.journal.note({ subtype: 'search-type', versions: page.entries, query, resourceType: AUDIT_EVENT });
    }
    const parsed: ParsedSearch = {
      query: { resourceTypes: [AUDIT_EVENT], conditions: [], sort: [], count, total: 'none' },
      unknown: [],
      applied,
      notes: [],
      shaping: emptyShaping(),
    };
    return { parsed, page };
  }

  private disclose(subtype: 'read' | 'vread', stored: StoredVersion): StoredVersion {
    if (isAudited(this.access)) this.journal.note({ subtype, versions: [stored] });
    return stored;
  }

  private checkType(resourceType: string): void {
    if (!isResourceType(resourceType)) throw notFound(`Unknown resource type "${resourceType}"`);
  }

  private checkBody(resource: Resource, expectedType: string): void {
    if (!isObject(resource)) throw badRequest('The body must be a FHIR resource');
    if (resource.resourceType !== expectedType) {
      throw badRequest(
        `The resourceType "${String(resource.resourceType)}" does not match the URL type "${expectedType}"`,
        'resourceType',
      );
    }
    this.checkType(expectedType);
    if (resource.id !== undefined && typeof resource.id === 'string') assertValidId(resource.id);
  }

  /**
   * Validates the resource (400 with every issue when invalid) and returns its index entries. Inside a
   * store transaction this runs inline: the write lock is held anyway, and a hop to a worker would only
   * lengthen it.
   */
  private async prepare(resource: Resource, insideTransaction = this.tx !== undefined): Promise<IndexEntry[]> {
    if (resource.resourceType === 'Subscription') {
      prepareSubscriptionWrite(resource as Subscription, {
        access: this.access,
        registry: this.registry,
        allowEndpoint: this.services.subscriptionEndpoints ?? endpointPolicy([], true),
        baseUrl: this.services.baseUrl,
      });
    }
    const prepared = !insideTransaction
      ? await this.services.preparer.prepare(resource)
      : this.prepared.has(resource)
        ? { issues: [], index: this.prepared.get(resource) ?? extractIndexEntries(this.registry, resource) }
        : prepareWrite(this.registry, resource);
    if (hasErrors(prepared.issues)) throw invalidResource(prepared.issues);
    // A SearchParameter the registry cannot use is refused before it is stored, not found broken later.
    if (resource.resourceType === 'SearchParameter') checkSearchParameter(resource as SearchParameter);
    return prepared.index;
  }
}

/** The transaction, noting SearchParameter changes and (when `written` is given) every version written. */
function trackWrites(
  tx: StoreTransaction,
  changes: SearchParameterChange[],
  written: VersionWrite[] | undefined,
): StoreTransaction {
  return {
    readCurrent: (type, id) => tx.readCurrent(type, id),
    readVersion: (type, id, versionId) => tx.readVersion(type, id, versionId),
    history: (query) => tx.history(query),
    search: (query) => tx.search(query),
    appendAudit: (records) => tx.appendAudit(records),
    writeVersion: async (write: VersionWrite) => {
      written?.push(write);
      if (write.resourceType !== 'SearchParameter') return tx.writeVersion(write);
      const previous = await tx.readCurrent(write.resourceType, write.id);
      await tx.writeVersion(write);
      changes.push(searchParameterChange(previous, write));
    },
  };
}

function searchParameterChange(previous: StoredVersion | undefined, write: VersionWrite): SearchParameterChange {
  const before = previous?.json ? (JSON.parse(previous.json) as SearchParameter).url : undefined;
  const after = write.json ? (JSON.parse(write.json) as SearchParameter) : undefined;
  return { remove: before && before !== after?.url ? [before] : [], add: after ? [after] : [] };
}

function checkIfMatch(current: StoredVersion, ifMatch: number | undefined): void {
  if (ifMatch !== undefined && ifMatch !== current.versionId) {
    throw preconditionFailed(
      `Version conflict: If-Match names version ${ifMatch}, the current version is ${current.versionId}`,
    );
  }
}

/** True when the resource equals the stored version apart from the server-owned meta fields. */
function sameContent(current: StoredVersion, resource: Resource): boolean {
  if (current.deleted || !current.json) return false;
  const stored = withoutServerMeta(JSON.parse(current.json) as Resource);
  const sent = withoutServerMeta(resource);
  // Equal content has equal JSON whatever its key order, so it has equal length: most updates change
  // something and stop at this native check, before the key-sorting comparison.
  if (JSON.stringify(stored).length !== JSON.stringify(sent).length) return false;
  return stableStringify(stored) === stableStringify(sent);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The server acting for a request: unrestricted, audited under the request's id when the request is audited. */
function serverAccess(access: AccessContext): AccessContext {
  const { requestId, ip } = access;
  return {
    actor: 'system',
    ...(requestId !== undefined ? { requestId } : {}),
    ...(ip !== undefined ? { ip } : {}),
  };
}

// Preparing a write: validation and search-index extraction of the resource about to be stored. Both are
// CPU-heavy and independent of the store, so the server runs them on worker threads (worker-pool.ts)
// while the event loop serves HTTP and commits; tests, the CLI and transaction Bundles prepare inline.
import type { OperationOutcomeIssue, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { IndexEntry } from '../search/index-entry';
import { extractIndexEntries } from '../search/extract';
import type { SearchParameterRegistry } from '../search/registry';
import { hasErrors, validateResource } from '../validation';

export interface PreparedWrite {
  /** Every validation issue; the write must not happen when one is an error. */
  issues: OperationOutcomeIssue[];
  /** Search-index entries, empty when the resource is invalid. */
  index: IndexEntry[];
}

/** SearchParameters created, changed or deleted at run time: `remove` (by URL) applies before `add`. */
export interface SearchParameterChange {
  remove: string[];
  add: SearchParameter[];
}

export interface WritePreparer {
  prepare(resource: Resource): Promise<PreparedWrite>;
  /** The same for many resources (a transaction Bundle's), in order; cheaper than one call each. */
  prepareMany(resources: Resource[]): Promise<PreparedWrite[]>;
  /** Validation only, with extra profiles ($validate). */
  validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]>;
  /** Makes the preparer's registries follow a change the main registry has already applied. */
  changeSearchParameters(change: SearchParameterChange): Promise<void>;
  close(): Promise<void>;
}

/**
 * Applies a change to a registry. Parameters were checked before they were stored, so one that fails now
 * (stored by an older server with other rules) is skipped rather than failing the others.
 */
export function applySearchParameterChange(registry: SearchParameterRegistry, change: SearchParameterChange): void {
  for (const url of change.remove) registry.removeSearchParameter(url);
  for (const parameter of change.add) {
    try {
      registry.addSearchParameter(parameter);
    } catch {
      continue;
    }
  }
}

export function prepareWrite(registry: SearchParameterRegistry, resource: Resource): PreparedWrite {
  const issues = validateResource(withoutServerMeta(resource));
  return { issues, index: hasErrors(issues) ? [] : extractIndexEntries(registry, resource) };
}

/** The server sets meta.versionId and meta.lastUpdated, so whatever the client sent there is not judged. */
export function withoutServerMeta(resource: Resource): Resource {
  if (!resource.meta) return resource;
  const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
  const { meta: _meta, ...rest } = resource;
  return Object.keys(meta).length > 0 ? { ...rest, meta } : (rest as Resource);
}

export class InlinePreparer implements WritePreparer {
  constructor(private readonly registry: SearchParameterRegistry) {}

  async prepare(resource: Resource): Promise<PreparedWrite> {
    return prepareWrite(this.registry, resource);
  }

  async prepareMany(resources: Resource[]): Promise<PreparedWrite[]> {
    return resources.map((resource) => prepareWrite(this.registry, resource));
  }

  async validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]> {
    return validateResource(resource, { profiles });
  }

  /** The inline preparer shares the main registry, which has the change already. */
  async changeSearchParameters(): Promise<void> {}

  async close(): Promise<void> {}
}

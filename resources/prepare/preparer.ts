// Preparing a write: validation and search-index extraction of the resource about to be stored. Both are
// CPU-heavy and independent of the store, so the server runs them on worker threads (worker-pool.ts)
// while the event loop serves HTTP and commits; tests, the CLI and transaction Bundles prepare inline.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
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

export interface WritePreparer {
  prepare(resource: Resource): Promise<PreparedWrite>;
  /** Validation only, with extra profiles ($validate). */
  validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]>;
  close(): Promise<void>;
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

  async validate(resource: Resource, profiles: string[]): Promise<OperationOutcomeIssue[]> {
    return validateResource(resource, { profiles });
  }

  async close(): Promise<void> {}
}

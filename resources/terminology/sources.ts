// Finds code systems and value sets by canonical url (+ version): first the hospital's own, searched through
// the caller's repository so that its grants apply, then the built-in R4 content (public reference data).
// A stored code system is indexed once per version and kept in a bounded cache that drops it when it changes.
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { LRUCache } from 'lru-cache';
import { requirePermission } from '../access-policy';
import { badRequest, forbidden, notFound, type FhirError } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { builtinCodeSystem, builtinValueSet } from './builtin';
import { CodeSystemIndex } from './code-system-index';
import { findCurrent } from './stored-lookup';

/** A value set and the key of the version it came from (for expansion caching). */
export interface ResolvedValueSet {
  key: string;
  valueSet: ValueSet;
}

type TerminologyType = 'CodeSystem' | 'ValueSet';

/** Concepts held across all cached stored code systems: a 100,000-concept LOINC subset costs ~60 MB indexed. */
const MAX_CACHED_CONCEPTS = 1_000_000;

const storedCodeSystems = new LRUCache<string, CodeSystemIndex>({
  maxSize: MAX_CACHED_CONCEPTS,
  sizeCalculation: (index) => index.size + 1,
});
const storedValueSets = new LRUCache<string, ValueSet>({ max: 1000 });
/** The cache key last seen for each stored resource, so that an older version's entry is dropped at once. */
const lastKeyOf = new LRUCache<string, string>({ max: 10_000 });

const versionKey = (stored: StoredVersion) =>
  `${stored.resourceType}/${stored.id}/${stored.versionId}/${stored.lastUpdated}`;

export class TerminologySources {
  /** Per request: each canonical is resolved once, however many includes name it. */
  private readonly resolved = new Map<string, Promise<unknown>>();

  constructor(private readonly repo: Repository) {}

  /** The code system, or a 400 naming it when the server knows no concepts of it. */
  async codeSystem(url: string, version?: string): Promise<CodeSystemIndex> {
    const found = await this.findCodeSystem(url, version);
    if (!found) throw unknownCodeSystem(url, version);
    return found;
  }

  findCodeSystem(url: string, version?: string): Promise<CodeSystemIndex | undefined> {
    return this.memo(`CodeSystem|${url}|${version ?? ''}`, async () => {
      const stored = await this.findStored('CodeSystem', url, version);
      const found = stored ? await this.codeSystemIndexOf(stored) : builtinCodeSystem(url);
      const usable = found && found.size > 0 && (stored || version === undefined || found.version === version);
      return usable ? found : undefined;
    });
  }

  /** The value set, or a 404 when neither the hospital nor the R4 content defines it. */
  valueSet(url: string, version?: string): Promise<ResolvedValueSet> {
    return this.memo(`ValueSet|${url}|${version ?? ''}`, async () => {
      const stored = await this.findStored('ValueSet', url, version);
      if (stored) return this.resolvedValueSet(stored);
      const builtin = builtinValueSet(url);
      if (builtin && (version === undefined || builtin.version === version)) {
        return { key: `builtin|${url}`, valueSet: builtin };
      }
      throw notFound(`The value set ${url}${version ? ` version ${version}` : ''} is not known to this server`, 'url');
    });
  }

  /** A stored value set by id (instance-level operations), read with the caller's grants. */
  async storedValueSet(id: string): Promise<ResolvedValueSet> {
    return this.resolvedValueSet(await this.repo.read('ValueSet', id));
  }

  async storedCodeSystem(id: string): Promise<CodeSystemIndex> {
    return this.codeSystemIndexOf(await this.repo.read('CodeSystem', id));
  }

  private async codeSystemIndexOf(stored: StoredVersion): Promise<CodeSystemIndex> {
    const cached = storedCodeSystems.get(versionKey(stored));
    if (cached) return cached;
    const current = await this.withJson(stored);
    const key = versionKey(current);
    const index = new CodeSystemIndex(JSON.parse(current.json as string) as CodeSystem, key);
    remember(current, key);
    storedCodeSystems.set(key, index);
    return index;
  }

  private async resolvedValueSet(stored: StoredVersion): Promise<ResolvedValueSet> {
    const cached = storedValueSets.get(versionKey(stored));
    if (cached) return { key: versionKey(stored), valueSet: cached };
    const current = await this.withJson(stored);
    const key = versionKey(current);
    const valueSet = JSON.parse(current.json as string) as ValueSet;
    remember(current, key);
    storedValueSets.set(key, valueSet);
    return { key, valueSet };
  }

  private memo<T>(key: string, resolve: () => Promise<T>): Promise<T> {
    let pending = this.resolved.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = resolve();
      this.resolved.set(key, pending);
    }
    return pending;
  }

  /**
   * The newest stored resource with this url (and version). A caller without a grant on the type sees none, and
   * a 403 tells it so when the built-in content has nothing under that url either.
   */
  private async findStored(type: TerminologyType, url: string, version?: string): Promise<StoredVersion | undefined> {
    if (!this.mayRead(type)) {
      const builtin = type === 'CodeSystem' ? builtinCodeSystem(url) : builtinValueSet(url);
      if (builtin) return undefined;
      throw forbidden(`The access token does not grant search on ${type}, and ${url} is not built-in R4 terminology`);
    }
    return findCurrent(this.repo, type, url, version);
  }

  /** The stored version with its JSON: as found, or read again (with the caller's grants) when only its key was kept. */
  private async withJson(stored: StoredVersion): Promise<StoredVersion> {
    return stored.json === undefined ? this.repo.read(stored.resourceType, stored.id) : stored;
  }

  private mayRead(type: TerminologyType): boolean {
    try {
      requirePermission(this.repo.access, type, 's');
      return true;
    } catch {
      return false;
    }
  }
}

/** 400 naming a code system the server knows no concepts of (unknown, or a `not-present` stub such as SNOMED CT). */
export function unknownCodeSystem(url: string, version?: string): FhirError {
  return badRequest(
    `The code system ${url}${version ? ` version ${version}` : ''} is not known to this server; ` +
      'load its concepts as a CodeSystem resource',
    'system',
  );
}

/** Drops the cached entry of the version this one replaces. */
function remember(stored: StoredVersion, key: string): void {
  const resource = `${stored.resourceType}/${stored.id}`;
  const previous = lastKeyOf.get(resource);
  if (previous && previous !== key) {
    storedCodeSystems.delete(previous);
    storedValueSets.delete(previous);
  }
  lastKeyOf.set(resource, key);
}

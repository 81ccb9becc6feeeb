// _include and _revinclude resolution over a Repository: follows the reference parameters of the matches (and,
// with :iterate, of what was included) through ordinary searches, so access checks apply to every included resource.
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { extractIndexEntries } from './extract';
import type { ReferenceEntry } from './index-entry';
import type { SearchParameterRegistry } from './registry';
import type { IncludeSpec, ResultShaping } from './result-params';

/** Included resources per page: beyond it the bundle says it stopped. */
export const MAX_INCLUDED = 1000;
/** Rounds of :iterate after the first, so a cycle of references cannot run forever. */
export const MAX_ITERATIONS = 3;
/** Values per search: the parser's limit on OR values. */
const BATCH = 100;

export interface IncludeResult {
  included: StoredVersion[];
  /** True when MAX_INCLUDED was reached and some included resources were left out. */
  truncated: boolean;
}

const keyOf = (type: string, id: string): string => `${type}/${id}`;

export async function resolveIncludes(
  repo: Repository,
  matches: StoredVersion[],
  shaping: ResultShaping,
  limit = MAX_INCLUDED,
): Promise<IncludeResult> {
  const state = new IncludeState(repo, matches, limit);
  if (shaping.include.length === 0 && shaping.revinclude.length === 0) return state.result();
  let sources = matches;
  let include = shaping.include;
  let revinclude = shaping.revinclude;
  for (let round = 0; round <= MAX_ITERATIONS && sources.length > 0 && !state.truncated; round++) {
    const before = state.included.length;
    for (const spec of include) await state.include(spec, sources);
    for (const spec of revinclude) await state.revinclude(spec, sources);
    sources = state.included.slice(before);
    // Only :iterate specs are followed from included resources (R4 3.1.1.5.3).
    include = include.filter((spec) => spec.iterate);
    revinclude = revinclude.filter((spec) => spec.iterate);
  }
  return state.result();
}

class IncludeState {
  readonly included: StoredVersion[] = [];
  truncated = false;
  private readonly seen = new Set<string>();

  constructor(
    private readonly repo: Repository,
    matches: StoredVersion[],
    private readonly limit: number,
  ) {
    matches.forEach((m) => this.seen.add(keyOf(m.resourceType, m.id)));
  }

  result(): IncludeResult {
    return { included: this.included, truncated: this.truncated };
  }

  async include(spec: IncludeSpec, sources: StoredVersion[]): Promise<void> {
    const params = new Set(referenceParams(this.repo.registry, spec.sourceType, spec.param));
    const idsByType = new Map<string, Set<string>>();
    for (const source of sources) {
      if (source.resourceType !== spec.sourceType || !source.json) continue;
      for (const ref of referencesOf(this.repo.registry, JSON.parse(source.json) as Resource, params)) {
        if (spec.targetType && ref.targetType !== spec.targetType) continue;
        if (this.seen.has(keyOf(ref.targetType, ref.targetId))) continue;
        const ids = idsByType.get(ref.targetType) ?? new Set<string>();
        idsByType.set(ref.targetType, ids.add(ref.targetId));
      }
    }
    for (const [type, ids] of idsByType) {
      for (const batch of batches([...ids])) await this.add(type, [['_id', batch.join(',')]]);
    }
  }

  async revinclude(spec: IncludeSpec, sources: StoredVersion[]): Promise<void> {
    for (const param of referenceParams(this.repo.registry, spec.sourceType, spec.param)) {
      const targets = this.repo.registry.targetTypes(spec.sourceType, param);
      const references = sources
        .filter((s) => !spec.targetType || s.resourceType === spec.targetType)
        .filter((s) => targets.length === 0 || targets.includes(s.resourceType))
        .map((s) => keyOf(s.resourceType, s.id));
      for (const batch of batches(references)) await this.add(spec.sourceType, [[param, batch.join(',')]]);
    }
  }

  private async add(type: string, criteria: [string, string][]): Promise<void> {
    if (this.truncated) return;
    const room = this.limit - this.included.length;
    const { page } = await this.repo.searchIfPermitted(type, [
      ...criteria,
      ['_count', String(room + 1)],
      ['_total', 'none'],
    ]);
    for (const found of page.entries) {
      const key = keyOf(found.resourceType, found.id);
      if (this.seen.has(key)) continue;
      if (this.included.length >= this.limit) {
        this.truncated = true;
        return;
      }
      this.seen.add(key);
      this.included.push(found);
    }
    // A page cut short by _count may hide further new resources: only a bound can have cut it.
    if (page.next && this.included.length >= this.limit) this.truncated = true;
  }
}

/** The reference parameters `param` names on `type` (`*`: all of them). */
function referenceParams(registry: SearchParameterRegistry, type: string, param: string): string[] {
  if (param !== '*') return [param];
  return registry
    .forResourceType(type)
    .filter((d) => d.type === 'reference')
    .map((d) => d.code);
}

/** Local `Type/id` references of the resource under the given parameters, as the index sees them. */
function referencesOf(
  registry: SearchParameterRegistry,
  resource: Resource,
  params: Set<string>,
): { targetType: string; targetId: string }[] {
  return extractIndexEntries(registry, resource)
    .filter((e): e is ReferenceEntry => e.type === 'reference' && params.has(e.param))
    .filter((e) => e.targetType !== null && e.targetId !== null)
    .map((e) => ({ targetType: e.targetType as string, targetId: e.targetId as string }));
}

function batches<T>(values: T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < values.length; i += BATCH) result.push(values.slice(i, i + BATCH));
  return result;
}

// Which subscriptions a committed write matches, decided in memory from the write's own index entries: each
// subscription's criteria are compiled once, by the MongoDB adapter's filter compiler (whose semantics the
// differential search test holds equal to SQL's), and evaluated by mingo over the write's document. A write is
// only tested against the subscriptions that could match it: those keyed on a code or reference it carries, and
// those without such a key. Criteria with chains or _has depend on other resources: those are confirmed by the
// store.
import { Query } from 'mingo';
import type { IndexEntry } from '../search/index-entry';
import type { Condition, SearchQuery } from '../search/query';
import { resourceDocument } from '../store/mongo/documents';
import { searchFilter } from '../store/mongo/search-filter';
import type { VersionWrite } from '../store/port';

interface Compiled {
  id: string;
  resourceType: string;
  query: SearchQuery;
  /** undefined: the criteria join other resources, so only the store can tell. */
  test?: Query;
  keys: string[];
}

/** What a write matched: certainly (in memory), and possibly (criteria with joins, for the store to confirm). */
export interface WriteMatches {
  matched: string[];
  toConfirm: { id: string; query: SearchQuery }[];
}

export class SubscriptionMatcher {
  private readonly byId = new Map<string, Compiled>();
  /** `Type` + key -> the subscriptions keyed on it; key '' holds those without a key. */
  private readonly byKey = new Map<string, Set<Compiled>>();

  get size(): number {
    return this.byId.size;
  }

  /** Adds or replaces subscription `id`; `query` is over one resource type (a Subscription's criteria). */
  set(id: string, query: SearchQuery): void {
    this.delete(id);
    const [resourceType] = query.resourceTypes;
    const joins = query.conditions.some(hasJoin);
    const compiled: Compiled = {
      id,
      resourceType,
      query,
      test: joins ? undefined : new Query(searchFilter(query, new Map())),
      keys: subscriptionKeys(query.conditions),
    };
    this.byId.set(id, compiled);
    for (const key of compiled.keys) this.keyed(`${resourceType}\u0000${key}`).add(compiled);
  }

  delete(id: string): void {
    const known = this.byId.get(id);
    if (!known) return;
    this.byId.delete(id);
    for (const key of known.keys) {
      const slot = `${known.resourceType}\u0000${key}`;
      this.byKey.get(slot)?.delete(known);
      if (this.byKey.get(slot)?.size === 0) this.byKey.delete(slot);
    }
  }

  /** The subscriptions this version matches (a deletion is matched as the version it deleted, by the engine). */
  match(write: VersionWrite): WriteMatches {
    const result: WriteMatches = { matched: [], toConfirm: [] };
    if (write.deleted) return result;
    const candidates = new Set<Compiled>(this.byKey.get(`${write.resourceType}\u0000`));
    for (const key of writeKeys(write.index)) {
      for (const compiled of this.byKey.get(`${write.resourceType}\u0000${key}`) ?? []) candidates.add(compiled);
    }
    if (candidates.size === 0) return result;
    const document = resourceDocument(write, '') as unknown as Record<string, unknown>;
    for (const compiled of candidates) {
      if (!compiled.test) result.toConfirm.push({ id: compiled.id, query: compiled.query });
      else if (compiled.test.test(document)) result.matched.push(compiled.id);
    }
    return result;
  }

  private keyed(slot: string): Set<Compiled> {
    let set = this.byKey.get(slot);
    if (!set) this.byKey.set(slot, (set = new Set()));
    return set;
  }
}

function hasJoin(condition: Condition): boolean {
  if (condition.kind === 'chain' || condition.kind === 'has') return true;
  if (condition.kind === 'composite') return condition.values.some((v) => v.components.some(hasJoin));
  return false;
}

/**
 * The keys a matching write must carry: the codes of one positive token condition or the targets of one
 * reference condition (any of its values: they are alternatives). [''] when no condition gives a key.
 */
function subscriptionKeys(conditions: readonly Condition[]): string[] {
  for (const condition of conditions) {
    if (condition.kind === 'token' && !condition.not && condition.values.every((v) => v.code !== undefined)) {
      return [...new Set(condition.values.map((v) => `code:${v.code}`))];
    }
    if (condition.kind === 'reference' && condition.values.every((v) => v.targetId !== undefined)) {
      return [...new Set(condition.values.map((v) => `ref:${v.targetId}`))];
    }
  }
  return [''];
}

/** Every key a write carries: its token codes and reference target ids. */
function writeKeys(entries: readonly IndexEntry[]): Set<string> {
  const keys = new Set<string>();
  for (const entry of entries) {
    if (entry.type === 'token' && entry.code !== null) keys.add(`code:${entry.code}`);
    else if (entry.type === 'reference' && entry.targetId !== null) keys.add(`ref:${entry.targetId}`);
  }
  return keys;
}

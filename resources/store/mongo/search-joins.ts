// Resolves the chain and _has conditions of a search, innermost first, into the `Type/id` keys they stand for,
// by reading the resources they name; the compiler (search-filter.ts) takes these keys and stays pure.
import { tooCostly } from '../../errors';
import type { Condition, SearchQuery } from '../../search/query';
import { storedCodes, type ParameterUnions } from '../../search/unions';
import type { DocumentCollection } from './collections';
import type { ResourceDocument } from './documents';
import { joinSourceFilter, type JoinCondition, type JoinKeys } from './search-filter';

/** Resources one join may read, and keys it may yield: the keys travel in the next query's `$in`. */
export const MAX_JOIN_KEYS = 10_000;

export async function resolveJoins(
  resources: DocumentCollection<ResourceDocument>,
  query: SearchQuery,
): Promise<JoinKeys> {
  const keys = new Map<JoinCondition, readonly string[]>();
  for (const condition of query.conditions) await resolve(resources, condition, query.unions, keys);
  return keys;
}

/** Composite components cannot be joins (the compiler refuses them), so joins nest only in joins. */
async function resolve(
  resources: DocumentCollection<ResourceDocument>,
  condition: Condition,
  unions: ParameterUnions | undefined,
  keys: Map<JoinCondition, readonly string[]>,
): Promise<void> {
  if (condition.kind !== 'chain' && condition.kind !== 'has') return;
  await resolve(resources, condition.condition, unions, keys);
  const sources = await resources.find(joinSourceFilter(condition, unions, keys), { limit: MAX_JOIN_KEYS + 1 });
  const found = joinKeysOf(condition, unions, sources);
  if (sources.length > MAX_JOIN_KEYS || found.length > MAX_JOIN_KEYS) {
    const what = condition.kind === 'chain' ? `chained parameter ${condition.param}` : `_has:${condition.sourceType}`;
    throw tooCostly(
      `The ${what} matches more than ${MAX_JOIN_KEYS} resources; narrow the chained search with more criteria`,
    );
  }
  keys.set(condition, found);
}

/** A chain stands for its targets themselves; a _has for what its sources reference through its parameter. */
function joinKeysOf(join: JoinCondition, unions: ParameterUnions | undefined, sources: ResourceDocument[]): string[] {
  if (join.kind === 'chain') return sources.map((doc) => doc._id);
  const codes = new Set(storedCodes(unions, join.sourceType, join.param));
  const targets = new Set<string>();
  for (const doc of sources) {
    for (const entry of doc.index) {
      if (entry.type === 'reference' && entry.target !== null && codes.has(entry.param)) targets.add(entry.target);
    }
  }
  return [...targets];
}

// AND and OR of MongoDB filters, as the search compilers (search-filter.ts, search-order.ts) combine them:
// structure only, so a value from a query stays a value wherever it sits.
import type { Filter } from './collections';

/** Matches no document (nor any array element under `$elemMatch`): an empty `$or` is refused by MongoDB. */
export const NEVER: Filter = { _id: { $in: [] } };

/**
 * All of `filters`. Conditions on different fields, or different operators on one field, merge into one
 * object (as one would write it, and as the query planner reads it best); any collision falls back to `$and`,
 * so two `$elemMatch` on one array stay two separate conditions.
 */
export function and(filters: Filter[]): Filter {
  const kept = filters.filter((f) => Object.keys(f).length > 0);
  if (kept.length <= 1) return kept[0] ?? {};
  const merged: Filter = {};
  for (const filter of kept) {
    for (const [key, value] of Object.entries(filter)) {
      const known = merged[key];
      if (known === undefined) merged[key] = value;
      else if (mergeable(known, value)) merged[key] = { ...(known as Filter), ...(value as Filter) };
      else return { $and: kept };
    }
  }
  return merged;
}

/** Any of `filters`. */
export function or(filters: Filter[]): Filter {
  if (filters.length === 0) return NEVER;
  return filters.length === 1 ? filters[0] : { $or: filters };
}

/** Two operator objects (`{$gte: 1}`, `{$lte: 2}`) whose shared operators carry the same value. */
function mergeable(a: unknown, b: unknown): boolean {
  if (!isOperators(a) || !isOperators(b)) return false;
  return Object.keys(b).every((op) => !(op in a) || a[op] === b[op]);
}

function isOperators(value: unknown): value is Filter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

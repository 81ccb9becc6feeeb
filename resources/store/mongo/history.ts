// History pages over the `versions` collection: newest first by write order (`seq`), paged by keyset on seq,
// with `_since` and `_at` filters.
import type { HistoryQuery, Page, StoredVersion } from '../port';
import type { DocumentCollection, Filter } from './collections';
import type { VersionDocument } from './documents';
import { decodeCursor, pageOf } from './search-order';

/** Documents after an opaque walk position (`order` or `seq`); everything when there is none. */
export function positionAfter(field: 'order' | 'seq', after: string | undefined): Filter {
  return after === undefined ? {} : { [field]: { $gt: after } };
}

export async function historyPage(
  versions: DocumentCollection<VersionDocument>,
  query: HistoryQuery,
): Promise<Page<StoredVersion>> {
  // The search cursor without sort keys; its `order` holds the seq (both are OrderKeys strings).
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, []);
  const filter = historyFilter(query);
  const reverse = cursor?.direction === 'previous';
  const keyset = cursor ? { seq: { [reverse ? '$gt' : '$lt']: cursor.order } } : {};
  const fetched = await versions.find(
    { $and: [filter, keyset] },
    { sort: { seq: reverse ? 1 : -1 }, limit: query.count + 1 },
  );
  const total = query.id !== undefined ? await versions.countDocuments(filter) : undefined;
  return pageOf(fetched, query.count, cursor, total, (doc) => ({ direction: 'next', keys: [], order: doc.seq }));
}

function historyFilter(query: HistoryQuery): Filter {
  const filter: Filter = {};
  if (query.resourceType !== undefined) filter.type = query.resourceType;
  if (query.id !== undefined) filter.id = query.id;
  const updated: Filter = {};
  if (query.since !== undefined) updated.$gte = query.since;
  if (query.at !== undefined) {
    // Current at some moment of [low, high]: written by `high`, and not yet replaced at `low`.
    updated.$lte = query.at.high;
    filter.$or = [{ replacedAt: null }, { replacedAt: { $gt: query.at.low } }];
  }
  if (Object.keys(updated).length > 0) filter.lastUpdated = updated;
  return filter;
}

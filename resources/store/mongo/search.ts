// Runs a parsed search on the `resources` collection: joins resolved first, then one page by keyset (never a
// stored snapshot), its total as the SQLite reader counts it, and the cursors of its neighbour pages.
import type { SearchQuery } from '../../search/query';
import type { Page, StoredVersion } from '../port';
import type { DocumentCollection } from './collections';
import { storedVersion, type ResourceDocument } from './documents';
import { searchFilter } from './search-filter';
import { resolveJoins } from './search-joins';
import { decodeCursor, encodeCursor, orderKeys, pagePipeline, positionOf, type OrderKey } from './search-order';

export async function searchResources(
  resources: DocumentCollection<ResourceDocument>,
  query: SearchQuery,
): Promise<Page<StoredVersion>> {
  const keys = orderKeys(query);
  const cursor = query.cursor ? decodeCursor(query.cursor, keys) : undefined;
  const filter = searchFilter(query, await resolveJoins(resources, query));
  const rows = await resources.aggregate(pagePipeline(filter, keys, cursor, query.count));
  let total: number | undefined;
  if (query.total === 'accurate' || query.total === 'estimate') {
    total = await resources.countDocuments(filter);
  } else if (query.total === 'when-known' && !cursor && rows.length <= query.count) {
    total = rows.length;
  }
  return pageOf(rows, query.count, keys, cursor !== undefined, cursor?.direction === 'previous', total);
}

/**
 * Turns `count + 1` fetched rows into a page with its neighbour cursors, as the SQLite reader does. Rows
 * fetched backwards (for a `previous` cursor) are put back in order.
 */
function pageOf(
  fetched: ResourceDocument[],
  count: number,
  keys: OrderKey[],
  hasCursor: boolean,
  reverse: boolean,
  total: number | undefined,
): Page<StoredVersion> {
  const more = fetched.length > count;
  const rows = fetched.slice(0, count);
  if (reverse) rows.reverse();
  const page: Page<StoredVersion> = { entries: rows.map(storedVersion), total };
  if (rows.length === 0) return page;
  if (reverse ? hasCursor : more) page.next = encodeCursor(positionOf(rows[rows.length - 1], keys));
  if (reverse ? more : hasCursor) page.previous = encodeCursor({ ...positionOf(rows[0], keys), direction: 'previous' });
  return page;
}

// Runs a parsed search on the `resources` collection: joins resolved first, then one page by keyset (never a
// stored snapshot), its total as the SQLite reader counts it, and the cursors of its neighbour pages.
import type { SearchQuery } from '../../search/query';
import type { Page, StoredVersion } from '../port';
import type { DocumentCollection } from './collections';
import type { ResourceDocument } from './documents';
import { searchFilter } from './search-filter';
import { resolveJoins } from './search-joins';
import { decodeCursor, orderKeys, pageOf, pagePipeline, positionOf } from './search-order';

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
  return pageOf(rows, query.count, cursor, total, (row) => positionOf(row, keys));
}

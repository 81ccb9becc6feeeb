// History pages over the `versions` collection: newest first by write order (`seq`), paged by keyset on seq,
// with `_since` and `_at` filters.
import { badRequest } from '../../errors';
import type { HistoryQuery, Page, StoredVersion } from '../port';
import type { DocumentCollection, Filter } from './collections';
import { storedVersion, type VersionDocument } from './documents';

interface HistoryCursor {
  direction: 'next' | 'previous';
  seq: string;
}

/** Documents after an opaque walk position (`order` or `seq`); everything when there is none. */
export function positionAfter(field: 'order' | 'seq', after: string | undefined): Filter {
  return after === undefined ? {} : { [field]: { $gt: after } };
}

export async function historyPage(
  versions: DocumentCollection<VersionDocument>,
  query: HistoryQuery,
): Promise<Page<StoredVersion>> {
  const cursor = query.cursor === undefined ? undefined : decodeHistoryCursor(query.cursor);
  const filter = historyFilter(query);
  const reverse = cursor?.direction === 'previous';
  const keyset = cursor ? { seq: { [reverse ? '$gt' : '$lt']: cursor.seq } } : {};
  const fetched = await versions.find(
    { $and: [filter, keyset] },
    { sort: { seq: reverse ? 1 : -1 }, limit: query.count + 1 },
  );
  const total = query.id !== undefined ? await versions.countDocuments(filter) : undefined;
  const more = fetched.length > query.count;
  const docs = fetched.slice(0, query.count);
  if (reverse) docs.reverse();
  const page: Page<StoredVersion> = { entries: docs.map(storedVersion), total };
  if (docs.length === 0) return page;
  if (reverse ? cursor !== undefined : more) page.next = encodeHistoryCursor('next', docs[docs.length - 1].seq);
  if (reverse ? more : cursor !== undefined) page.previous = encodeHistoryCursor('previous', docs[0].seq);
  return page;
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

function encodeHistoryCursor(direction: HistoryCursor['direction'], seq: string): string {
  return Buffer.from(JSON.stringify([direction === 'next' ? 'n' : 'p', seq])).toString('base64url');
}

function decodeHistoryCursor(text: string): HistoryCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !['n', 'p'].includes(parsed[0] as string)) {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
  const [direction, seq] = parsed as unknown[];
  if (typeof seq !== 'string') throw badRequest('Invalid paging cursor', '_cursor');
  return { direction: direction === 'n' ? 'next' : 'previous', seq };
}

// The `filter` of $expand: every word of the filter must start a word of the display, or start the code
// (case and accents ignored). Matches are ranked exact code, then display starting with the filter, then any
// word-prefix match; within a rank they keep the value set's order, so paging through them is stable.
// A value set drawing on one code system in its order (the large case) is matched on typed arrays from the
// code system's word index, touching only the concepts that reach the page; other value sets are scanned.
import type { CodeSystemIndex } from './code-system-index';
import type { Composition, ExpansionItem, Placement } from './compose';
import { foldText, searchableText } from './text';

/** The flags that drop items before the total is counted. */
export interface Shaping {
  activeOnly?: boolean;
  excludeNotForUI?: boolean;
}

export interface Page {
  total: number;
  page: ExpansionItem[];
}

const dropped = (item: ExpansionItem, shaping: Shaping) =>
  (shaping.activeOnly === true && item.concept.inactive) || (shaping.excludeNotForUI === true && item.concept.abstract);

/** Without a filter: the kept items in the value set's order. */
export function inOrder(items: readonly ExpansionItem[], shaping: Shaping, offset: number, count: number): Page {
  const kept = shaping.activeOnly || shaping.excludeNotForUI ? items.filter((item) => !dropped(item, shaping)) : items;
  return { total: kept.length, page: kept.slice(offset, offset + count) };
}

export function typeahead(
  composition: Composition,
  filter: string,
  shaping: Shaping,
  offset: number,
  count: number,
): Page {
  const folded = foldText(filter);
  const words = folded.split(' ').filter((word) => word.length > 0);
  if (words.length === 0) return inOrder(composition.items, shaping, offset, count);
  const placement = (composition.placement ??= placementOf(composition.items));
  const query: Query = { filter, folded, words, shaping, limit: offset + count };
  const ranked = placement.positional
    ? rankPositional(composition.items, placement, query)
    : rankScanned(composition.items, query);
  return { total: ranked.total, page: ranked.first.slice(offset, offset + count) };
}

interface Query {
  filter: string;
  folded: string;
  words: string[];
  shaping: Shaping;
  /** How many ranked matches the page needs: offset + count. */
  limit: number;
}

interface Ranked {
  total: number;
  first: ExpansionItem[];
}

/**
 * One code system in its own order: one pass over typed arrays counts every kept match, and a concept's text
 * is only read while the page still needs display-prefix or other matches.
 */
function rankPositional(items: readonly ExpansionItem[], placement: Placement, query: Query): Ranked {
  const [[index, ordinals]] = placement.ordinals;
  const matches = index.words.matching(query.words);
  const leads = index.words.leading(query.words[0]);
  const drop = dropMarksOf(index, query.shaping);
  const exact = new Set<number>();
  for (const position of index.words.codesEqualTo(query.folded)) {
    if (ordinals[position] >= 0 && !drop?.[position]) exact.add(position);
  }
  const ranks: number[][] = [[...exact].sort((a, b) => a - b), [], []];
  let total = exact.size;
  const prefix = ` ${query.folded}`;
  for (let position = 0; position < matches.length; position++) {
    if (matches[position] === 0 || ordinals[position] < 0 || drop?.[position] || exact.has(position)) continue;
    total++;
    if (ranks[0].length + ranks[1].length >= query.limit) continue;
    if (leads[position] === 1 && index.concepts[position].searchText.startsWith(prefix)) ranks[1].push(position);
    else if (ranks[2].length < query.limit) ranks[2].push(position);
  }
  return {
    total,
    first: ranks
      .flat()
      .slice(0, query.limit)
      .map((position) => items[ordinals[position]]),
  };
}

function dropMarksOf(index: CodeSystemIndex, shaping: Shaping): Uint8Array | undefined {
  if (!shaping.activeOnly && !shaping.excludeNotForUI) return undefined;
  const { inactive, abstract } = index.dropMarks;
  if (!shaping.excludeNotForUI) return inactive;
  if (!shaping.activeOnly) return abstract;
  return inactive.map((flag, position) => flag | abstract[position]);
}

/** Any other value set: every item's text is tested. Each rank keeps at most `limit`. */
function rankScanned(items: readonly ExpansionItem[], query: Query): Ranked {
  const { filter, folded, words, shaping, limit } = query;
  const ranks: ExpansionItem[][] = [[], [], []];
  let total = 0;
  for (const item of items) {
    const { concept } = item;
    const text = displayText(item);
    if (dropped(item, shaping)) continue;
    const exact = concept.code === filter || concept.foldedCode === folded;
    if (!exact && !words.every((word) => text.includes(` ${word}`) || concept.foldedCode.startsWith(word))) continue;
    total++;
    const rank = ranks[exact ? 0 : text.startsWith(` ${folded}`) ? 1 : 2];
    if (rank.length < limit) rank.push(item);
  }
  return { total, first: ranks.flat().slice(0, limit) };
}

function placementOf(items: readonly ExpansionItem[]): Placement {
  const ordinals = new Map<CodeSystemIndex, Int32Array>();
  let scanned = false;
  let ordered = true;
  let lastPosition = -1;
  items.forEach((item, ordinal) => {
    const { index } = item;
    if (!index || item.display !== undefined) {
      scanned = true;
      return;
    }
    let positions = ordinals.get(index);
    if (!positions) ordinals.set(index, (positions = new Int32Array(index.size).fill(-1)));
    positions[item.concept.position] = ordinal;
    ordered &&= item.concept.position > lastPosition;
    lastPosition = item.concept.position;
  });
  return { ordinals, positional: ordered && !scanned && ordinals.size === 1 };
}

const displayText = (item: ExpansionItem) =>
  item.display === undefined ? item.concept.searchText : searchableText(item.display);

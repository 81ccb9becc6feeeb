// One page of an $everything walk: the segments (plan.ts) are searched in order through the caller's repository,
// each resuming from the store's own keyset cursor, until the page holds `_count` matches. Only one page of
// resources is ever in memory; the position where the next page starts goes into the paging cursor.
import { badRequest } from '../errors';
import type { Repository } from '../repository';
import type { Resource } from '@medplum/fhirtypes';
import { patientsOf } from '../audit/trail';
import { SELF } from '../search/compartments';
import { extractParameterEntries } from '../search/extract';
import { MAX_OR_VALUES, type SearchParamPairs } from '../search/parse';
import type { Page, StoredVersion } from '../store/port';
import type { WalkPosition } from './cursor';
import type { EverythingParams } from './params';
import type { AnchorType, Segment } from './plan';

export interface WalkContext {
  repo: Repository;
  anchor: AnchorType;
  segments: Segment[];
  params: EverythingParams;
  /** Patient/$everything: the walk goes on to the next Patient the caller may see (in `_id` order). */
  typeLevel: boolean;
  /** Encounter/$everything: the only patient whose compartment resources may be returned (the subject). */
  recordPatient?: string;
}

export interface WalkPage {
  matches: StoredVersion[];
  /** Where the next page starts; absent on the last page. */
  next?: WalkPosition;
}

interface Step {
  kept: StoredVersion[];
  next?: WalkPosition;
}

/** Segments searched ahead at once, and the rows read ahead from each (the memory bound of reading ahead). */
const PREFETCH_WINDOW = 8;
const PREFETCH_COUNT = 100;

export class Walk {
  /** Pages of segments searched ahead, by `segment/anchorId`. */
  private readonly ahead = new Map<string, Promise<Page<StoredVersion>>>();

  constructor(private readonly ctx: WalkContext) {}

  /** The first position: the instance's anchor, or for a type-level walk the first Patient the caller may see. */
  async start(anchorId?: string): Promise<WalkPosition | undefined> {
    if (anchorId !== undefined) return { anchorId, segment: 0 };
    return this.nextAnchor(undefined);
  }

  async page(start: WalkPosition): Promise<WalkPage> {
    if (start.segment >= this.ctx.segments.length) throw badRequest('Invalid $everything paging cursor', '_cursor');
    const matches: StoredVersion[] = [];
    let position: WalkPosition | undefined = start;
    while (position) {
      const room = this.ctx.params.count - matches.length;
      if (room === 0) return { matches, next: await this.lookahead(position) };
      const step = await this.search(position, room);
      matches.push(...step.kept);
      position = step.next;
    }
    return { matches };
  }

  /**
   * The next page's start when something is left, so that no page is empty: inside a segment the store knows
   * (it read one row more); at a segment's start, the following segments are probed for one resource.
   */
  private async lookahead(position: WalkPosition): Promise<WalkPosition | undefined> {
    let probe: WalkPosition | undefined = position;
    while (probe && probe.store === undefined) {
      const step = await this.search(probe, 1);
      if (step.kept.length > 0 || step.next?.store !== undefined) return probe;
      probe = step.next;
    }
    return probe;
  }

  /** Up to `room` resources of the position's segment, and where the walk goes on. */
  private async search(position: WalkPosition, room: number): Promise<Step> {
    const segment = this.ctx.segments[position.segment];
    const page = await this.fetch(position, room);
    const kept: StoredVersion[] = [];
    for (const stored of page.entries) {
      if (await this.belongs(segment, position.anchorId, stored)) kept.push(stored);
    }
    const next = page.next !== undefined ? { ...position, store: page.next } : await this.advance(position);
    return { kept, next };
  }

  /**
   * The segment's page from `position`. At a segment's start the following segments are searched at the same
   * time (most of a record's segments are empty, and each search is a round trip to a search worker); their
   * first rows wait here until the walk reaches them, at most PREFETCH_WINDOW pages of PREFETCH_COUNT rows.
   */
  private async fetch(position: WalkPosition, room: number): Promise<Page<StoredVersion>> {
    if (position.store === undefined) {
      this.prefetchFrom(position, Math.min(room, PREFETCH_COUNT));
      const key = `${position.segment}/${position.anchorId}`;
      const ahead = this.ahead.get(key);
      this.ahead.delete(key);
      const page = ahead && (await ahead);
      if (page && page.entries.length <= room) return page;
    }
    return this.query(position, room);
  }

  private prefetchFrom(position: WalkPosition, count: number): void {
    const end = Math.min(position.segment + PREFETCH_WINDOW, this.ctx.segments.length);
    for (let segment = position.segment; segment < end; segment++) {
      const key = `${segment}/${position.anchorId}`;
      if (this.ahead.has(key)) continue;
      const page = this.query({ anchorId: position.anchorId, segment }, count);
      // Awaited when the walk gets there; a page it never reaches must not become an unhandled rejection.
      page.catch(() => undefined);
      this.ahead.set(key, page);
    }
  }

  private async query(position: WalkPosition, count: number): Promise<Page<StoredVersion>> {
    const segment = this.ctx.segments[position.segment];
    const criteria: SearchParamPairs = [
      ...this.segmentCriteria(segment, position.anchorId),
      ['_count', String(count)],
      ['_total', 'none'],
      ...(position.store !== undefined ? ([['_cursor', position.store]] as SearchParamPairs) : []),
    ];
    // Strict: a parameter the search could not apply must fail, never widen the search to every resource.
    return (await this.ctx.repo.search(segment.types, criteria, { internal: true, strict: true })).page;
  }

  private segmentCriteria(segment: Segment, anchorId: string): SearchParamPairs {
    const { start, end, since } = this.ctx.params;
    const member: [string, string] =
      segment.param === SELF ? ['_id', anchorId] : [segment.param, `${this.ctx.anchor}/${anchorId}`];
    const careDate = segment.careDate;
    const criteria: SearchParamPairs = [member];
    if (careDate && start !== undefined) criteria.push([careDate, `ge${start}`]);
    if (careDate && end !== undefined) criteria.push([careDate, `le${end}`]);
    if (since !== undefined) criteria.push(['_lastUpdated', `ge${since}`]);
    return criteria;
  }

  /** The next segment, or the next anchor's first segment, or undefined at the end of the walk. */
  private async advance(position: WalkPosition): Promise<WalkPosition | undefined> {
    if (position.segment + 1 < this.ctx.segments.length) {
      return { anchorId: position.anchorId, anchorNext: position.anchorNext, segment: position.segment + 1 };
    }
    if (!this.ctx.typeLevel || position.anchorNext === undefined) return undefined;
    return this.nextAnchor(position.anchorNext);
  }

  /** Type level: the Patient after the store cursor (the first one without it), in `_id` order. */
  private async nextAnchor(after: string | undefined): Promise<WalkPosition | undefined> {
    const criteria: SearchParamPairs = [
      ['_sort', '_id'],
      ['_count', '1'],
      ['_total', 'none'],
      ...(after !== undefined ? ([['_cursor', after]] as SearchParamPairs) : []),
    ];
    const { page } = await this.ctx.repo.search(['Patient'], criteria, { internal: true });
    const patient = page.entries[0];
    if (!patient) return undefined;
    return { anchorId: patient.id, anchorNext: page.next, segment: 0 };
  }

  /**
   * Whether a found resource is returned in this segment: not already returned by an earlier parameter of its
   * type, not another patient's (Encounter walks), and for a type-level walk not returned with an earlier
   * patient it also belongs to.
   */
  private async belongs(segment: Segment, anchorId: string, stored: StoredVersion): Promise<boolean> {
    const earlier = segment.earlier[stored.resourceType] ?? [];
    if (earlier.length > 0 && this.refersToAnchor(stored, earlier, anchorId)) return false;
    if (this.ctx.anchor === 'Encounter') {
      return patientsOf(this.ctx.repo.registry, stored).every((p) => p === this.ctx.recordPatient);
    }
    if (!this.ctx.typeLevel) return true;
    const earlierPatients = patientsOf(this.ctx.repo.registry, stored).filter((p) => p < anchorId);
    return earlierPatients.length === 0 || !(await this.anyVisiblePatient(earlierPatients));
  }

  private refersToAnchor(stored: StoredVersion, params: string[], anchorId: string): boolean {
    const resource = JSON.parse(stored.json as string) as Resource;
    return extractParameterEntries(this.ctx.repo.registry, resource, params).some(
      (e) => e.type === 'reference' && e.targetType === this.ctx.anchor && e.targetId === anchorId,
    );
  }

  private async anyVisiblePatient(ids: string[]): Promise<boolean> {
    for (let i = 0; i < ids.length; i += MAX_OR_VALUES) {
      const batch = ids.slice(i, i + MAX_OR_VALUES).join(',');
      const criteria: SearchParamPairs = [
        ['_id', batch],
        ['_count', '1'],
        ['_total', 'none'],
      ];
      const { page } = await this.ctx.repo.search(['Patient'], criteria, { internal: true });
      if (page.entries.length > 0) return true;
    }
    return false;
  }
}

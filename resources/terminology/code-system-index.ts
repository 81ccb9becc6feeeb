// An in-memory index of one CodeSystem: its concepts flattened in document order, found by code, with the
// hierarchy (nested concepts and `parent`/`child`/`subsumedBy` properties), status and folded display text that
// expansion, lookup, validation and subsumption all work from. Built once per stored version (see sources.ts).
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes';
import { foldText, searchableText } from './text';
import type { Concept } from './concept';
import { WordIndex } from './word-index';

/** Concept properties whose code points at a parent or a child. */
const PARENT_PROPERTIES = new Set(['parent', 'subsumedBy']);
const CHILD_PROPERTIES = new Set(['child']);
/** `status` values (THO code systems) meaning the concept is no longer active. */
const INACTIVE_STATUSES = new Set(['retired', 'inactive']);
const ABSTRACT_PROPERTIES = new Set(['notSelectable', 'abstract']);
const INACTIVE_PROPERTIES = new Set(['inactive']);

export class CodeSystemIndex {
  readonly url: string;
  readonly version?: string;
  readonly name: string;
  readonly content: CodeSystem['content'];
  /** R4 leaves an absent caseSensitive undefined; codes are then compared exactly, as if it were true. */
  readonly caseSensitive: boolean;
  readonly concepts: Concept[] = [];
  private readonly byCode = new Map<string, number>();
  private readonly byLowerCode = new Map<string, number>();
  private wordIndex?: WordIndex;
  private drops?: { inactive: Uint8Array; abstract: Uint8Array };

  /** `key` names the source: `builtin|url|version` or `CodeSystem/id/versionId/lastUpdated`. */
  constructor(
    codeSystem: CodeSystem,
    readonly key: string,
  ) {
    this.url = codeSystem.url ?? '';
    this.version = codeSystem.version;
    this.name = codeSystem.name ?? codeSystem.title ?? this.url;
    this.content = codeSystem.content;
    this.caseSensitive = codeSystem.caseSensitive !== false;
    this.addConcepts(codeSystem.concept ?? [], undefined);
    this.linkPropertyHierarchy();
  }

  get size(): number {
    return this.concepts.length;
  }

  /** The typeahead index of the displays and codes, built on first use. */
  get words(): WordIndex {
    this.wordIndex ??= new WordIndex(this.concepts);
    return this.wordIndex;
  }

  /** 1 at each position that activeOnly (inactive) or excludeNotForUI (abstract) would drop, built on first use. */
  get dropMarks(): { inactive: Uint8Array; abstract: Uint8Array } {
    this.drops ??= {
      inactive: Uint8Array.from(this.concepts, (concept) => (concept.inactive ? 1 : 0)),
      abstract: Uint8Array.from(this.concepts, (concept) => (concept.abstract ? 1 : 0)),
    };
    return this.drops;
  }

  /** The position of a code, matched case-insensitively when the code system says codes are not case sensitive. */
  position(code: string): number | undefined {
    return this.byCode.get(code) ?? (this.caseSensitive ? undefined : this.byLowerCode.get(code.toLowerCase()));
  }

  find(code: string): Concept | undefined {
    const position = this.position(code);
    return position === undefined ? undefined : this.concepts[position];
  }

  /** Every position below `position` (children, their children ...), without `position` itself. */
  descendants(position: number): Set<number> {
    return this.walk(position, (concept) => concept.children);
  }

  ancestors(position: number): Set<number> {
    return this.walk(position, (concept) => concept.parents);
  }

  private walk(start: number, next: (concept: Concept) => number[]): Set<number> {
    const found = new Set<number>();
    const pending = [...next(this.concepts[start])];
    while (pending.length > 0) {
      const position = pending.pop() as number;
      if (found.has(position) || position === start) continue;
      found.add(position);
      pending.push(...next(this.concepts[position]));
    }
    return found;
  }

  private addConcepts(concepts: CodeSystemConcept[], parent: number | undefined): void {
    for (const source of concepts) {
      if (typeof source.code !== 'string') continue;
      let position = this.byCode.get(source.code);
      if (position === undefined) {
        position = this.concepts.length;
        this.concepts.push(conceptOf(source, position));
        this.byCode.set(source.code, position);
        if (!this.byLowerCode.has(source.code.toLowerCase())) this.byLowerCode.set(source.code.toLowerCase(), position);
      }
      if (parent !== undefined) this.link(parent, position);
      this.addConcepts(source.concept ?? [], position);
    }
  }

  private linkPropertyHierarchy(): void {
    this.concepts.forEach((concept, position) => {
      for (const property of concept.property ?? []) {
        const other = property.valueCode === undefined ? undefined : this.byCode.get(property.valueCode);
        if (other === undefined) continue;
        if (PARENT_PROPERTIES.has(property.code)) this.link(other, position);
        if (CHILD_PROPERTIES.has(property.code)) this.link(position, other);
      }
    });
  }

  private link(parent: number, child: number): void {
    if (parent === child || this.concepts[child].parents.includes(parent)) return;
    this.concepts[child].parents.push(parent);
    this.concepts[parent].children.push(child);
  }
}

function conceptOf(source: CodeSystemConcept, position: number): Concept {
  const properties = source.property ?? [];
  const flag = (codes: Set<string>) => properties.some((p) => codes.has(p.code) && p.valueBoolean === true);
  return {
    position,
    code: source.code,
    display: source.display,
    definition: source.definition,
    designation: source.designation,
    property: source.property,
    parents: [],
    children: [],
    inactive:
      flag(INACTIVE_PROPERTIES) ||
      properties.some((p) => p.code === 'status' && INACTIVE_STATUSES.has(p.valueCode ?? '')),
    abstract: flag(ABSTRACT_PROPERTIES),
    searchText: searchableText(source.display),
    foldedCode: foldText(source.code),
  };
}

// The codes a value set contains: compose.include (whole systems, enumerated concepts, filters, imported value
// sets) minus compose.exclude, in definition order, or the expansion a value set carries when it has no
// compose. Results are cached per value set version and reused while every code system and value set they
// were built from is still the same version.
import type { ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { LRUCache } from 'lru-cache';
import { badRequest } from '../errors';
import type { CodeSystemIndex } from './code-system-index';
import { listedConcept, type Concept } from './concept';
import { conceptFilter } from './filters';
import { unknownCodeSystem, type ResolvedValueSet, type TerminologySources } from './sources';

export interface ExpansionItem {
  system: string;
  version?: string;
  concept: Concept;
  /** The display the value set itself gives the code, which wins over the code system's. */
  display?: string;
  /** The code system the concept came from; absent for codes known only from the value set. */
  index?: CodeSystemIndex;
}

interface Dependency {
  kind: 'CodeSystem' | 'ValueSet';
  url: string;
  version?: string;
  key: string;
}

export interface Composition {
  items: ExpansionItem[];
  dependencies: Dependency[];
  /** The items by `system|code` (and lower-cased code where the system is not case sensitive), built on demand. */
  lookup?: Map<string, ExpansionItem>;
  /** Where each code system's concepts sit among the items, for typeahead (typeahead.ts), built on demand. */
  placement?: Placement;
}

export interface Placement {
  /** Per code system: concept position -> index in `items`, or -1 when the value set leaves it out. */
  ordinals: Map<CodeSystemIndex, Int32Array>;
  /** True when the items are one code system's concepts in its order, with its displays. */
  positional: boolean;
}

/** Longest value set import chain followed; deeper means a cycle or a pathological definition. */
const MAX_IMPORT_DEPTH = 10;

const compositions = new LRUCache<string, Composition>({
  maxSize: 2_000_000,
  sizeCalculation: (composition) => composition.items.length + 1,
});

export const itemKey = (system: string, code: string) => `${system}|${code}`;

/** The value set's codes; `resolved.key` undefined (a value set sent in the request) is never cached. */
export async function composeValueSet(
  sources: TerminologySources,
  resolved: { key?: string; valueSet: ValueSet },
  depth = 0,
): Promise<Composition> {
  if (depth > MAX_IMPORT_DEPTH) {
    throw badRequest(`Value set imports nest deeper than ${MAX_IMPORT_DEPTH} (a cycle?) at ${resolved.valueSet.url}`);
  }
  const cached = resolved.key ? compositions.get(resolved.key) : undefined;
  if (cached && (await stillCurrent(sources, cached))) return cached;
  const composer = new Composer(sources, depth);
  const items = await composer.compose(resolved.valueSet);
  const composition = { items, dependencies: composer.dependencies };
  if (resolved.key) compositions.set(resolved.key, composition);
  return composition;
}

async function stillCurrent(sources: TerminologySources, composition: Composition): Promise<boolean> {
  for (const dependency of composition.dependencies) {
    const current =
      dependency.kind === 'CodeSystem'
        ? ((await sources.findCodeSystem(dependency.url, dependency.version))?.key ?? '')
        : (await sources.valueSet(dependency.url, dependency.version)).key;
    if (current !== dependency.key) return false;
  }
  return true;
}

class Composer {
  readonly dependencies: Dependency[] = [];

  constructor(
    private readonly sources: TerminologySources,
    private readonly depth: number,
  ) {}

  async compose(valueSet: ValueSet): Promise<ExpansionItem[]> {
    if (!valueSet.compose) return expandedItems(valueSet);
    const included = new Map<string, ExpansionItem>();
    for (const include of valueSet.compose.include ?? []) {
      for (const item of await this.includeItems(include)) {
        const key = itemKey(item.system, item.concept.code);
        if (!included.has(key)) included.set(key, item);
      }
    }
    for (const exclude of valueSet.compose.exclude ?? []) {
      for (const item of await this.includeItems(exclude)) included.delete(itemKey(item.system, item.concept.code));
    }
    return [...included.values()];
  }

  private async includeItems(include: ValueSetComposeInclude): Promise<ExpansionItem[]> {
    let items = include.system ? await this.systemItems(include.system, include) : undefined;
    for (const url of include.valueSet ?? []) {
      const imported = await this.importedItems(url);
      items = items ? intersect(items, imported) : imported;
    }
    if (!items) throw badRequest('A value set include names neither a system nor a value set', 'ValueSet.compose');
    return items;
  }

  private async systemItems(system: string, include: ValueSetComposeInclude): Promise<ExpansionItem[]> {
    const index = await this.sources.findCodeSystem(system, include.version);
    this.dependencies.push({ kind: 'CodeSystem', url: system, version: include.version, key: index?.key ?? '' });
    if (include.concept) return listedItems(system, include, index);
    if (!index) throw unknownCodeSystem(system, include.version);
    const tests = (include.filter ?? []).map((filter) => conceptFilter(index, filter));
    const items: ExpansionItem[] = [];
    index.concepts.forEach((concept, position) => {
      if (tests.every((test) => test(position))) items.push({ system, version: index.version, concept, index });
    });
    return items;
  }

  private async importedItems(url: string): Promise<ExpansionItem[]> {
    const resolved: ResolvedValueSet = await this.sources.valueSet(url);
    const imported = await composeValueSet(this.sources, resolved, this.depth + 1);
    this.dependencies.push({ kind: 'ValueSet', url, key: resolved.key }, ...imported.dependencies);
    return imported.items;
  }
}

/**
 * Enumerated concepts: those the code system has come with its details; the others are taken as the value set
 * lists them, since the value set's author vouches for them (grammar-based systems such as UCUM enumerate codes
 * no concept list holds, and systems the server has no concepts of still expand this way).
 */
function listedItems(
  system: string,
  include: ValueSetComposeInclude,
  index: CodeSystemIndex | undefined,
): ExpansionItem[] {
  return (include.concept ?? []).map((listed) => {
    const found = index?.find(listed.code);
    if (found) return { system, version: index?.version, concept: found, display: listed.display, index };
    return { system, version: include.version, concept: listedConcept(listed.code, listed.display) };
  });
}

function intersect(items: ExpansionItem[], other: ExpansionItem[]): ExpansionItem[] {
  const keys = new Set(other.map((item) => itemKey(item.system, item.concept.code)));
  return items.filter((item) => keys.has(itemKey(item.system, item.concept.code)));
}

/** A value set defined only by its expansion (a few R4 examples): its codes, nesting flattened. */
function expandedItems(valueSet: ValueSet): ExpansionItem[] {
  if (!valueSet.expansion) {
    throw badRequest(`The value set ${valueSet.url ?? ''} has neither a compose nor an expansion`, 'ValueSet');
  }
  const items: ExpansionItem[] = [];
  const visit = (contains: ValueSetExpansionContains[] = []) => {
    for (const entry of contains) {
      if (entry.system && entry.code) {
        const concept = listedConcept(entry.code, entry.display, entry.inactive === true);
        concept.abstract = entry.abstract === true;
        items.push({ system: entry.system, version: entry.version, concept });
      }
      visit(entry.contains);
    }
  };
  visit(valueSet.expansion.contains);
  return items;
}

// Turns a resource into the typed index entries every store keeps: each search parameter of the resource's type
// is evaluated with its precompiled expression and its values converted by the module for its parameter type.
import type { Resource } from '@medplum/fhirtypes';
import { withCanonicalVersions } from './canonical-versions';
import type { IndexEntry } from './index-entry';
import type { SearchParameterDefinition, SearchParameterRegistry } from './registry';
import { compositeEntries } from './types/composite';
import { dateEntries } from './types/date';
import { numberEntries } from './types/number';
import { positionEntries } from './types/position';
import { quantityEntries } from './types/quantity';
import { referenceEntries } from './types/reference';
import { stringEntries } from './types/string';
import { tokenEntries } from './types/token';
import { uriEntries } from './types/uri';
import { typedValues, type TypedValue } from './types/value';

type Converter = (value: TypedValue, param: string, targets: readonly string[]) => IndexEntry[];

/** Parameter types with index entries; unknown types have none. */
const CONVERTERS: Record<string, Converter | undefined> = {
  string: stringEntries,
  token: tokenEntries,
  date: dateEntries,
  number: numberEntries,
  quantity: quantityEntries,
  reference: referenceEntries,
  uri: uriEntries,
};

/** `special` parameters with entries, by code: Location `near` (its position's latitude and longitude). */
const SPECIAL_CONVERTERS = new Map<string, Converter>([['near', positionEntries]]);

interface Convertible {
  type: string;
  targets: readonly string[];
}

function convert(parameter: Convertible, values: TypedValue[], param: string): IndexEntry[] {
  const converter = parameter.type === 'special' ? SPECIAL_CONVERTERS.get(param) : CONVERTERS[parameter.type];
  if (!converter) {
    return [];
  }
  const entries: IndexEntry[] = [];
  for (const value of values) {
    entries.push(...converter(value, param, parameter.targets));
  }
  return entries;
}

function entriesFor(definition: SearchParameterDefinition, root: unknown, env: Record<string, unknown>): IndexEntry[] {
  if (definition.type === 'composite') {
    return compositeEntries(definition, root, env, convert);
  }
  const values = definition.evaluate ? typedValues(definition.evaluate(root, env)) : [];
  return values.length > 0 ? convert(definition, values, definition.code) : [];
}

type EntryOf<T extends IndexEntry['type']> = Extract<IndexEntry, { type: T }>;

// What makes two entries of one parameter the same (cheaper than serialising whole entries).
const VALUE_KEYS: { [T in IndexEntry['type']]: (entry: EntryOf<T>) => string } = {
  string: (e) => `${e.value}\u001f${e.exact}`,
  token: (e) => `${e.system}\u001f${e.code}\u001f${e.text}\u001f${e.typeSystem}\u001f${e.typeCode}`,
  date: (e) => `${e.low}\u001f${e.high}`,
  number: (e) => `${e.low}\u001f${e.high}`,
  quantity: (e) => `${e.low}\u001f${e.high}\u001f${e.system}\u001f${e.code}\u001f${e.unit}`,
  reference: (e) =>
    `${e.targetType}\u001f${e.targetId}\u001f${e.url}\u001f${e.identifierSystem}\u001f${e.identifierValue}`,
  uri: (e) => e.value,
};

function entryKey(entry: IndexEntry): string {
  const valueKey = VALUE_KEYS[entry.type] as (entry: IndexEntry) => string;
  return `${entry.param}\u001f${entry.group}\u001f${valueKey(entry)}`;
}

/** Appends entries, skipping duplicates of one parameter (a name repeated in two HumanNames ...). */
function appendUnique(target: IndexEntry[], entries: IndexEntry[]): void {
  if (entries.length < 2) {
    target.push(...entries);
    return;
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = entryKey(entry);
    if (!seen.has(key)) {
      seen.add(key);
      target.push(entry);
    }
  }
}

/**
 * The index entries of a resource under every parameter the registry defines for its type. Row parameters
 * (`_id`, `_lastUpdated`) yield none. Odd but schema-valid data yields no entry for the odd value, never an error.
 */
export function extractIndexEntries(registry: SearchParameterRegistry, resource: Resource): IndexEntry[] {
  // The resource JSON itself is the input of every expression, and %resource for composites that reach back to
  // it (MolecularSequence's coordinate parameters): fhirpath.js and the fast path both take it as it is.
  const env = { resource, rootResource: resource };
  const entries: IndexEntry[] = [];
  for (const definition of registry.forResourceType(resource.resourceType)) {
    if (!definition.evaluate || definition.unionOf) {
      continue;
    }
    try {
      appendUnique(entries, entriesFor(definition, resource, env));
    } catch {
      // fhirpath.js can still throw on data the expression does not expect (a singleton function over a list):
      // that parameter then indexes nothing for this resource, and the write goes on.
    }
  }
  return withCanonicalVersions(entries);
}

/** The index entries of only the named parameters (for the audit trail's patient references). */
export function extractParameterEntries(
  registry: SearchParameterRegistry,
  resource: Resource,
  codes: readonly string[],
): IndexEntry[] {
  const env = { resource, rootResource: resource };
  const entries: IndexEntry[] = [];
  for (const code of codes) {
    const definition = registry.get(resource.resourceType, code);
    if (!definition?.evaluate || definition.unionOf) continue;
    try {
      appendUnique(entries, entriesFor(definition, resource, env));
    } catch {
      // As in extractIndexEntries: an expression that cannot evaluate this data yields nothing.
    }
  }
  return entries;
}

// Composite parameters: for each repetition of the composite's root element (an Observation, each of its
// components ...), the entries of every component evaluated on that repetition, tagged with the repetition
// index (`group`) so that a search can require all components to match within the same repetition.
import type { IndexEntry } from '../index-entry';
import type { CompositeComponent, SearchParameterDefinition } from '../registry';
import { typedValues, type TypedValue } from './value';

/** Converts a component's values into entries of the component's own parameter type. */
export type ComponentConverter = (component: CompositeComponent, values: TypedValue[], param: string) => IndexEntry[];

/** A token component is searched by system and/or code, never by text, so a text-only entry can never match. */
const matchable = (entry: IndexEntry): boolean =>
  entry.type !== 'token' || entry.code !== null || entry.system !== null;

/**
 * Entries `code$i` (component i) per repetition. A repetition missing any component is left out: no composite
 * search could match it.
 */
export function compositeEntries(
  definition: SearchParameterDefinition,
  input: unknown,
  env: Record<string, unknown>,
  convert: ComponentConverter,
): IndexEntry[] {
  const { evaluate, components } = definition;
  if (!evaluate || !components) {
    return [];
  }
  const entries: IndexEntry[] = [];
  evaluate(input, env).forEach((root, group) => {
    const tuple = components.map((component, i) =>
      convert(component, typedValues(component.evaluate(root, env)), `${definition.code}$${i}`).filter(matchable),
    );
    if (tuple.every((componentEntries) => componentEntries.length > 0)) {
      for (const entry of tuple.flat()) {
        entry.group = group; // the converters' entries are fresh objects
        entries.push(entry);
      }
    }
  });
  return entries;
}

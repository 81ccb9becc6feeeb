// ValueSet.compose.include.filter over an indexed code system: each (property, op, value) becomes a test of a
// concept position. Hierarchy operators work on `concept` (or `code`); the others on any concept property,
// plus the computed `parent`, `child` and `inactive`. An operator or property we cannot honour is a 400.
import type { ValueSetComposeIncludeFilter } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { CodeSystemIndex } from './code-system-index';

export type ConceptTest = (position: number) => boolean;

const HIERARCHY_PROPERTIES = new Set(['concept', 'code']);
/** Longest regex accepted from a value set: they run against every concept, so keep them simple. */
const MAX_REGEX_LENGTH = 200;

type FilterBuilder = (index: CodeSystemIndex, filter: ValueSetComposeIncludeFilter) => ConceptTest;

const HIERARCHY_FILTERS: Record<string, FilterBuilder> = {
  'is-a': (index, filter) => {
    const root = requirePosition(index, filter);
    const below = index.descendants(root);
    return (position) => position === root || below.has(position);
  },
  'descendent-of': (index, filter) => {
    const below = index.descendants(requirePosition(index, filter));
    return (position) => below.has(position);
  },
  'is-not-a': (index, filter) => {
    const isA = HIERARCHY_FILTERS['is-a'](index, filter);
    return (position) => !isA(position);
  },
  generalizes: (index, filter) => {
    const root = requirePosition(index, filter);
    const above = index.ancestors(root);
    return (position) => position === root || above.has(position);
  },
};

const VALUE_FILTERS: Record<string, (filter: ValueSetComposeIncludeFilter) => (values: string[]) => boolean> = {
  '=': (filter) => (values) => values.includes(filter.value),
  in: (filter) => {
    const wanted = new Set(filter.value.split(',').map((v) => v.trim()));
    return (values) => values.some((v) => wanted.has(v));
  },
  'not-in': (filter) => {
    const excluded = VALUE_FILTERS.in(filter);
    return (values) => !excluded(values);
  },
  regex: (filter) => {
    const pattern = compileRegex(filter.value);
    return (values) => values.some((v) => pattern.test(v));
  },
  exists: (filter) => {
    const wanted = filter.value === 'true';
    return (values) => values.length > 0 === wanted;
  },
};

export function conceptFilter(index: CodeSystemIndex, filter: ValueSetComposeIncludeFilter): ConceptTest {
  const { property, op } = filter;
  if (typeof property !== 'string' || typeof op !== 'string' || typeof filter.value !== 'string') {
    throw badRequest('A value set filter needs property, op and value', 'ValueSet.compose.include.filter');
  }
  const hierarchy = HIERARCHY_FILTERS[op];
  if (hierarchy) {
    if (!HIERARCHY_PROPERTIES.has(property)) {
      throw badRequest(`The filter operator "${op}" applies to the property "concept", not "${property}"`, 'filter');
    }
    return hierarchy(index, filter);
  }
  const valueFilter = VALUE_FILTERS[op];
  if (!valueFilter) {
    const supported = [...Object.keys(HIERARCHY_FILTERS), ...Object.keys(VALUE_FILTERS)].join(', ');
    throw badRequest(`The value set filter operator "${op}" is not supported (supported: ${supported})`, 'filter');
  }
  const accepts = valueFilter(filter);
  return (position) => accepts(propertyValues(index, position, property));
}

/** The values a concept has for a property, as strings: its own properties and the computed ones. */
function propertyValues(index: CodeSystemIndex, position: number, property: string): string[] {
  const computed = COMPUTED_PROPERTIES[property];
  if (computed) return computed(index, position);
  return (index.concepts[position].property ?? [])
    .filter((p) => p.code === property)
    .map((p) => {
      const value = Object.entries(p).find(([name]) => name.startsWith('value'))?.[1];
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    });
}

const COMPUTED_PROPERTIES: Record<string, (index: CodeSystemIndex, position: number) => string[]> = {
  concept: (index, position) => [index.concepts[position].code],
  code: (index, position) => [index.concepts[position].code],
  display: (index, position) => {
    const display = index.concepts[position].display;
    return display === undefined ? [] : [display];
  },
  parent: (index, position) => index.concepts[position].parents.map((p) => index.concepts[p].code),
  child: (index, position) => index.concepts[position].children.map((p) => index.concepts[p].code),
  inactive: (index, position) => [String(index.concepts[position].inactive)],
};

function requirePosition(index: CodeSystemIndex, filter: ValueSetComposeIncludeFilter): number {
  const position = index.position(filter.value);
  if (position === undefined) {
    throw badRequest(
      `The filter ${filter.op} ${filter.value}: ${filter.value} is not a code of ${index.url}`,
      'filter',
    );
  }
  return position;
}

function compileRegex(source: string): RegExp {
  if (source.length > MAX_REGEX_LENGTH) {
    throw badRequest(`A value set regex filter may be at most ${MAX_REGEX_LENGTH} characters`, 'filter');
  }
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    throw badRequest(`The value set regex filter "${source}" is not a valid regular expression`, 'filter');
  }
}

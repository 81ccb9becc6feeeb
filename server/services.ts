// Builds what every entry point (server, CLI, tests) needs: FHIR definitions, the validator warmed up,
// the store chosen by configuration, and the search-parameter registry.
import { loadFhirDefinitions } from '../resources/definitions';
import type { RepositoryServices } from '../resources/repository';
import { SearchParameterRegistry } from '../resources/search/registry';
import { openStore, type StoreSettings } from '../resources/store';
import { warmUpValidation } from '../resources/validation';

export async function openServices(settings: StoreSettings): Promise<RepositoryServices> {
  loadFhirDefinitions();
  warmUpValidation();
  const registry = SearchParameterRegistry.withBaseParameters();
  const store = await openStore(settings);
  return { store, registry };
}

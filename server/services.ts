// Builds what every entry point (server, CLI, tests) needs: FHIR definitions, the validator, the store
// chosen by configuration, the search-parameter registry, and the write preparer (worker threads or inline).
import { loadFhirDefinitions } from '../resources/definitions';
import { InlinePreparer, type WritePreparer } from '../resources/prepare/preparer';
import { WorkerPreparer, workerScript } from '../resources/prepare/worker-pool';
import type { RepositoryServices } from '../resources/repository';
import { SearchParameterRegistry } from '../resources/search/registry';
import { openStore, type StoreSettings } from '../resources/store';
import { warmUpValidation } from '../resources/validation';

export interface ServiceSettings extends StoreSettings {
  /** Worker threads for validation and indexing; 0 runs them on the event loop. */
  validationWorkers?: number;
}

export async function openServices(settings: ServiceSettings): Promise<RepositoryServices> {
  loadFhirDefinitions();
  const registry = SearchParameterRegistry.withBaseParameters();
  const [preparer, store] = await Promise.all([
    startPreparer(registry, settings.validationWorkers ?? 0),
    openStore(settings),
  ]);
  return { store, registry, preparer };
}

export async function closeServices(services: RepositoryServices): Promise<void> {
  await services.store.close();
  await services.preparer.close();
}

async function startPreparer(registry: SearchParameterRegistry, workers: number): Promise<WritePreparer> {
  const script = workerScript();
  const pool = workers > 0 && script ? WorkerPreparer.start(workers, script) : undefined;
  // Transaction Bundles and patches validate on this thread too (inside the store transaction).
  warmUpValidation();
  return pool ? await pool : new InlinePreparer(registry);
}

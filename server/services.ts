// Builds what every entry point (server, CLI, tests) needs: FHIR definitions, the validator, the store
// chosen by configuration, the search-parameter registry (with the SearchParameters stored at run time), the
// write preparer (worker threads or inline), and the background $reindex jobs.
import { loadFhirDefinitions } from '../resources/definitions';
import type { SearchParameter } from '@medplum/fhirtypes';
import { InlinePreparer, applySearchParameterChange, type WritePreparer } from '../resources/prepare/preparer';
import { WorkerPreparer, workerScript } from '../resources/prepare/worker-pool';
import type { RepositoryServices } from '../resources/repository';
import { SearchParameterRegistry } from '../resources/search/registry';
import { ReindexJobs } from '../resources/search/reindex';
import { openStore, type StoreSettings } from '../resources/store';
import type { ResourceStore } from '../resources/store/port';
import { warmUpValidation } from '../resources/validation';

export interface ServiceSettings extends StoreSettings {
  /** Worker threads for validation and indexing; 0 runs them on the event loop. */
  validationWorkers?: number;
  /** Public base URL of the FHIR API (reference searches treat absolute URLs on it as local). */
  baseUrl?: string;
  /** An already open store to use instead of the configured one (tests run the app on the MongoDB adapter). */
  store?: ResourceStore;
}

export async function openServices(settings: ServiceSettings): Promise<RepositoryServices> {
  loadFhirDefinitions();
  const registry = SearchParameterRegistry.withBaseParameters();
  const [preparer, store] = await Promise.all([
    startPreparer(registry, settings.validationWorkers ?? 0),
    settings.store ?? openStore(settings),
  ]);
  const stored = { remove: [], add: await storedSearchParameters(store) };
  applySearchParameterChange(registry, stored);
  await preparer.changeSearchParameters(stored);
  const services: RepositoryServices = { store, registry, preparer, baseUrl: settings.baseUrl };
  services.reindex = new ReindexJobs(services);
  await services.reindex.failAbandoned();
  return services;
}

export async function closeServices(services: RepositoryServices): Promise<void> {
  await services.reindex?.stop();
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

/** The SearchParameters created at run time, so they outlive a restart. */
export async function storedSearchParameters(store: ResourceStore): Promise<SearchParameter[]> {
  const parameters: SearchParameter[] = [];
  let after: string | undefined;
  do {
    const page = await store.scan('SearchParameter', { after, count: 500 });
    for (const stored of page.entries) parameters.push(JSON.parse(stored.json as string) as SearchParameter);
    after = page.next;
  } while (after);
  return parameters;
}

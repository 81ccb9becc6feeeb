// Builds what every entry point (server, CLI, tests) needs: FHIR definitions, the validator, the store
// chosen by configuration, the search-parameter registry (with the SearchParameters stored at run time), the
// write preparer (worker threads or inline), and the job runner with its job kinds ($reindex, $export).
import { loadFhirDefinitions } from '../resources/definitions';
import type { SearchParameter } from '@medplum/fhirtypes';
import { InlinePreparer, applySearchParameterChange, type WritePreparer } from '../resources/prepare/preparer';
import { WorkerPreparer, workerScript } from '../resources/prepare/worker-pool';
import { CommitFeed } from '../resources/commit-feed';
import type { RepositoryServices } from '../resources/repository';
import { SearchParameterRegistry } from '../resources/search/registry';
import { ReindexJobs } from '../resources/search/reindex';
import { JobRunner, type JobRunnerSettings } from '../resources/jobs/runner';
import type { ExportSettings } from '../resources/export/exporter';
import { registerExportJobs } from '../resources/export/register';
import { openStore, type StoreSettings } from '../resources/store';
import type { ResourceStore } from '../resources/store/port';
import { warmUpValidation } from '../resources/validation';
import { endpointPolicy } from '../resources/subscriptions/endpoints';
import { startSubscriptionDelivery } from '../resources/subscriptions/delivery-job';
import { DEFAULT_ENGINE_SETTINGS, SubscriptionEngine } from '../resources/subscriptions/engine';
import { releaseSlotsOnCancel } from '../resources/scheduling/release-on-cancel';
import type { SubscriptionConfig } from './subscription-config';

export interface ServiceSettings extends StoreSettings {
  /** Worker threads for validation and indexing; 0 runs them on the event loop. */
  validationWorkers?: number;
  /** Public base URL of the FHIR API (reference searches treat absolute URLs on it as local). */
  baseUrl?: string;
  /** An already open store to use instead of the configured one (tests run the app on the MongoDB adapter). */
  store?: ResourceStore;
  /** Job runner timings and limits (tests shorten them). */
  jobs?: Partial<JobRunnerSettings>;
  /** Export file sizes and retention (tests shrink them). */
  export?: Partial<ExportSettings>;
  /** Where rest-hook notifications may go; loopback only when absent. */
  subscriptions?: SubscriptionConfig;
  /** Delivery retries and the failures that put a subscription in error (tests shorten them). */
  subscriptionDelivery?: Partial<typeof DEFAULT_ENGINE_SETTINGS>;
  /** HMS_SECRET, shared by the app nodes: websocket binding tokens from one node are good on the others. */
  hmsSecret?: string;
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
  const services: RepositoryServices = {
    store,
    registry,
    preparer,
    baseUrl: settings.baseUrl,
    commits: new CommitFeed(),
    writeEffects: [releaseSlotsOnCancel],
  };
  const jobs = new JobRunner(services, settings.jobs);
  services.jobs = jobs;
  const reindex = new ReindexJobs(services, jobs);
  services.reindex = reindex;
  jobs.register(reindex);
  registerExportJobs(services, jobs, settings.export);
  // Re-queues (or fails) jobs whose node died, then runs what is due.
  await jobs.start();
  await startSubscriptions(services, settings);
  return services;
}

/** The subscription engine, told of every commit once it has loaded the stored Subscriptions. */
async function startSubscriptions(services: RepositoryServices, settings: ServiceSettings): Promise<void> {
  const { endpointHosts, loopbackAllowed } = settings.subscriptions ?? { endpointHosts: [], loopbackAllowed: true };
  services.subscriptionEndpoints = endpointPolicy(endpointHosts, loopbackAllowed);
  const engine = new SubscriptionEngine(services, {
    ...DEFAULT_ENGINE_SETTINGS,
    ...settings.subscriptionDelivery,
    baseUrl: settings.baseUrl ?? 'http://localhost:8080/fhir',
    allowEndpoint: services.subscriptionEndpoints,
    ...(settings.hmsSecret ? { bindingSecret: settings.hmsSecret } : {}),
  });
  await engine.start(services.commits);
  services.subscriptions = engine;
  if (services.jobs) startSubscriptionDelivery(services.jobs, engine);
}

export async function closeServices(services: RepositoryServices): Promise<void> {
  await services.subscriptions?.stop();
  await services.jobs?.stop();
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

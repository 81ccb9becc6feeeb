// Worker-thread side of the write preparer: loads the FHIR definitions, the validator and the registry
// once, then answers prepare / validate requests from the pool.
import { parentPort } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../definitions';
import { SearchParameterRegistry } from '../search/registry';
import { validateResource, warmUpValidation } from '../validation';
import { prepareWrite } from './preparer';

export interface WorkerRequest {
  id: number;
  kind: 'prepare' | 'validate';
  json: string;
  profiles?: string[];
}

export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

loadFhirDefinitions();
warmUpValidation();
const registry = SearchParameterRegistry.withBaseParameters();

parentPort?.on('message', (request: WorkerRequest) => {
  try {
    const resource = JSON.parse(request.json) as Resource;
    const result =
      request.kind === 'prepare'
        ? prepareWrite(registry, resource)
        : validateResource(resource, { profiles: request.profiles ?? [] });
    parentPort?.postMessage({ id: request.id, result } satisfies WorkerReply);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies WorkerReply);
  }
});
parentPort?.postMessage({ ready: true });

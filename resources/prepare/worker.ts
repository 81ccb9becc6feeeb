// Worker-thread side of the write preparer: loads the FHIR definitions, the validator and the registry
// once, then answers prepare / validate requests from the pool, and follows the SearchParameters created,
// changed or deleted at run time.
import { parentPort } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../definitions';
import { SearchParameterRegistry } from '../search/registry';
import { validateResource, warmUpValidation } from '../validation';
import { applySearchParameterChange, prepareWrite, type SearchParameterChange } from './preparer';

export type WorkerMessage =
  | { kind: 'prepare' | 'validate'; json: string; profiles?: string[] }
  | { kind: 'prepare-many'; json: string }
  | { kind: 'search-parameters'; change: SearchParameterChange };

export type WorkerRequest = WorkerMessage & { id: number };

export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

loadFhirDefinitions();
warmUpValidation();
const registry = SearchParameterRegistry.withBaseParameters();

function answer(request: WorkerRequest): unknown {
  if (request.kind === 'search-parameters') {
    applySearchParameterChange(registry, request.change);
    return null;
  }
  if (request.kind === 'prepare-many') {
    return (JSON.parse(request.json) as Resource[]).map((resource) => prepareWrite(registry, resource));
  }
  const resource = JSON.parse(request.json) as Resource;
  return request.kind === 'prepare'
    ? prepareWrite(registry, resource)
    : validateResource(resource, { profiles: request.profiles ?? [] });
}

parentPort?.on('message', (request: WorkerRequest) => {
  try {
    const result = answer(request);
    parentPort?.postMessage({ id: request.id, result } satisfies WorkerReply);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies WorkerReply);
  }
});
parentPort?.postMessage({ ready: true });

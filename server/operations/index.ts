// Every operation the server offers; routes and the CapabilityStatement are generated from this list.
import type { FhirOperation } from './operation';
import { reindexOperation } from './reindex';
import { validateOperation } from './validate';

export const OPERATIONS: readonly FhirOperation[] = [validateOperation, reindexOperation];

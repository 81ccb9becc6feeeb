// Every operation the server offers; routes and the CapabilityStatement are generated from this list.
import type { FhirOperation } from './operation';
import { encounterEverythingOperation, patientEverythingOperation } from './everything';
import { expandOperation } from './expand';
import { exportOperation, groupExportOperation, patientExportOperation } from './export';
import { lookupOperation } from './lookup';
import { matchOperation } from './match';
import { mergeOperation } from './merge';
import { reindexOperation } from './reindex';
import { bookOperation, findOperation, generateSlotsOperation, holdOperation } from './scheduling';
import { subscriptionEventsOperation } from './subscription-events';
import { subscriptionStatusOperation } from './subscription-status';
import { subsumesOperation } from './subsumes';
import { unmergeOperation } from './unmerge';
import { validateOperation } from './validate';
import { validateCodeOperation } from './validate-code';
import { wsBindingTokenOperation } from './ws-binding-token';

export const OPERATIONS: readonly FhirOperation[] = [
  validateOperation,
  reindexOperation,
  exportOperation,
  patientExportOperation,
  groupExportOperation,
  patientEverythingOperation,
  encounterEverythingOperation,
  matchOperation,
  mergeOperation,
  unmergeOperation,
  expandOperation,
  lookupOperation,
  validateCodeOperation,
  subsumesOperation,
  subscriptionStatusOperation,
  subscriptionEventsOperation,
  wsBindingTokenOperation,
  findOperation,
  holdOperation,
  bookOperation,
  generateSlotsOperation,
];

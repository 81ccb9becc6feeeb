// The batch/transaction interaction bound to the FHIR API's routing table, for writers outside the HTTP edge
// (the HL7 bridge applies its mapped transaction Bundles with it).
import { bundleInteraction } from './bundle-interaction';
import { dispatch } from './router';

export const batchInteraction = bundleInteraction(dispatch);

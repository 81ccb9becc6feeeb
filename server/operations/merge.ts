// Patient/$merge (type level, per the R5 draft): merges a source patient into a target in one store
// transaction — source inactive and `replaced-by`, target `replaces`, every reference repointed — and records
// a Provenance that Patient/$unmerge can undo. `preview=true` writes nothing and says what would change.
import type { OperationOutcome, Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
import { informational, notFound } from '../../resources/errors';
import { applyMerge } from '../../resources/merge/apply';
import { parseMergeInput } from '../../resources/merge/input';
import { planMerge, type MergePlan } from '../../resources/merge/plan';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';

async function mergeHandler(request: FhirRequest): Promise<FhirResponse> {
  if (request.params.type !== 'Patient') throw notFound(`$merge is defined on Patient, not ${request.params.type}`);
  const input = parseMergeInput(request.body);
  if (input.preview) {
    const plan = await planMerge(request.repo, input, request.baseUrl);
    const text = `Preview only, nothing was changed: the merge would update ${describe(plan)}`;
    return output(input.parameters, informational(text), plan.result);
  }
  const done = await request.repo.withTransaction(async (tx) => {
    const plan = await planMerge(tx, input, request.baseUrl);
    return { plan, outcome: await applyMerge(tx, plan) };
  });
  const provenance = `Provenance/${done.outcome.provenance.id}`;
  const text = `Merged Patient/${done.plan.source.stored.id} into Patient/${done.plan.target.stored.id}: updated ${describe(done.plan)}; recorded in ${provenance}`;
  return output(input.parameters, informational(text), done.outcome.result, [
    { name: 'provenance', valueReference: { reference: provenance } },
  ]);
}

/** "5 resources: Patient 2, Observation 3". */
function describe(plan: MergePlan): string {
  const byType = new Map<string, number>();
  for (const { before } of plan.changes) byType.set(before.resourceType, (byType.get(before.resourceType) ?? 0) + 1);
  const counts = [...byType].map(([type, n]) => `${type} ${n}`).join(', ');
  return `${plan.changes.length} resources (${counts})`;
}

function output(
  input: Parameters,
  outcome: OperationOutcome,
  result: Patient,
  extra: ParametersParameter[] = [],
): FhirResponse {
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'input', resource: input },
      { name: 'outcome', resource: outcome },
      { name: 'result', resource: result },
      ...extra,
    ],
  };
  return { status: 200, body: { resource: parameters } };
}

export const mergeOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Patient-merge',
    url: 'http://hl7.org/fhir/OperationDefinition/Patient-merge',
    name: 'Merge',
    status: 'active',
    kind: 'operation',
    code: 'merge',
    resource: ['Patient'],
    system: false,
    type: true,
    instance: false,
    affectsState: true,
    parameter: [
      { name: 'source-patient', use: 'in', min: 0, max: '1', type: 'Reference' },
      { name: 'source-patient-identifier', use: 'in', min: 0, max: '*', type: 'Identifier' },
      { name: 'target-patient', use: 'in', min: 0, max: '1', type: 'Reference' },
      { name: 'target-patient-identifier', use: 'in', min: 0, max: '*', type: 'Identifier' },
      { name: 'result-patient', use: 'in', min: 0, max: '1', type: 'Patient' },
      { name: 'preview', use: 'in', min: 0, max: '1', type: 'boolean' },
      { name: 'input', use: 'out', min: 1, max: '1', type: 'Parameters' },
      { name: 'outcome', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
      { name: 'result', use: 'out', min: 0, max: '1', type: 'Patient' },
      { name: 'provenance', use: 'out', min: 0, max: '1', type: 'Reference' },
    ],
  },
  handler: mergeHandler,
};

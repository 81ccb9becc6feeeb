// CodeSystem/$subsumes (type level with system, instance level): equivalent, subsumes, subsumed-by or
// not-subsumed for code A and code B (codeA/codeB or codingA/codingB) in the code system's hierarchy.
import type { Coding } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { CodeSystemIndex } from '../../resources/terminology/code-system-index';
import { TerminologySources } from '../../resources/terminology/sources';
import { subsumption } from '../../resources/terminology/subsumes';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';
import { requireType, terminologyDefinition } from './terminology-definition';
import { TerminologyInput } from './terminology-input';

async function subsumesHandler(request: FhirRequest): Promise<FhirResponse> {
  requireType(request, ['CodeSystem'], 'subsumes');
  const input = new TerminologyInput(request);
  const a = codeOf(input, 'A');
  const b = codeOf(input, 'B');
  const index = await codeSystemOf(request, input, [a.system, b.system]);
  for (const coding of [a, b]) {
    if (coding.system !== undefined && coding.system !== index.url) {
      throw badRequest(
        `Subsumption across code systems is not supported: ${coding.system} is not ${index.url}`,
        'system',
      );
    }
  }
  const outcome = subsumption(index, a.code as string, b.code as string);
  return {
    status: 200,
    body: { resource: { resourceType: 'Parameters', parameter: [{ name: 'outcome', valueCode: outcome }] } },
  };
}

function codeOf(input: TerminologyInput, side: 'A' | 'B'): Coding {
  const code = input.string(`code${side}`);
  const coding = input.coding(`coding${side}`);
  if ((code === undefined) === (coding === undefined)) {
    throw badRequest(`Give either code${side} or coding${side}, and not both`, `code${side}`);
  }
  return coding ?? { code };
}

async function codeSystemOf(
  request: FhirRequest,
  input: TerminologyInput,
  codingSystems: (string | undefined)[],
): Promise<CodeSystemIndex> {
  const sources = new TerminologySources(request.repo);
  if (request.params.id !== undefined) return sources.storedCodeSystem(request.params.id);
  const system = input.string('system') ?? codingSystems.find((s) => s !== undefined);
  if (!system) throw badRequest('$subsumes needs the system (or codings that carry it)', 'system');
  return sources.codeSystem(system, input.string('version'));
}

export const subsumesOperation: FhirOperation = {
  definition: terminologyDefinition('CodeSystem-subsumes', 'subsumes', ['CodeSystem'], true, [
    ['codeA', 'in', '1', 'code'],
    ['codeB', 'in', '1', 'code'],
    ['system', 'in', '1', 'uri'],
    ['version', 'in', '1', 'string'],
    ['codingA', 'in', '1', 'Coding'],
    ['codingB', 'in', '1', 'Coding'],
    ['outcome', 'out', '1', 'code'],
  ]),
  handler: subsumesHandler,
};

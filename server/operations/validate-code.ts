// ValueSet/$validate-code and CodeSystem/$validate-code (type and instance level): is the code (code +
// system, coding or codeableConcept) in the value set / code system? `result` is false only when it is not
// (or is abstract and `abstract=false`); display mismatches and inactive codes come back as a `message`.
import type { CodeSystem, Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import { CodeSystemIndex } from '../../resources/terminology/code-system-index';
import { TerminologySources } from '../../resources/terminology/sources';
import {
  validateInCodeSystem,
  validateInValueSet,
  type CodingToValidate,
  type ValidationResult,
} from '../../resources/terminology/validate-code';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';
import { requireType, terminologyDefinition } from './terminology-definition';
import { codingsToValidate, TerminologyInput } from './terminology-input';
import { valueSetToUse } from './terminology-value-set';

async function validateCodeHandler(request: FhirRequest): Promise<FhirResponse> {
  const type = requireType(request, ['ValueSet', 'CodeSystem'], 'validate-code');
  const input = new TerminologyInput(request);
  input.refuse(['context']);
  const sources = new TerminologySources(request.repo);
  const options = { abstractAllowed: input.boolean('abstract') ?? true };
  let result: ValidationResult;
  if (type === 'ValueSet') {
    const resolved = await valueSetToUse(request, input, sources);
    result = await validateInValueSet(sources, resolved, codingsToValidate(input, 'systemVersion'), options);
  } else {
    const codings = codingsToValidate(input, 'version');
    result = validateInCodeSystem(await codeSystemOf(request, input, sources, codings), codings, options);
  }
  return { status: 200, body: { resource: parametersOf(result) } };
}

/** The instance, a `codeSystem` sent in the body, `url` (+ version), or else the system of the coding(s). */
async function codeSystemOf(
  request: FhirRequest,
  input: TerminologyInput,
  sources: TerminologySources,
  codings: CodingToValidate[],
): Promise<CodeSystemIndex> {
  if (request.params.id !== undefined) return sources.storedCodeSystem(request.params.id);
  const sent = input.resource<CodeSystem>('codeSystem', 'CodeSystem');
  if (sent) return new CodeSystemIndex(sent, 'sent');
  const url = input.string('url') ?? codings.find((c) => c.system !== undefined)?.system;
  if (!url) throw badRequest('Name the code system: the url parameter, or the system of the code', 'url');
  return sources.codeSystem(url, input.string('version'));
}

function parametersOf(result: ValidationResult): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: result.result },
      ...(result.message !== undefined ? [{ name: 'message', valueString: result.message }] : []),
      ...(result.display !== undefined ? [{ name: 'display', valueString: result.display }] : []),
    ],
  };
}

export const validateCodeOperation: FhirOperation = {
  definition: terminologyDefinition('ValueSet-validate-code', 'validate-code', ['ValueSet', 'CodeSystem'], true, [
    ['url', 'in', '1', 'uri'],
    ['valueSet', 'in', '1', 'ValueSet'],
    ['valueSetVersion', 'in', '1', 'string'],
    ['codeSystem', 'in', '1', 'CodeSystem'],
    ['code', 'in', '1', 'code'],
    ['system', 'in', '1', 'uri'],
    ['systemVersion', 'in', '1', 'string'],
    ['version', 'in', '1', 'string'],
    ['display', 'in', '1', 'string'],
    ['coding', 'in', '1', 'Coding'],
    ['codeableConcept', 'in', '1', 'CodeableConcept'],
    ['abstract', 'in', '1', 'boolean'],
    ['result', 'out', '1', 'boolean'],
    ['message', 'out', '1', 'string'],
    ['display', 'out', '1', 'string'],
  ]),
  handler: validateCodeHandler,
};

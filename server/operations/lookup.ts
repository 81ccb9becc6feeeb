// CodeSystem/$lookup (type level): a concept's display, designations and properties, by system + code
// (+ version) or by coding; `property` limits the properties returned. Unknown system: 400; unknown code: 404.
import { badRequest } from '../../resources/errors';
import { lookupConcept } from '../../resources/terminology/lookup';
import { TerminologySources } from '../../resources/terminology/sources';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import { stringParameters, type FhirOperation } from './operation';
import { requireType, terminologyDefinition } from './terminology-definition';
import { TerminologyInput } from './terminology-input';

async function lookupHandler(request: FhirRequest): Promise<FhirResponse> {
  requireType(request, ['CodeSystem'], 'lookup');
  const input = new TerminologyInput(request);
  const coding = input.coding('coding');
  const code = input.string('code');
  if ((coding === undefined) === (code === undefined)) {
    throw badRequest('Give either code (with system) or coding, and not both', 'code');
  }
  const system = coding ? coding.system : input.string('system');
  if (!system) throw badRequest('$lookup needs the system of the code', 'system');
  const version = coding?.version ?? input.string('version');
  const index = await new TerminologySources(request.repo).codeSystem(system, version);
  const result = lookupConcept(index, (coding?.code ?? code) as string, stringParameters(request, 'property'));
  return { status: 200, body: { resource: result } };
}

export const lookupOperation: FhirOperation = {
  definition: terminologyDefinition('CodeSystem-lookup', 'lookup', ['CodeSystem'], false, [
    ['code', 'in', '1', 'code'],
    ['system', 'in', '1', 'uri'],
    ['version', 'in', '1', 'string'],
    ['coding', 'in', '1', 'Coding'],
    ['property', 'in', '*', 'code'],
    ['name', 'out', '1', 'string'],
    ['version', 'out', '1', 'string'],
    ['display', 'out', '1', 'string'],
    ['designation', 'out', '*'],
    ['property', 'out', '*'],
  ]),
  handler: lookupHandler,
};

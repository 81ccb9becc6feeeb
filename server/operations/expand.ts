// ValueSet/$expand (type level with url or valueSet, instance level): the value set's codes after the text
// filter, activeOnly and excludeNotForUI, paged by offset and count (default 100, at most 1,000), with the
// total and the parameters that shaped it. Expansions are flat; displayLanguage is accepted and ignored.
import type { ValueSetExpansionParameter } from '@medplum/fhirtypes';
import { expandValueSet } from '../../resources/terminology/expand';
import { TerminologySources } from '../../resources/terminology/sources';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';
import { requireType, terminologyDefinition } from './terminology-definition';
import { TerminologyInput } from './terminology-input';
import { valueSetToUse } from './terminology-value-set';

/** Parameters a client may rely on for safety or meaning that this server does not implement. */
const REFUSED = ['context', 'contextDirection', 'check-system-version', 'force-system-version', 'exclude-system'];

async function expandHandler(request: FhirRequest): Promise<FhirResponse> {
  requireType(request, ['ValueSet'], 'expand');
  const input = new TerminologyInput(request);
  input.refuse(REFUSED);
  const sources = new TerminologySources(request.repo);
  const resolved = await valueSetToUse(request, input, sources);
  const shaping = {
    filter: input.string('filter'),
    offset: input.integer('offset'),
    count: input.integer('count'),
    activeOnly: input.boolean('activeOnly'),
    includeDesignations: input.boolean('includeDesignations'),
    excludeNotForUI: input.boolean('excludeNotForUI'),
  };
  const expanded = await expandValueSet(sources, resolved, { ...shaping, parameters: echoed(shaping) });
  return { status: 200, body: { resource: expanded } };
}

/** The shaping parameters the client gave, as expansion.parameter entries. */
function echoed(shaping: Record<string, string | number | boolean | undefined>): ValueSetExpansionParameter[] {
  const parameters: ValueSetExpansionParameter[] = [];
  for (const [name, value] of Object.entries(shaping)) {
    if (typeof value === 'string') parameters.push({ name, valueString: value });
    if (typeof value === 'number') parameters.push({ name, valueInteger: value });
    if (typeof value === 'boolean') parameters.push({ name, valueBoolean: value });
  }
  return parameters;
}

export const expandOperation: FhirOperation = {
  definition: terminologyDefinition('ValueSet-expand', 'expand', ['ValueSet'], true, [
    ['url', 'in', '1', 'uri'],
    ['valueSet', 'in', '1', 'ValueSet'],
    ['valueSetVersion', 'in', '1', 'string'],
    ['filter', 'in', '1', 'string'],
    ['offset', 'in', '1', 'integer'],
    ['count', 'in', '1', 'integer'],
    ['includeDesignations', 'in', '1', 'boolean'],
    ['activeOnly', 'in', '1', 'boolean'],
    ['excludeNotForUI', 'in', '1', 'boolean'],
    ['displayLanguage', 'in', '1', 'code'],
    ['return', 'out', '1', 'ValueSet'],
  ]),
  handler: expandHandler,
};

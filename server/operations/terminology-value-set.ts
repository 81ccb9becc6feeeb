// Which value set a ValueSet operation works on: the instance in the path, a `valueSet` sent in the body, or
// a canonical `url` (+ `valueSetVersion`), stored or built in, or implicit (`[system]?fhir_vs`). Exactly one.
import type { ValueSet } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import { implicitValueSet } from '../../resources/terminology/implicit';
import type { TerminologySources } from '../../resources/terminology/sources';
import type { FhirRequest } from '../fhir/context';
import type { TerminologyInput } from './terminology-input';

export async function valueSetToUse(
  request: FhirRequest,
  input: TerminologyInput,
  sources: TerminologySources,
): Promise<{ key?: string; valueSet: ValueSet }> {
  const url = input.string('url');
  const sent = input.resource<ValueSet>('valueSet', 'ValueSet');
  const { id } = request.params;
  const given = [id, url, sent].filter((v) => v !== undefined).length;
  if (given === 0) throw badRequest('Name the value set: the url parameter, or a valueSet in a POST body', 'url');
  if (given > 1) throw badRequest('Name the value set once: an instance id, url or valueSet, not several', 'url');
  if (id !== undefined) return sources.storedValueSet(id);
  if (sent) return { valueSet: sent };
  const implicit = implicitValueSet(url as string);
  if (implicit) return { key: `implicit|${url}`, valueSet: implicit };
  return sources.valueSet(url as string, input.string('valueSetVersion'));
}

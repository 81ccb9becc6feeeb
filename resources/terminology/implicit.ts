// Implicit value sets named by a code system url (R4 "Using SNOMED CT / LOINC with FHIR"): `[system]?fhir_vs`
// is every code of the system, `[system]?fhir_vs=isa/[code]` the code and its descendants.
import type { ValueSet } from '@medplum/fhirtypes';
import { badRequest } from '../errors';

const MARKER = '?fhir_vs';

export function implicitValueSet(url: string): ValueSet | undefined {
  const at = url.indexOf(MARKER);
  if (at < 0) return undefined;
  const system = url.slice(0, at);
  const rest = url.slice(at + MARKER.length);
  if (rest === '') return implicit(url, { system });
  if (rest.startsWith('=isa/') && rest.length > '=isa/'.length) {
    return implicit(url, { system, filter: [{ property: 'concept', op: 'is-a', value: rest.slice('=isa/'.length) }] });
  }
  throw badRequest(
    `The implicit value set form ${url} is not supported (supported: ?fhir_vs, ?fhir_vs=isa/[code])`,
    'url',
  );
}

function implicit(url: string, include: NonNullable<ValueSet['compose']>['include'][number]): ValueSet {
  return { resourceType: 'ValueSet', url, status: 'active', compose: { include: [include] } };
}

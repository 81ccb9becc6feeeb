// $lookup: a concept's details from its code system: name and version of the system, display, designations
// and properties (parent, child, inactive, definition and the concept's own), limited to the `property` codes
// the client asked for when it named any.
import type { CodeSystemConceptProperty, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { notFound } from '../errors';
import type { CodeSystemIndex } from './code-system-index';
import type { Concept } from './concept';

export function lookupConcept(index: CodeSystemIndex, code: string, requested: string[]): Parameters {
  const concept = index.find(code);
  if (!concept) throw notFound(`The code ${code} is not in the code system ${index.url}`, 'code');
  const wanted = (property: string) => requested.length === 0 || requested.includes(property);
  const properties = conceptProperties(index, concept).filter((p) => wanted(p.code));
  const parameter: ParametersParameter[] = [
    { name: 'name', valueString: index.name },
    ...(index.version ? [{ name: 'version', valueString: index.version }] : []),
    { name: 'display', valueString: concept.display ?? concept.code },
    ...(concept.designation ?? []).map((d) => ({
      name: 'designation',
      part: [
        ...(d.language ? [{ name: 'language', valueCode: d.language }] : []),
        ...(d.use ? [{ name: 'use', valueCoding: d.use }] : []),
        { name: 'value', valueString: d.value },
      ],
    })),
    ...properties.map((property) => ({
      name: 'property',
      part: [
        { name: 'code', valueCode: property.code },
        { name: 'value', ...valueOf(property) },
      ],
    })),
  ];
  return { resourceType: 'Parameters', parameter };
}

/** The computed properties first (hierarchy, status, definition), then the concept's own. */
function conceptProperties(index: CodeSystemIndex, concept: Concept): CodeSystemConceptProperty[] {
  const codeOf = (position: number) => index.concepts[position].code;
  return [
    ...(concept.definition ? [{ code: 'definition', valueString: concept.definition }] : []),
    ...concept.parents.map((p) => ({ code: 'parent', valueCode: codeOf(p) })),
    ...concept.children.map((p) => ({ code: 'child', valueCode: codeOf(p) })),
    { code: 'inactive', valueBoolean: concept.inactive },
    ...(concept.property ?? []).filter((p) => !COMPUTED.has(p.code)),
  ];
}

const COMPUTED = new Set(['parent', 'child', 'inactive', 'definition']);

function valueOf(property: CodeSystemConceptProperty): Partial<ParametersParameter> {
  return Object.fromEntries(Object.entries(property).filter(([name]) => name.startsWith('value')));
}

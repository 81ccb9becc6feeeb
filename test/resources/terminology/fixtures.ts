// A hospital's own terminology for the terminology tests: a small lab code system with a hierarchy (nested and
// by `parent` property), an inactive and a retired code, an abstract grouper, a designation and accents; a
// case-insensitive code system; a 1,500-concept one for paging; and value sets over them.
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import type { TestApp } from '../../support/app';

export const LAB = 'http://hospital.example/CodeSystem/lab-local';
export const CASELESS = 'http://hospital.example/CodeSystem/caseless';
export const BULK = 'http://hospital.example/CodeSystem/bulk';
export const VS = (name: string) => `http://hospital.example/ValueSet/${name}`;

export const labCodeSystem: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'lab-local',
  url: LAB,
  version: '2',
  name: 'LabLocal',
  status: 'active',
  content: 'complete',
  caseSensitive: true,
  hierarchyMeaning: 'is-a',
  property: [
    { code: 'inactive', type: 'boolean' },
    { code: 'status', type: 'code' },
    { code: 'notSelectable', type: 'boolean' },
    { code: 'parent', type: 'code' },
    { code: 'scale', type: 'code' },
  ],
  concept: [
    {
      code: 'CHEM',
      display: 'Chemistry',
      property: [{ code: 'notSelectable', valueBoolean: true }],
      concept: [
        { code: 'GLU', display: 'Glucose [Mass/volume] in Serum', property: [{ code: 'scale', valueCode: 'Qn' }] },
        {
          code: 'GLU-F',
          display: 'Glucose fasting',
          property: [
            { code: 'inactive', valueBoolean: true },
            { code: 'scale', valueCode: 'Qn' },
          ],
        },
        {
          code: 'NA',
          display: 'Sodium [Moles/volume] in Serum',
          definition: 'Sodium concentration in serum',
          designation: [{ language: 'fr', value: 'Sodium sérique' }],
          property: [{ code: 'scale', valueCode: 'Qn' }],
        },
      ],
    },
    {
      code: 'HEM',
      display: 'Hématologie panel',
      concept: [
        { code: 'HGB', display: 'Hemoglobin [Mass/volume] in Blood', property: [{ code: 'scale', valueCode: 'Qn' }] },
      ],
    },
    {
      code: 'HBA1C',
      display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
      property: [
        { code: 'parent', valueCode: 'HEM' },
        { code: 'parent', valueCode: 'CHEM' },
        { code: 'scale', valueCode: 'Qn' },
      ],
    },
    { code: 'OLD', display: 'Old glucose test', property: [{ code: 'status', valueCode: 'retired' }] },
    { code: 'UA', display: 'Urinalysis dipstick', property: [{ code: 'scale', valueCode: 'Ord' }] },
  ],
};

export const caselessCodeSystem: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'caseless',
  url: CASELESS,
  status: 'active',
  content: 'complete',
  caseSensitive: false,
  concept: [
    { code: 'ABC', display: 'Alpha beta', concept: [{ code: 'ABC-1', display: 'Alpha beta one' }] },
    { code: 'XYZ', display: 'Ex why zed' },
  ],
};

export const bulkCodeSystem: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'bulk',
  url: BULK,
  status: 'active',
  content: 'complete',
  concept: Array.from({ length: 1500 }, (_, i) => ({ code: `B${i}`, display: `Bulk concept number ${i}` })),
};

const valueSet = (id: string, compose: ValueSet['compose']): ValueSet => ({
  resourceType: 'ValueSet',
  id,
  url: VS(id),
  status: 'active',
  compose,
});

export const valueSets: ValueSet[] = [
  valueSet('lab-all', { include: [{ system: LAB }] }),
  valueSet('chemistry', {
    include: [{ system: LAB, filter: [{ property: 'concept', op: 'is-a', value: 'CHEM' }] }],
    exclude: [{ system: LAB, concept: [{ code: 'GLU-F' }] }],
  }),
  valueSet('below-hem', {
    include: [{ system: LAB, filter: [{ property: 'concept', op: 'descendent-of', value: 'HEM' }] }],
  }),
  valueSet('ordinal', { include: [{ system: LAB, filter: [{ property: 'scale', op: '=', value: 'Ord' }] }] }),
  valueSet('picked', { include: [{ system: LAB, filter: [{ property: 'concept', op: 'in', value: 'NA,UA' }] }] }),
  valueSet('h-codes', { include: [{ system: LAB, filter: [{ property: 'code', op: 'regex', value: 'H[A-Z0-9]+' }] }] }),
  valueSet('mixed', {
    include: [
      { system: LAB, concept: [{ code: 'GLU', display: 'Blood sugar' }, { code: 'HGB' }] },
      { valueSet: ['http://hl7.org/fhir/ValueSet/administrative-gender'] },
    ],
  }),
  valueSet('bulk', { include: [{ system: BULK }] }),
  valueSet('caseless', { include: [{ system: CASELESS }] }),
  valueSet('snomed', {
    include: [{ system: 'http://snomed.info/sct', filter: [{ property: 'concept', op: 'is-a', value: '404684003' }] }],
  }),
];

/** Stores the code systems and value sets above (by PUT, so their ids are known) with the app's system token. */
export async function loadTerminology(t: TestApp): Promise<void> {
  for (const resource of [labCodeSystem, caselessCodeSystem, bulkCodeSystem, ...valueSets]) {
    const response = await t
      .api()
      .put(`/fhir/${resource.resourceType}/${resource.id}`)
      .set('Content-Type', 'application/fhir+json')
      .send(resource);
    if (response.status >= 300) throw new Error(`${resource.id}: ${response.status} ${JSON.stringify(response.body)}`);
  }
}

/** A Parameters body from name/value pairs (value[x] given as an object). */
export function parameters(...entries: [string, Record<string, unknown>][]): Record<string, unknown> {
  return { resourceType: 'Parameters', parameter: entries.map(([name, value]) => ({ name, ...value })) };
}

/** The named output of a Parameters answer. */
export function output(body: { parameter?: Record<string, unknown>[] }, name: string): unknown {
  const found = body.parameter?.find((p) => p.name === name);
  if (!found) return undefined;
  const key = Object.keys(found).find((k) => k.startsWith('value'));
  return key ? found[key] : found;
}

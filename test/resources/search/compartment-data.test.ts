// The compartment table equals the official R4 CompartmentDefinitions (hl7.fhir.r4.examples).
import fs from 'node:fs';
import path from 'node:path';
import { COMPARTMENT_PARAMS } from '../../../resources/search/compartment-data';

const EXAMPLES = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

test.each([
  ['Encounter', 'encounter'],
  ['RelatedPerson', 'relatedPerson'],
  ['Practitioner', 'practitioner'],
  ['Device', 'device'],
])('%s compartment matches CompartmentDefinition-%s', (name, file) => {
  const definition = JSON.parse(fs.readFileSync(path.join(EXAMPLES, `CompartmentDefinition-${file}.json`), 'utf8'));
  const official = Object.fromEntries(
    (definition.resource as { code: string; param?: string[] }[])
      .filter((r) => r.param && r.param.length > 0)
      .map((r) => [r.code, r.param]),
  );
  expect(COMPARTMENT_PARAMS[name]).toEqual(official);
});

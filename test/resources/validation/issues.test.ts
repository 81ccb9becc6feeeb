// Locating and de-duplicating issues.
import {
  dedupeIssues,
  issue,
  locateProperty,
  propertyStep,
  resolveChoiceSteps,
  unindexed,
} from '../../../resources/validation/issues';

const observation = {
  resourceType: 'Observation',
  valueQuantity: { value: 1 },
  component: [{ valueString: 'a' }, { valueBoolean: true }],
};

test('choice steps resolve to the property present in the resource', () => {
  expect(resolveChoiceSteps(observation, 'Observation.value[x]')).toBe('Observation.valueQuantity');
  expect(resolveChoiceSteps(observation, 'Observation.component[1].value[x]')).toBe(
    'Observation.component[1].valueBoolean',
  );
  expect(resolveChoiceSteps(observation, 'Observation.component.value[x]')).toBe('Observation.component.valueString');
  expect(resolveChoiceSteps(observation, 'Observation.effective[x]')).toBe('Observation.effective[x]');
  expect(resolveChoiceSteps(observation, 'Observation.code.text')).toBe('Observation.code.text');
  expect(resolveChoiceSteps(observation, 'Observation.code.value[x]')).toBe('Observation.code.value[x]');
});

test('a property is located at its first occurrence, optionally by value', () => {
  expect(locateProperty(observation, 'Observation', 'valueBoolean')).toBe('Observation.component[1].valueBoolean');
  expect(locateProperty(observation, 'Observation', 'value', 1)).toBe('Observation.valueQuantity.value');
  expect(locateProperty(observation, 'Observation', 'valueString', 'b')).toBeUndefined();
  expect(locateProperty(observation, 'Observation', 'nowhere')).toBeUndefined();
});

test('steps that are not identifiers are quoted; indices can be dropped', () => {
  expect(propertyStep('given')).toBe('.given');
  expect(propertyStep('a b')).toBe('.`a b`');
  expect(propertyStep('0')).toBe('.`0`');
  expect(unindexed('Patient.name[0].given[12]')).toBe('Patient.name.given');
});

test('identical issues are kept once', () => {
  const a = issue('error', 'value', 'bad', 'Patient.id');
  const b = issue('error', 'value', 'bad', 'Patient.gender');
  expect(dedupeIssues([a, b, { ...a }])).toEqual([a, b]);
  expect(issue('warning', 'informational', 'no place')).toEqual({
    severity: 'warning',
    code: 'informational',
    diagnostics: 'no place',
  });
});

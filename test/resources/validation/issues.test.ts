// Locating issues in FHIRPath and de-duplicating them.
import { dedupeIssues, issue, unindexed } from '../../../resources/validation/issues';
import { fhirPathOf, locateProperty, propertyStep, toFhirPath } from '../../../resources/validation/locations';

const observation = {
  resourceType: 'Observation',
  valueQuantity: { value: 1 },
  component: [{ valueString: 'a' }, { valueBoolean: true }],
};

test('choice elements are named without their type, whatever form the expression comes in', () => {
  expect(toFhirPath(observation, 'Observation.value[x]')).toBe('Observation.value');
  expect(toFhirPath(observation, 'Observation.valueQuantity.value')).toBe('Observation.value.value');
  expect(toFhirPath(observation, 'Observation.component[1].value[x]')).toBe('Observation.component[1].value');
  expect(toFhirPath(observation, 'Observation.component[1].valueBoolean')).toBe('Observation.component[1].value');
  expect(toFhirPath(observation, 'Observation.component.value[x]')).toBe('Observation.component.value');
  expect(toFhirPath(observation, 'Observation.effective[x]')).toBe('Observation.effective');
  expect(toFhirPath(observation, 'Observation.code.text')).toBe('Observation.code.text');
  const parameters = { resourceType: 'Parameters', parameter: [{ name: 'a', valueBoolean: true }] };
  expect(fhirPathOf(parameters, ['parameter', 0, 'valueBoolean'])).toBe('Parameters.parameter[0].value');
});

test("a primitive's _name object is located at the primitive", () => {
  const patient = { resourceType: 'Patient', _gender: { id: 'a' }, name: [{ _given: [{ id: 'b' }] }] };
  expect(fhirPathOf(patient, ['_gender'])).toBe('Patient.gender');
  expect(fhirPathOf(patient, ['_gender', 'id'])).toBe('Patient.gender.id');
  expect(fhirPathOf(patient, ['name', 0, '_given', 0, 'extension'])).toBe('Patient.name[0].given[0].extension');
  expect(toFhirPath(patient, 'Patient._birthDate')).toBe('Patient.birthDate');
});

test('nested resources are walked as their own type; unknown properties stay as written', () => {
  const bundle = {
    resourceType: 'Bundle',
    entry: [{ resource: { resourceType: 'Observation', valueString: 'x', contained: [{ resourceType: 'Patient' }] } }],
  };
  expect(fhirPathOf(bundle, ['entry', 0, 'resource', 'valueString'])).toBe('Bundle.entry[0].resource.value');
  expect(fhirPathOf(bundle, ['entry', 0, 'resource', 'contained', 0, '_gender'])).toBe(
    'Bundle.entry[0].resource.contained[0].gender',
  );
  expect(fhirPathOf(bundle, ['entry', 0, 'valueFoo', '_bar'])).toBe('Bundle.entry[0].valueFoo._bar');
  expect(toFhirPath(bundle, 'Bundle')).toBe('Bundle');
  expect(toFhirPath(bundle, 'Bundle.entry[0]..x')).toBe('Bundle.entry[0]..x');
  expect(toFhirPath(bundle, 'Bundle.`odd key`.x')).toBe('Bundle.`odd key`.x');
  expect(toFhirPath({}, 'Patient._gender')).toBe('Patient.gender');
});

test('a property is located at its first occurrence, optionally by value', () => {
  expect(locateProperty(observation, 'valueBoolean')).toBe('Observation.component[1].value');
  expect(locateProperty(observation, 'value', 1)).toBe('Observation.value.value');
  expect(locateProperty(observation, 'valueString', 'b')).toBeUndefined();
  expect(locateProperty(observation, 'nowhere')).toBeUndefined();
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

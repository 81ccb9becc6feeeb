// The JSON-schema stage alone: what it catches that @medplum/core does not, and its cached validators.
import { schemaValidator, validateSchema } from '../../../resources/validation/schema';
import { validateStructure } from '../../../resources/validation/structure';
import type { Resource } from '@medplum/fhirtypes';

const asResource = (r: Record<string, unknown>): Resource => r as unknown as Resource;

test('one cached validator per type, R4 types only', () => {
  expect(schemaValidator('Patient')).toBe(schemaValidator('Patient'));
  expect(() => schemaValidator('Bot')).toThrow("No JSON schema for 'Bot': not an R4 resource type");
});

test.each([
  ['required binding', { resourceType: 'Patient', gender: 'bogus' }, 'Patient.gender'],
  ['empty string', { resourceType: 'Patient', name: [{ family: '' }] }, 'Patient.name[0].family'],
  ['invalid id', { resourceType: 'Patient', id: 'has space' }, 'Patient.id'],
  ['empty object', { resourceType: 'Patient', maritalStatus: {} }, 'Patient.maritalStatus'],
  ['number for an object', { resourceType: 'Patient', maritalStatus: 1 }, 'Patient.maritalStatus'],
])('catches what Medplum misses: %s', (_name, resource, expression) => {
  expect(validateStructure(asResource(resource))).toEqual([]);
  expect(validateSchema(asResource(resource)).map((i) => i.expression?.[0])).toEqual([expression]);
});

test('formats are named after the FHIR type, also for inline choice patterns', () => {
  const issues = validateSchema(
    asResource({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      issued: '2024-01-01',
      effectiveInstant: 'yesterday',
      extension: [{ url: 'http://x.org/a', valueUuid: 'urn:uuid:NOT-A-UUID' }],
    }),
  );
  expect(issues.map((i) => [i.expression?.[0], i.diagnostics?.split(':')[0]]).sort()).toEqual([
    ['Observation.effective', 'Invalid instant format'],
    ['Observation.extension[0].value', 'Invalid uuid format'],
    ['Observation.issued', 'Invalid instant format'],
  ]);
});

test('a code that is not a string, and property names that are not identifiers', () => {
  const issues = validateSchema(asResource({ resourceType: 'Patient', gender: 1, 'odd key': true }));
  expect(issues.map((i) => [i.expression?.[0], i.diagnostics])).toEqual([
    ['Patient.`odd key`', "Unknown property 'odd key'"],
    ['Patient.gender', 'Wrong JSON type: expected a code string, found number'],
  ]);
});

// The write-validation pipeline: one issue per problem, with the right code and FHIRPath location.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { hasErrors, validateResource, validationOutcome, warmUpValidation } from '../../../resources/validation';
import { validResources } from './fixtures';

beforeAll(() => {
  warmUpValidation();
});

const patient = (extra: Record<string, unknown>): Record<string, unknown> => ({
  resourceType: 'Patient',
  name: [{ family: 'Chalmers', given: ['Peter'] }],
  ...extra,
});

const observation = (extra: Record<string, unknown>): Record<string, unknown> => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Glucose' },
  ...extra,
});

/** Validates and expects exactly one error issue; returns it. */
function singleError(resource: unknown): OperationOutcomeIssue {
  const issues = validateResource(resource);
  expect(issues).toHaveLength(1);
  expect(issues[0].severity).toBe('error');
  return issues[0];
}

describe('valid resources', () => {
  test.each(validResources.map((r) => [r.resourceType, r]))('%s passes', (_type, resource) => {
    expect(validateResource(resource)).toEqual([]);
  });

  test('server-owned fields are accepted, with or without an id', () => {
    const withoutId = patient({});
    const stored = patient({ id: 'p1', meta: { versionId: '3', lastUpdated: '2024-03-01T10:00:00.123Z' } });
    expect(validateResource(withoutId)).toEqual([]);
    expect(validateResource(stored)).toEqual([]);
  });

  test('null items of a primitive array are allowed where the partner array extends them', () => {
    const resource = patient({
      name: [{ given: [null, 'James'], _given: [{ extension: [{ url: 'http://x.org/s', valueString: 'five' }] }] }],
    });
    expect(validateResource(resource)).toEqual([]);
  });
});

describe('one issue per failure class', () => {
  test('unknown property', () => {
    const i = singleError(patient({ foo: 1 }));
    expect(i).toMatchObject({ code: 'structure', expression: ['Patient.foo'] });
    expect(i.diagnostics).toContain("'foo'");
  });

  test('unknown property in a nested element and in a contained resource', () => {
    expect(singleError(patient({ name: [{ family: 'A', nickname: 'B' }] })).expression).toEqual([
      'Patient.name[0].nickname',
    ]);
    const contained = patient({ contained: [{ resourceType: 'Practitioner', id: 'dr', bar: true }] });
    expect(singleError(contained).expression).toEqual(['Patient.contained[0].bar']);
  });

  test('wrong JSON type', () => {
    const i = singleError(patient({ name: [{ given: ['Peter', 5] }] }));
    expect(i).toMatchObject({ code: 'structure', expression: ['Patient.name[0].given[1]'] });
    expect(i.diagnostics).toBe('Wrong JSON type: expected string, found number');
  });

  test('an object where an array belongs, and null', () => {
    expect(singleError(patient({ name: { family: 'A' } })).expression).toEqual(['Patient.name']);
    expect(singleError(patient({ active: null })).diagnostics).toBe('Wrong JSON type: expected boolean, found null');
  });

  test('a number where an object belongs', () => {
    expect(singleError(patient({ maritalStatus: 5 }))).toMatchObject({
      code: 'structure',
      diagnostics: 'Wrong JSON type: expected object, found number',
      expression: ['Patient.maritalStatus'],
    });
  });

  test('a string where an array belongs yields no follow-up noise', () => {
    const i = singleError(patient({ name: 'Peter Chalmers' }));
    expect(i.diagnostics).toBe('Wrong JSON type: expected array, found string');
  });

  test('bad date format', () => {
    const i = singleError(patient({ birthDate: '1974-13-25' }));
    expect(i).toMatchObject({ code: 'value', expression: ['Patient.birthDate'] });
    expect(i.diagnostics).toContain('YYYY-MM-DD');
  });

  test('bad dateTime in a choice element', () => {
    const i = singleError(observation({ effectiveDateTime: '2024-03-01 09:30' }));
    expect(i).toMatchObject({ code: 'value', expression: ['Observation.effective'] });
    expect(i.diagnostics).toMatch(/^Invalid dateTime format/);
  });

  test('missing required element', () => {
    const i = singleError({ resourceType: 'Observation', code: { text: 'Glucose' } });
    expect(i).toEqual({
      severity: 'error',
      code: 'required',
      diagnostics: "Missing required property 'status'",
      expression: ['Observation.status'],
    });
    expect(singleError({ resourceType: 'Observation', status: 'final' }).expression).toEqual(['Observation.code']);
  });

  test('invalid code in a required binding', () => {
    const gender = singleError(patient({ gender: 'bogus' }));
    expect(gender).toMatchObject({ code: 'code-invalid', expression: ['Patient.gender'] });
    expect(gender.diagnostics).toBe("Invalid code 'bogus': expected one of male, female, other, unknown");
    const status = singleError(observation({ status: 'nope' }));
    expect(status).toMatchObject({ code: 'code-invalid', expression: ['Observation.status'] });
    expect(status.diagnostics).toContain('final');
  });

  test('empty string', () => {
    const i = singleError(patient({ name: [{ family: '' }] }));
    expect(i).toMatchObject({ code: 'value', expression: ['Patient.name[0].family'] });
    expect(i.diagnostics).toMatch(/^Empty string/);
  });

  test('empty object and empty array', () => {
    expect(singleError(patient({ maritalStatus: {} }))).toMatchObject({
      code: 'value',
      expression: ['Patient.maritalStatus'],
    });
    expect(singleError(patient({ name: [{ given: [] }] })).expression).toEqual(['Patient.name[0].given']);
  });

  test('a string with a non-breaking space', () => {
    const i = singleError(patient({ name: [{ family: 'Chal\u00a0mers' }] }));
    expect(i.diagnostics).toMatch(/^Invalid string format/);
  });

  test('invalid id', () => {
    const i = singleError(patient({ id: 'has space' }));
    expect(i).toMatchObject({ code: 'value', expression: ['Patient.id'] });
    expect(i.diagnostics).toMatch(/^Invalid id format/);
  });

  test('invariant violation', () => {
    const pat1 = singleError(patient({ contact: [{ gender: 'female' }] }));
    expect(pat1).toMatchObject({ code: 'invariant', expression: ['Patient.contact[0]'] });
    expect(pat1.diagnostics).toMatch(/^Constraint pat-1 not met/);
    const obs6 = singleError(observation({ valueString: 'high', dataAbsentReason: { text: 'lost' } }));
    expect(obs6).toMatchObject({ code: 'invariant', expression: ['Observation'] });
    expect(obs6.diagnostics).toMatch(/^Constraint obs-6 not met/);
  });

  test('too many items: an array where one value belongs', () => {
    const i = singleError(patient({ gender: ['male', 'female'] }));
    expect(i).toMatchObject({ code: 'structure', expression: ['Patient.gender'] });
    expect(i.diagnostics).toBe('Wrong JSON type: expected a code string, found array');
  });

  test('two properties for one choice element', () => {
    const i = singleError(patient({ multipleBirthBoolean: true, multipleBirthInteger: 2 }));
    expect(i).toMatchObject({ code: 'structure', expression: ['Patient.multipleBirth'] });
    expect(i.diagnostics).toContain('multipleBirthBoolean');
  });

  test('several problems are all reported, once each', () => {
    const issues = validateResource(patient({ foo: 1, gender: 'bogus', birthDate: '1974-13-25', id: 'a b' }));
    expect(issues.map((i) => i.expression?.[0]).sort()).toEqual([
      'Patient.birthDate',
      'Patient.foo',
      'Patient.gender',
      'Patient.id',
    ]);
  });
});

describe('resource types', () => {
  test('Medplum-only and unknown types are rejected, also when nested', () => {
    expect(singleError({ resourceType: 'Bot', name: 'x' })).toMatchObject({ code: 'not-supported' });
    expect(singleError({ resourceType: 'DomainResource' }).diagnostics).toContain('DomainResource');
    const nested = singleError(patient({ contained: [{ resourceType: 'Bot', id: 'b' }] }));
    expect(nested).toMatchObject({ code: 'not-supported', expression: ['Patient.contained[0].resourceType'] });
    const inBundle = singleError({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { foo: 1 } }] });
    expect(inBundle).toMatchObject({ code: 'required', expression: ['Bundle.entry[0].resource.resourceType'] });
  });

  test("Medplum's own Meta elements are not R4", () => {
    expect(singleError(patient({ meta: { project: 'p1' } })).expression).toEqual(['Patient.meta.project']);
  });

  test('input that is not a resource', () => {
    expect(singleError(null).diagnostics).toBe('Expected a JSON object with a resourceType');
    expect(singleError([patient({})]).code).toBe('structure');
    expect(singleError({ name: [] })).toMatchObject({ code: 'required', diagnostics: 'Missing resourceType' });
  });

  test('a malformed primitive extension that makes Medplum throw is reported once', () => {
    const i = singleError(patient({ _birthDate: 5 }));
    expect(i).toMatchObject({ code: 'structure', expression: ['Patient.birthDate'] });
  });
});

describe('warnings', () => {
  test('a reference to a resource type the element does not allow is a warning', () => {
    const issues = validateResource(patient({ generalPractitioner: [{ reference: 'Patient/p2' }] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'warning', expression: ['Patient.generalPractitioner[0]'] });
    expect(hasErrors(issues)).toBe(false);
  });

  test('absolute and urn:uuid references are not mistaken for wrong types', () => {
    const refs = [{ reference: 'https://other.org/fhir/Practitioner/1' }, { reference: 'urn:uuid:0f6b6c0e-1f39' }];
    expect(validateResource(patient({ generalPractitioner: refs }))).toEqual([]);
  });
});

describe('outcomes', () => {
  test('hasErrors', () => {
    expect(hasErrors([])).toBe(false);
    expect(hasErrors([{ severity: 'warning', code: 'informational' }])).toBe(false);
    expect(hasErrors([{ severity: 'fatal', code: 'exception' }])).toBe(true);
  });

  test('validationOutcome always carries an issue', () => {
    expect(validationOutcome([])).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: 'All OK' }],
    });
    const issues = validateResource(patient({ gender: 'bogus' }));
    expect(validationOutcome(issues)).toEqual({ resourceType: 'OperationOutcome', issue: issues });
  });

  test('warm-up can be repeated, and the types it compiled validate', () => {
    for (let i = 0; i < 2; i++) expect(Number.isFinite(warmUpValidation(['Encounter']))).toBe(true);
    const issues = validateResource({ resourceType: 'Encounter' });
    expect(issues.map((i) => i.expression?.[0])).toEqual(
      expect.arrayContaining(['Encounter.status', 'Encounter.class']),
    );
  });
});

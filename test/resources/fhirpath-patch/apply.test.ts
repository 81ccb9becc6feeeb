// The FHIRPath Patch engine on its own: primitives with ids and extensions (the `_name` siblings), choice
// types, nested BackboneElements, contained resources, and the errors each operation reports.
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../resources/errors';
import { applyPatch } from '../../../resources/patch';
import { parseFhirPathPatch, quoteKeywordMembers } from '../../../resources/fhirpath-patch/parse';

function operation(type: string, path: string, parts: ParametersParameter[] = []): ParametersParameter {
  return {
    name: 'operation',
    part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...parts],
  };
}

function patched(resource: object, ...operations: ParametersParameter[]): Record<string, unknown> {
  const patch: Parameters = { resourceType: 'Parameters', parameter: operations };
  return applyPatch(resource as Resource, parseFhirPathPatch(patch)) as unknown as Record<string, unknown>;
}

function failure(resource: object, ...operations: ParametersParameter[]): { status: number; message: string } {
  try {
    patched(resource, ...operations);
  } catch (error) {
    if (error instanceof FhirError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('the patch was applied');
}

const value = (v: Omit<ParametersParameter, 'name'>): ParametersParameter => ({ name: 'value', ...v });

describe('primitives keep their `_name` sibling in step', () => {
  const withExtensions = {
    resourceType: 'Patient',
    birthDate: '1970-01-01',
    _birthDate: { extension: [{ url: 'urn:x', valueString: 'a' }] },
    name: [{ given: ['A', 'B', 'C'], _given: [null, { id: 'b' }, null] }],
  };

  test('deleting or moving a list item moves its extension with it', () => {
    expect(patched(withExtensions, operation('delete', 'Patient.name.given[0]')).name).toEqual([
      { given: ['B', 'C'], _given: [{ id: 'b' }, null] },
    ]);
    expect(patched(withExtensions, operation('delete', 'Patient.name.given[1]')).name).toEqual([{ given: ['A', 'C'] }]);
    const moved = patched(
      withExtensions,
      operation('move', 'Patient.name.given', [
        { name: 'source', valueInteger: 1 },
        { name: 'destination', valueInteger: 2 },
      ]),
    );
    expect(moved.name).toEqual([{ given: ['A', 'C', 'B'], _given: [null, null, { id: 'b' }] }]);
  });

  test('inserting keeps the extension list aligned, and a value may bring its own extension', () => {
    const inserted = patched(
      withExtensions,
      operation('insert', 'Patient.name.given', [{ name: 'index', valueInteger: 0 }, value({ valueString: 'Z' })]),
    );
    expect(inserted.name).toEqual([{ given: ['Z', 'A', 'B', 'C'], _given: [null, null, { id: 'b' }, null] }]);
    const withOwn = patched(
      { resourceType: 'Patient', name: [{ given: ['A'] }] },
      operation('add', 'Patient.name[0]', [
        { name: 'name', valueString: 'given' },
        { name: 'value', valueString: 'B', _valueString: { id: 'own' } } as ParametersParameter,
      ]),
    );
    expect(withOwn.name).toEqual([{ given: ['A', 'B'], _given: [null, { id: 'own' }] }]);
  });

  test('replace swaps the whole element; delete removes value and extensions', () => {
    const replaced = patched(withExtensions, operation('replace', 'Patient.birthDate', [value({ valueDate: '1971' })]));
    expect(replaced.birthDate).toBe('1971');
    expect(replaced._birthDate).toBeUndefined();
    const replacedItem = patched(
      withExtensions,
      operation('replace', 'Patient.name.given[1]', [value({ valueString: 'Bee' })]),
    );
    expect(replacedItem.name).toEqual([{ given: ['A', 'Bee', 'C'] }]);
    const deleted = patched(withExtensions, operation('delete', 'Patient.birthDate'));
    expect(deleted.birthDate).toBeUndefined();
    expect(deleted._birthDate).toBeUndefined();
  });

  test('extensions of a primitive are patched through the primitive', () => {
    const added = patched(
      { resourceType: 'Patient', birthDate: '1970-01-01', name: [{ given: ['A', 'B'] }] },
      operation('add', 'Patient.birthDate', [
        { name: 'name', valueString: 'extension' },
        value({
          part: [
            { name: 'url', valueUri: 'urn:t' },
            { name: 'value', valueDateTime: '1970-01-01T10:00:00Z' },
          ],
        }),
      ]),
      operation('add', 'Patient.name.given[1]', [{ name: 'name', valueString: 'id' }, value({ valueString: 'g2' })]),
    );
    expect(added._birthDate).toEqual({ extension: [{ url: 'urn:t', valueDateTime: '1970-01-01T10:00:00Z' }] });
    expect(added.name).toEqual([{ given: ['A', 'B'], _given: [null, { id: 'g2' }] }]);
    const removed = patched(withExtensions, operation('delete', 'Patient.birthDate.extension[0]'));
    expect(removed).not.toHaveProperty('_birthDate');
    expect(removed.birthDate).toBe('1970-01-01');
    const removedId = patched(withExtensions, operation('delete', 'Patient.name.given[1].id'));
    expect(removedId.name).toEqual([{ given: ['A', 'B', 'C'] }]);
  });
});

describe('elements the model describes', () => {
  test('a choice element is found whatever its type, and add refuses a second type', () => {
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'high' };
    const replaced = patched(
      observation,
      operation('replace', 'Observation.value', [value({ valueQuantity: { value: 5, unit: 'mg' } })]),
    );
    expect(replaced.valueQuantity).toEqual({ value: 5, unit: 'mg' });
    expect(replaced).not.toHaveProperty('valueString');
    expect(
      failure(
        observation,
        operation('add', 'Observation', [{ name: 'name', valueString: 'value' }, value({ valueBoolean: true })]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/already has value/) });
    expect(
      failure(observation, operation('replace', 'Observation.value', [value({ valueAttachment: { url: 'urn:a' } })])),
    ).toEqual({ status: 422, message: expect.stringMatching(/value takes Quantity or .* not Attachment/) });
    expect(
      failure(
        observation,
        operation('replace', 'Observation.value', [value({ part: [{ name: 'value', valueInteger: 1 }] })]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/needs a typed value\[x\], not parts/) });
  });

  test('a subtype fits where its base type is expected (Age for Quantity)', () => {
    const result = patched(
      { resourceType: 'Observation', status: 'final', code: { text: 'x' } },
      operation('add', 'Observation', [{ name: 'name', valueString: 'value' }, value({ valueAge: { value: 3 } })]),
    );
    expect(result.valueQuantity).toEqual({ value: 3 });
  });

  test('nested BackboneElements and elements defined elsewhere (Questionnaire.item.item)', () => {
    const questionnaire = { resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: '1', type: 'group' }] };
    const result = patched(
      questionnaire,
      operation('add', 'Questionnaire.item[0]', [
        { name: 'name', valueString: 'item' },
        value({
          part: [
            { name: 'linkId', valueString: '1.1' },
            { name: 'type', valueCode: 'group' },
            {
              name: 'item',
              part: [
                { name: 'linkId', valueString: '1.1.1' },
                { name: 'type', valueCode: 'string' },
              ],
            },
          ],
        }),
      ]),
    );
    expect(result.item).toEqual([
      {
        linkId: '1',
        type: 'group',
        item: [{ linkId: '1.1', type: 'group', item: [{ linkId: '1.1.1', type: 'string' }] }],
      },
    ]);
  });

  test('a contained resource is added as a resource and patched by its path', () => {
    const result = patched(
      { resourceType: 'Patient' },
      operation('add', 'Patient', [
        { name: 'name', valueString: 'contained' },
        { name: 'value', resource: { resourceType: 'Organization', id: 'o1', name: 'Old' } },
      ]),
      operation('replace', "Patient.contained.where(id = 'o1').name", [value({ valueString: 'New' })]),
    );
    expect(result.contained).toEqual([{ resourceType: 'Organization', id: 'o1', name: 'New' }]);
    expect(
      failure(
        { resourceType: 'Patient' },
        operation('add', 'Patient', [
          { name: 'name', valueString: 'maritalStatus' },
          { name: 'value', resource: { resourceType: 'Basic', code: { text: 'x' } } },
        ]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/maritalStatus takes CodeableConcept, not a resource/) });
  });

  test('parts are checked against the model', () => {
    const add = (parts: ParametersParameter[]) =>
      operation('add', 'Patient', [{ name: 'name', valueString: 'contact' }, value({ part: parts })]);
    const resource = { resourceType: 'Patient' };
    expect(failure(resource, add([{ name: 'nickname', valueString: 'x' }]))).toEqual({
      status: 422,
      message: expect.stringMatching(/Patient.contact has no element "nickname"/),
    });
    expect(failure(resource, add([{ valueString: 'x' } as ParametersParameter]))).toEqual({
      status: 422,
      message: expect.stringMatching(/a part needs the name of an element/),
    });
    expect(
      failure(
        resource,
        add([
          { name: 'gender', valueCode: 'male' },
          { name: 'gender', valueCode: 'female' },
        ]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/gender is given twice/) });
    expect(failure(resource, add([{ name: 'gender', valueCode: 'male', valueString: 'x' }]))).toEqual({
      status: 400,
      message: expect.stringMatching(/exactly one of value\[x\], part or resource/),
    });
    expect(
      failure(
        resource,
        operation('add', 'Patient', [{ name: 'name', valueString: 'gender' }, value({ part: [{ name: 'x' }] })]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/gender needs a typed value\[x\], not parts/) });
    expect(
      failure(
        resource,
        operation('add', 'Patient', [
          { name: 'name', valueString: 'maritalStatus' },
          value({ valueCodeableConcept: 'x' } as never),
        ]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/valueCodeableConcept must be an object/) });
  });
});

describe('selections', () => {
  const patient = { resourceType: 'Patient', identifier: [{ value: '1' }], name: [{ family: 'A' }] };

  test('insert and move need a list; add needs one container', () => {
    expect(
      failure(
        patient,
        operation('insert', 'Patient.gender', [{ name: 'index', valueInteger: 0 }, value({ valueCode: 'male' })]),
      ),
    ).toEqual({
      status: 422,
      message: expect.stringMatching(/no content found at Patient.gender when inserting; use add/),
    });
    expect(
      failure(
        { ...patient, gender: 'male' },
        operation('insert', 'Patient.gender', [{ name: 'index', valueInteger: 0 }, value({ valueCode: 'male' })]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/is not a list when inserting/) });
    expect(
      failure(
        patient,
        operation('move', 'Patient.identifier | Patient.name', [
          { name: 'source', valueInteger: 0 },
          { name: 'destination', valueInteger: 1 },
        ]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/is not a list when moving/) });
    expect(
      failure(
        patient,
        operation('add', 'Patient.identifier | Patient.name', [
          { name: 'name', valueString: 'id' },
          value({ valueString: 'x' }),
        ]),
      ),
    ).toEqual({ status: 422, message: expect.stringMatching(/selects 2 elements when adding/) });
  });

  test('a computed value is not an element', () => {
    expect(failure(patient, operation('delete', "'text'"))).toEqual({
      status: 422,
      message: expect.stringMatching(/selects a computed value/),
    });
  });

  test('delete of nothing is a no-op; delete removes emptied parents', () => {
    expect(patched(patient, operation('delete', 'Patient.contact'))).toEqual(patient);
    const emptied = patched(
      { resourceType: 'Patient', contact: [{ name: { text: 'a' } }], identifier: [{ period: { start: '2020' } }] },
      operation('delete', 'Patient.contact[0].name.text'),
      operation('delete', 'Patient.identifier.period.start'),
    );
    expect(emptied).toEqual({ resourceType: 'Patient' });
  });

  test('trace() in a path does not print the resource', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      patched(patient, operation('delete', "Patient.name.trace('secret').family"));
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe('paths', () => {
  test('a bare `div` or `mod` member is quoted, nothing else changes', () => {
    expect(quoteKeywordMembers('Patient.text.div')).toBe('Patient.text.`div`');
    expect(quoteKeywordMembers('Patient.text.division')).toBe('Patient.text.division');
    expect(quoteKeywordMembers("Patient.name.where(text = '.div').x.mod")).toBe(
      "Patient.name.where(text = '.div').x.`mod`",
    );
    expect(quoteKeywordMembers('Patient.text.`div`')).toBe('Patient.text.`div`');
    expect(quoteKeywordMembers("Patient.name.where(text = 'unclosed")).toBe("Patient.name.where(text = 'unclosed");
  });

  test('malformed parameters are 400s', () => {
    const bad = (body: unknown) => {
      try {
        parseFhirPathPatch(body as Parameters);
      } catch (error) {
        return { status: (error as FhirError).status, message: (error as FhirError).message };
      }
      return undefined;
    };
    expect(bad({ resourceType: 'Parameters', parameter: {} })).toEqual({
      status: 400,
      message: 'Parameters.parameter must be an array',
    });
    expect(
      bad({ resourceType: 'Parameters', parameter: new Array(1001).fill(operation('delete', 'Patient')) }),
    ).toEqual({
      status: 400,
      message: expect.stringMatching(/at most 1000 operations/),
    });
    expect(bad({ resourceType: 'Parameters', parameter: [{ name: 'operation' }] })).toEqual({
      status: 400,
      message: expect.stringMatching(/an operation needs parts/),
    });
    expect(
      bad({
        resourceType: 'Parameters',
        parameter: [operation('delete', 'Patient', [{ name: 'type', valueCode: 'add' }])],
      }),
    ).toEqual({
      status: 400,
      message: expect.stringMatching(/the "type" part is repeated/),
    });
    expect(
      bad({ resourceType: 'Parameters', parameter: [operation('delete', 'Patient', [{ name: 'extra' }])] }),
    ).toEqual({
      status: 400,
      message: expect.stringMatching(/unknown part "extra"/),
    });
    expect(bad({ resourceType: 'Parameters', parameter: [operation('delete', '')] })).toEqual({
      status: 400,
      message: expect.stringMatching(/the "path" part needs a non-empty valueString/),
    });
    expect(bad({ resourceType: 'Parameters', parameter: [operation('delete', 'P'.repeat(2001))] })).toEqual({
      status: 400,
      message: expect.stringMatching(/longer than 2000/),
    });
    const badName = operation('add', 'Patient', [{ name: 'name', valueString: 'a.b' }, value({ valueString: 'x' })]);
    expect(bad({ resourceType: 'Parameters', parameter: [badName] })).toEqual({
      status: 400,
      message: expect.stringMatching(/"a.b" is not an element name/),
    });
    const badResource = operation('add', 'Patient', [
      { name: 'name', valueString: 'contained' },
      { name: 'value', resource: 'x' } as never,
    ]);
    expect(bad({ resourceType: 'Parameters', parameter: [badResource] })).toEqual({
      status: 400,
      message: expect.stringMatching(/resource must be a resource/),
    });
    const emptyParts = operation('add', 'Patient', [{ name: 'name', valueString: 'contact' }, value({ part: [] })]);
    expect(bad({ resourceType: 'Parameters', parameter: [emptyParts] })).toEqual({
      status: 400,
      message: expect.stringMatching(/part must be a non-empty array/),
    });
  });
});

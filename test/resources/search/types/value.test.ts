import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { finiteNumber, list, text, typedValues } from '../../../../resources/search/types/value';

describe('typedValues', () => {
  it('types fhirpath.js nodes from the model, unwrapping decimals', () => {
    const observation = { resourceType: 'Observation', valueQuantity: { value: 5.5 }, status: 'final' };
    const nodes = fhirpath.evaluate(
      observation,
      'Observation.value | Observation.value.value | Observation.status',
      undefined,
      r4,
      {
        resolveInternalTypes: false,
      },
    );
    expect(typedValues(nodes)).toEqual([
      { type: 'Quantity', data: { value: 5.5 } },
      { type: 'decimal', data: 5.5 },
      { type: 'code', data: 'final' },
    ]);
  });

  it('types computed values from JavaScript, and system types as FHIR primitives', () => {
    const computed = fhirpath.evaluate({}, "true | 'text' | 3 | @2020-01-01", undefined, r4, {
      resolveInternalTypes: false,
    });
    expect(typedValues(computed)).toEqual([
      { type: 'boolean', data: true },
      { type: 'string', data: 'text' },
      { type: 'decimal', data: 3 },
      { type: 'string', data: '2020-01-01' },
    ]);
    expect(
      typedValues([
        { data: 'x', fhirNodeDataType: 'System.String' },
        { data: 1n, fhirNodeDataType: null },
      ]),
    ).toEqual([
      { type: 'string', data: 'x' },
      { type: 'decimal', data: 1 },
    ]);
  });

  it('guesses the type of untyped objects from their shape', () => {
    const untyped = (data: object) => typedValues([{ data, fhirNodeDataType: 'Element' }])[0].type;
    expect(untyped({ coding: [] })).toBe('CodeableConcept');
    expect(untyped({ family: 'x' })).toBe('HumanName');
    expect(untyped({ city: 'x' })).toBe('Address');
    expect(untyped({ value: 1, currency: 'EUR' })).toBe('Money');
    expect(untyped({ value: 1, code: 'mg' })).toBe('Quantity');
    expect(untyped({ reference: 'Patient/1' })).toBe('Reference');
    expect(untyped({ start: '2020' })).toBe('Period');
    expect(untyped({ event: [] })).toBe('Timing');
    expect(untyped({ low: {} })).toBe('Range');
    expect(untyped({ code: 'x' })).toBe('Coding');
    expect(untyped({ value: 'x' })).toBe('Identifier');
    expect(untyped({ resourceType: 'Patient' })).toBe('Patient');
    expect(untyped({ other: 1 })).toBe('unknown');
    expect(typedValues([Symbol('s')])[0].type).toBe('unknown');
  });

  it('leaves out empty values', () => {
    expect(typedValues([null, undefined, '', { data: null, fhirNodeDataType: 'date' }])).toEqual([]);
  });
});

describe('readers', () => {
  it('text, finiteNumber and list', () => {
    expect(text(' a ')).toBe(' a ');
    expect(text('  ')).toBeUndefined();
    expect(text(3)).toBeUndefined();
    expect(finiteNumber(2)).toBe(2);
    expect(finiteNumber(Infinity)).toBeUndefined();
    expect(list(undefined)).toEqual([]);
    expect(list(null)).toEqual([]);
    expect(list('a')).toEqual(['a']);
    expect(list(['a'])).toEqual(['a']);
  });
});

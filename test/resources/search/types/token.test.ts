import { tokenEntries } from '../../../../resources/search/types/token';

const LOINC = 'http://loinc.org';

describe('tokenEntries', () => {
  it('Coding: system, code and the normalized display', () => {
    expect(
      tokenEntries({ type: 'Coding', data: { system: LOINC, code: '8867-4', display: 'Heart rate' } }, 'code'),
    ).toEqual([{ type: 'token', param: 'code', system: LOINC, code: '8867-4', text: 'heart rate' }]);
  });

  it('CodeableConcept: one entry per coding, plus one for its text', () => {
    const concept = {
      coding: [
        { system: LOINC, code: '8867-4' },
        { system: 'http://snomed.info/sct', code: '364075005', display: 'Héart' },
      ],
      text: 'Pulse',
    };
    expect(tokenEntries({ type: 'CodeableConcept', data: concept }, 'code')).toEqual([
      { type: 'token', param: 'code', system: LOINC, code: '8867-4', text: null },
      { type: 'token', param: 'code', system: 'http://snomed.info/sct', code: '364075005', text: 'heart' },
      { type: 'token', param: 'code', system: null, code: null, text: 'pulse' },
    ]);
  });

  it('CodeableConcept: no entry of its own for a text that a coding display already carries', () => {
    const concept = { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }], text: 'HEART  Rate' };
    expect(tokenEntries({ type: 'CodeableConcept', data: concept }, 'code')).toEqual([
      { type: 'token', param: 'code', system: LOINC, code: '8867-4', text: 'heart rate' },
    ]);
  });

  it('a coding with only a display still serves :text; an empty one gives nothing', () => {
    expect(tokenEntries({ type: 'Coding', data: { display: 'Only text' } }, 'c')).toEqual([
      { type: 'token', param: 'c', system: null, code: null, text: 'only text' },
    ]);
    expect(tokenEntries({ type: 'Coding', data: { version: '1' } }, 'c')).toEqual([]);
    expect(tokenEntries({ type: 'CodeableConcept', data: { coding: [null, 'x'] } }, 'c')).toEqual([]);
  });

  it('Identifier: system|value, the type coding for :of-type and the type text for :text', () => {
    const identifier = {
      system: 'urn:oid:1.2.36.146.595.217.0.1',
      value: '12345',
      type: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' },
          { system: 'http://example.org/local', code: 'chart' },
        ],
        text: 'Medical record',
      },
    };
    const base = {
      type: 'token',
      param: 'identifier',
      system: identifier.system,
      code: '12345',
      text: 'medical record',
    };
    expect(tokenEntries({ type: 'Identifier', data: identifier }, 'identifier')).toEqual([
      { ...base, typeSystem: 'http://terminology.hl7.org/CodeSystem/v2-0203', typeCode: 'MR' },
      { ...base, typeSystem: 'http://example.org/local', typeCode: 'chart' },
    ]);
  });

  it('Identifier without a type, with only a system, or with neither system nor value', () => {
    expect(tokenEntries({ type: 'Identifier', data: { value: 'A1' } }, 'identifier')).toEqual([
      { type: 'token', param: 'identifier', system: null, code: 'A1', text: null, typeSystem: null, typeCode: null },
    ]);
    expect(tokenEntries({ type: 'Identifier', data: { system: 'urn:s' } }, 'identifier')[0]).toMatchObject({
      system: 'urn:s',
      code: null,
    });
    expect(tokenEntries({ type: 'Identifier', data: { type: { text: 'MR' } } }, 'identifier')).toEqual([]);
  });

  it('ContactPoint: the value is the code, with no system (the spec table)', () => {
    const phone = { system: 'phone', value: '+1 555 0100', use: 'home' };
    expect(tokenEntries({ type: 'ContactPoint', data: phone }, 'phone')).toEqual([
      { type: 'token', param: 'phone', system: null, code: '+1 555 0100', text: null },
    ]);
    expect(tokenEntries({ type: 'ContactPoint', data: { system: 'phone' } }, 'phone')).toEqual([]);
  });

  it.each([
    ['code', 'final', 'final'],
    ['string', 'v1.2', 'v1.2'],
    ['id', 'abc', 'abc'],
    ['uri', 'http://x', 'http://x'],
    ['boolean', true, 'true'],
    ['boolean', false, 'false'],
    ['integer', 3, '3'],
  ])('%s %j is its own code, without a system', (type, data, code) => {
    expect(tokenEntries({ type, data }, 'p')).toEqual([{ type: 'token', param: 'p', system: null, code, text: null }]);
  });

  it('skips blank strings and objects of types a token cannot hold', () => {
    expect(tokenEntries({ type: 'code', data: ' ' }, 'p')).toEqual([]);
    expect(tokenEntries({ type: 'Period', data: { start: '2020' } }, 'p')).toEqual([]);
    expect(tokenEntries({ type: 'Coding', data: 'final' }, 'p')).toEqual([]);
  });
});

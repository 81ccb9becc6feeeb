import { parseReference, referenceEntries, referenceTargetType } from '../../../../resources/search/types/reference';

const entry = (fields: object) => ({
  type: 'reference',
  param: 'subject',
  targetType: null,
  targetId: null,
  url: null,
  identifierSystem: null,
  identifierValue: null,
  ...fields,
});

describe('parseReference', () => {
  it.each([
    ['Patient/123', { type: 'Patient', id: '123' }],
    ['Patient/a.b-C/_history/7', { type: 'Patient', id: 'a.b-C' }],
    [
      'https://fhir.example.org/r4/Patient/9',
      { url: 'https://fhir.example.org/r4/Patient/9', type: 'Patient', id: '9' },
    ],
    [
      'http://x.org/fhir/Observation/1/_history/2',
      { url: 'http://x.org/fhir/Observation/1', type: 'Observation', id: '1' },
    ],
    ['http://x.org/fhir/Nope/1', { url: 'http://x.org/fhir/Nope/1' }],
    ['urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8', { url: 'urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8' }],
    ['123', { id: '123' }],
    ['#contained', { url: '#contained' }],
  ])('%s', (reference, expected) => {
    expect(parseReference(reference)).toEqual(expected);
  });

  it.each(['#', 'Patient?identifier=x|1', 'Nope/1', 'Patient/', 'two words', ''])('no target for %j', (ref) => {
    expect(parseReference(ref)).toBeUndefined();
  });
});

describe('referenceTargetType', () => {
  it('reads the type from the reference, the resource, or Reference.type', () => {
    expect(referenceTargetType({ reference: 'Group/1' })).toBe('Group');
    expect(referenceTargetType({ reference: 'http://x/fhir/Patient/1' })).toBe('Patient');
    expect(referenceTargetType({ type: 'Patient', identifier: { value: 'x' } })).toBe('Patient');
    expect(referenceTargetType({ reference: '#p1', type: 'Patient' })).toBe('Patient');
    expect(referenceTargetType({ resourceType: 'Device' })).toBe('Device');
    expect(referenceTargetType('Location/1')).toBe('Location');
    expect(referenceTargetType({ reference: '#p1' })).toBeUndefined();
    expect(referenceTargetType(42)).toBeUndefined();
  });
});

describe('referenceEntries', () => {
  const TARGETS = ['Patient', 'Group'];
  const convert = (data: unknown, type = 'Reference', targets = TARGETS) =>
    referenceEntries({ type, data }, 'subject', targets);

  it('a relative reference: type and id (a version is dropped)', () => {
    expect(convert({ reference: 'Patient/p1/_history/3', display: 'Peter' })).toEqual([
      entry({ targetType: 'Patient', targetId: 'p1' }),
    ]);
  });

  it('an absolute reference: the URL, and type and id when it ends in Type/id', () => {
    expect(convert({ reference: 'https://other.org/fhir/Group/g' })).toEqual([
      entry({ url: 'https://other.org/fhir/Group/g', targetType: 'Group', targetId: 'g' }),
    ]);
    expect(convert({ reference: 'urn:uuid:1234' })).toEqual([entry({ url: 'urn:uuid:1234' })]);
  });

  it('a reference to a type outside the targets keeps only its URL and identifier parts', () => {
    expect(convert({ reference: 'Practitioner/1' })).toEqual([]);
    expect(convert({ reference: 'https://x.org/Practitioner/1' })).toEqual([
      entry({ url: 'https://x.org/Practitioner/1' }),
    ]);
    expect(convert({ reference: 'Device/1' }, 'Reference', [])).toEqual([
      entry({ targetType: 'Device', targetId: '1' }),
    ]);
    expect(convert({ reference: 'Device/1' }, 'Reference', ['Resource'])).toHaveLength(1);
  });

  it('the logical identifier, with or without a literal reference', () => {
    const identifier = { system: 'urn:oid:1.2.3', value: 'MRN-1' };
    expect(convert({ identifier })).toEqual([entry({ identifierSystem: 'urn:oid:1.2.3', identifierValue: 'MRN-1' })]);
    expect(convert({ reference: 'Patient/1', identifier })).toEqual([
      entry({ targetType: 'Patient', targetId: '1', identifierSystem: 'urn:oid:1.2.3', identifierValue: 'MRN-1' }),
    ]);
    expect(convert({ reference: '#c1', identifier })).toEqual([
      entry({ url: '#c1', identifierSystem: 'urn:oid:1.2.3', identifierValue: 'MRN-1' }),
    ]);
  });

  it('a bare id takes Reference.type, or the only target', () => {
    expect(convert({ reference: '7', type: 'Group' })).toEqual([entry({ targetType: 'Group', targetId: '7' })]);
    expect(convert({ reference: '7' }, 'Reference', ['Patient'])).toEqual([
      entry({ targetType: 'Patient', targetId: '7' }),
    ]);
    expect(convert({ reference: '7' })).toEqual([]);
  });

  it('a contained reference is a value: its #id as the URL, with no target type or id', () => {
    expect(convert({ reference: '#p1' })).toEqual([entry({ url: '#p1' })]);
    expect(convert({ reference: '#p1', type: 'Patient' })).toEqual([entry({ url: '#p1' })]);
    expect(convert({ reference: '#' })).toEqual([]);
  });

  it('conditional and empty references give nothing', () => {
    expect(convert({ reference: 'Patient?identifier=urn:x|1' })).toEqual([]);
    expect(convert({ display: 'Somebody' })).toEqual([]);
    expect(convert(12)).toEqual([]);
  });

  it('a canonical: its URL without the version, and with it when it has one', () => {
    expect(convert('http://example.org/Questionnaire/q1|2.0', 'canonical')).toEqual([
      entry({ url: 'http://example.org/Questionnaire/q1' }),
      entry({ url: 'http://example.org/Questionnaire/q1|2.0' }),
    ]);
    expect(convert('http://example.org/Questionnaire/q1', 'canonical')).toEqual([
      entry({ url: 'http://example.org/Questionnaire/q1' }),
    ]);
    expect(convert('|1.0', 'canonical')).toEqual([]);
  });

  it('a uri may hold any reference string', () => {
    expect(convert('http://example.org/ValueSet/vs', 'uri')).toEqual([
      entry({ url: 'http://example.org/ValueSet/vs' }),
    ]);
    expect(convert('Patient/5', 'uri')).toEqual([entry({ targetType: 'Patient', targetId: '5' })]);
    expect(convert('not a reference', 'uri')).toEqual([]);
  });

  it('a resource reached by the expression (Bundle.entry[0].resource) is referenced by type and id', () => {
    expect(convert({ resourceType: 'Composition', id: 'c1' }, 'Composition', ['Composition'])).toEqual([
      entry({ targetType: 'Composition', targetId: 'c1' }),
    ]);
    expect(convert({ resourceType: 'Composition' }, 'Composition', ['Composition'])).toEqual([]);
  });
});

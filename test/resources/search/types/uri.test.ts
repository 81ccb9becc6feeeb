import { uriEntries } from '../../../../resources/search/types/uri';

describe('uriEntries', () => {
  it('keeps uri, url, oid and uuid values as written', () => {
    expect(uriEntries({ type: 'uri', data: 'http://hl7.org/fhir/ValueSet/x' }, 'url')).toEqual([
      { type: 'uri', param: 'url', value: 'http://hl7.org/fhir/ValueSet/x' },
    ]);
    expect(uriEntries({ type: 'oid', data: 'urn:oid:1.2.3' }, 'p')).toHaveLength(1);
  });

  it('indexes a versioned canonical also without its version', () => {
    expect(uriEntries({ type: 'canonical', data: 'http://x.org/StructureDefinition/p|1.0' }, '_profile')).toEqual([
      { type: 'uri', param: '_profile', value: 'http://x.org/StructureDefinition/p|1.0' },
      { type: 'uri', param: '_profile', value: 'http://x.org/StructureDefinition/p' },
    ]);
    expect(uriEntries({ type: 'canonical', data: 'http://x.org/p' }, 'p')).toHaveLength(1);
    expect(uriEntries({ type: 'canonical', data: '|1.0' }, 'p')).toHaveLength(1);
  });

  it('nothing for blank or non-string values', () => {
    expect(uriEntries({ type: 'uri', data: '' }, 'p')).toEqual([]);
    expect(uriEntries({ type: 'Reference', data: { reference: 'x' } }, 'p')).toEqual([]);
  });
});

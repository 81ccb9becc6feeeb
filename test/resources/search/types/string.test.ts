import { normalizeString, stringEntries } from '../../../../resources/search/types/string';

describe('normalizeString', () => {
  it.each([
    ['Chalmers', 'chalmers'],
    ["Zoë O'Brien-Smith", 'zoe o brien smith'],
    ['  Ångström   Müller ', 'angstrom muller'],
    ['Straße', 'strasse'],
    ['Søren Łukasz Æsir', 'soren lukasz aesir'],
    ['ﬁne Ｔｏｋｙｏ', 'fine tokyo'],
    ['a\tb\nc', 'a b c'],
    ['534 Erewhon St, PleasantVille', '534 erewhon st pleasantville'],
    ['already normal', 'already normal'],
    ['...', ''],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeString(input)).toBe(expected);
  });

  it('gives the same answer from its cache, even after the cache fills up', () => {
    const first = normalizeString('Élodie');
    for (let i = 0; i < 20_001; i++) {
      normalizeString(`Name ${i}`);
    }
    expect(normalizeString('Élodie')).toBe(first);
    expect(first).toBe('elodie');
  });
});

describe('stringEntries', () => {
  it('indexes each part of a HumanName as its own entry', () => {
    const name = { family: 'van der Berg', given: ['Jan', 'Piet'], prefix: ['Dr.'], suffix: ['PhD'], text: 'Dr. Jan' };
    expect(stringEntries({ type: 'HumanName', data: name }, 'name')).toEqual([
      { type: 'string', param: 'name', value: 'van der berg', exact: 'van der Berg' },
      { type: 'string', param: 'name', value: 'jan', exact: 'Jan' },
      { type: 'string', param: 'name', value: 'piet', exact: 'Piet' },
      { type: 'string', param: 'name', value: 'dr', exact: 'Dr.' },
      { type: 'string', param: 'name', value: 'phd', exact: 'PhD' },
      { type: 'string', param: 'name', value: 'dr jan', exact: 'Dr. Jan' },
    ]);
  });

  it('indexes the lines, city, district, state, postal code, country and text of an Address', () => {
    const address = {
      line: ['1 Main St', 'Apt 2'],
      city: 'Zürich',
      district: 'Kreis 1',
      state: 'ZH',
      postalCode: '8001',
      country: 'CH',
      text: '1 Main St, Zürich',
      use: 'home',
    };
    expect(stringEntries({ type: 'Address', data: address }, 'address').map((e) => e.exact)).toEqual([
      '1 Main St',
      'Apt 2',
      'Zürich',
      'Kreis 1',
      'ZH',
      '8001',
      'CH',
      '1 Main St, Zürich',
    ]);
  });

  it('indexes primitive strings and markdown as they are, and texts of concepts, codings and annotations', () => {
    expect(stringEntries({ type: 'markdown', data: '**Bold** claim' }, 'description')).toEqual([
      { type: 'string', param: 'description', value: 'bold claim', exact: '**Bold** claim' },
    ]);
    expect(stringEntries({ type: 'CodeableConcept', data: { text: 'Héllo' } }, 'p')[0].value).toBe('hello');
    expect(stringEntries({ type: 'Coding', data: { display: 'Shown' } }, 'p')[0].exact).toBe('Shown');
    expect(stringEntries({ type: 'Annotation', data: { text: 'note' } }, 'p')[0].exact).toBe('note');
  });

  it('skips blank parts and values it cannot read as text', () => {
    expect(stringEntries({ type: 'HumanName', data: { family: '  ', given: [null, ''] } }, 'name')).toEqual([]);
    expect(stringEntries({ type: 'Period', data: { start: '2020' } }, 'p')).toEqual([]);
    expect(stringEntries({ type: 'HumanName', data: 'not an object' }, 'name')).toHaveLength(1);
    expect(stringEntries({ type: 'HumanName', data: ['weird'] }, 'name')).toEqual([]);
    expect(stringEntries({ type: 'boolean', data: true }, 'p')).toEqual([]);
  });
});

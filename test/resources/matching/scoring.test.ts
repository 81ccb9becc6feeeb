// The parts of Patient $match that decide a score: phonetics, string similarity, nicknames, the field
// comparisons and their grades, the blocking searches and the input checks.
import type { Patient } from '@medplum/fhirtypes';
import { blockingSearches } from '../../../resources/matching/blocking';
import { comparePatients } from '../../../resources/matching/compare';
import { patientFeatures } from '../../../resources/matching/features';
import { evaluate } from '../../../resources/matching/grade';
import { parseMatchInput } from '../../../resources/matching/input';
import { areNicknames } from '../../../resources/matching/nicknames';
import { nysiis } from '../../../resources/matching/phonetics';
import { editDistance, jaroWinkler } from '../../../resources/matching/similarity';
import { describeComparisons } from '../../../resources/matching/weights';

const anna: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'urn:mrn', value: 'M1' }],
  name: [{ family: 'Smith', given: ['Anna', 'Marie'] }],
  gender: 'female',
  birthDate: '1980-02-03',
  address: [{ line: ['12 Oak Street'], postalCode: '02134' }],
  telecom: [
    { system: 'phone', value: '(617) 555-0101' },
    { system: 'email', value: 'Anna.Smith@example.com' },
  ],
};

/** Levels per field of anna against anna with these changes. */
function levels(changes: Partial<Patient>, base: Patient = anna): Record<string, string> {
  const other = { ...base, ...changes };
  return Object.fromEntries(
    comparePatients(patientFeatures(base), patientFeatures(other)).map((c) => [c.field, c.level]),
  );
}
const grade = (changes: Partial<Patient>) =>
  evaluate(comparePatients(patientFeatures(anna), patientFeatures({ ...anna, ...changes })));

test('NYSIIS codes names that sound alike the same, and others differently', () => {
  const alike = [
    ['Smith', 'Smyth'],
    ['Catherine', 'Katherine'],
    ['MacDonald', 'McDonald'],
    ['Knight', 'Night'],
    ['Phillips', 'Filips'],
    ['Jonson', 'Johnson'],
  ];
  for (const [a, b] of alike) expect({ a, code: nysiis(a) }).toEqual({ a, code: nysiis(b) });
  expect(nysiis('Smith')).not.toBe(nysiis('Jones'));
  expect(nysiis('Anna')).toBe('AN');
  expect(nysiis("O'Brien-")).toBe(nysiis('obrien'));
  expect(nysiis('123')).toBe('');
});

test('Jaro-Winkler and the edit distance', () => {
  expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
  expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
  expect(jaroWinkler('same', 'same')).toBe(1);
  expect(jaroWinkler('', 'x')).toBe(0);
  expect(jaroWinkler('abc', 'xyz')).toBe(0);
  expect(editDistance('jonh', 'john')).toBe(1);
  expect(editDistance('kitten', 'sitting')).toBe(3);
  expect(editDistance('', 'abc')).toBe(3);
});

test('nicknames belong to their names, in both directions, and a shared diminutive to several', () => {
  expect(areNicknames('bill', 'william')).toBe(true);
  expect(areNicknames('william', 'bill')).toBe(true);
  expect(areNicknames('pat', 'patricia')).toBe(true);
  expect(areNicknames('pat', 'patrick')).toBe(true);
  expect(areNicknames('patrick', 'patricia')).toBe(false);
  expect(areNicknames('anna', 'bill')).toBe(false);
});

test('each field gets the level of agreement a registration slip leaves', () => {
  expect(levels({})).toEqual({
    identifier: 'agree',
    family: 'exact',
    given: 'exact',
    birthDate: 'exact',
    gender: 'agree',
    postalCode: 'agree',
    addressLine: 'exact',
    phone: 'agree',
    email: 'agree',
  });
  const name = (family: string, given: string[], suffix?: string[]) => ({ name: [{ family, given, suffix }] });
  expect(levels(name('Smyth', ['Anna']))).toMatchObject({ family: 'phonetic', given: 'exact' });
  expect(levels(name('Smitj', ['Anan']))).toMatchObject({ family: 'fuzzy', given: 'fuzzy' });
  expect(levels(name('Smith Jones', ['A']))).toMatchObject({ family: 'fuzzy', given: 'initial' });
  expect(levels(name('Brown', ['Marie']))).toMatchObject({ family: 'disagree', given: 'fuzzy' });
  expect(levels(name('Smith', ['Beth']))).toMatchObject({ given: 'disagree' });
  expect(levels({ birthDate: '1980-03-02' })).toMatchObject({ birthDate: 'swapped' });
  expect(levels({ birthDate: '1981-02-03' })).toMatchObject({ birthDate: 'near' });
  expect(levels({ birthDate: '1980-02-08' })).toMatchObject({ birthDate: 'near' });
  expect(levels({ birthDate: '1990-02-03' })).toMatchObject({ birthDate: 'disagree' });
  expect(levels({ birthDate: '1980' })).toMatchObject({ birthDate: 'year' });
  expect(levels({ birthDate: '1980-02-03' }, { ...anna, birthDate: '1979' })).toMatchObject({ birthDate: 'disagree' });
  expect(levels({ address: [{ line: ['12 Oak St'], postalCode: '02134-1234' }] })).toMatchObject({
    addressLine: 'exact',
    postalCode: 'agree',
  });
  expect(levels({ address: [{ line: ['12 Oka St.'] }] })).toMatchObject({ addressLine: 'fuzzy' });
  expect(levels({ address: [{ line: ['14 Oak St'] }] })).toMatchObject({ addressLine: 'disagree' });
  expect(levels({ telecom: [{ system: 'phone', value: '+1 617-555-0101' }] })).toMatchObject({ phone: 'agree' });
  expect(levels({ identifier: [{ system: 'urn:mrn', value: 'M2' }] })).toMatchObject({ identifier: 'disagree' });
  expect(levels({ identifier: [{ system: 'urn:other', value: 'M1' }] })).not.toHaveProperty('identifier');
  expect(levels({ gender: 'male', name: [{ family: 'Smith', given: ['Ann'] }] })).toMatchObject({
    gender: 'disagree',
    given: 'disagree',
  });
  expect(
    levels(
      { name: [{ family: 'Smith', given: ['Anna'], suffix: ['Jr'] }] },
      { ...anna, name: [{ family: 'Smith', given: ['Anna'], suffix: ['Sr'] }] },
    ),
  ).toMatchObject({ suffix: 'disagree' });
});

test('a field one side lacks is not compared, so it weighs nothing', () => {
  const bare: Patient = { resourceType: 'Patient', name: [{ family: 'Smith' }] };
  const compared = comparePatients(patientFeatures(bare), patientFeatures(anna));
  expect(compared.map((c) => c.field)).toEqual(['family']);
});

test('grades: certain needs an approved combination, and twins or a junior are never above possible', () => {
  expect(grade({}).grade).toBe('certain');
  expect(grade({}).score).toBeGreaterThanOrEqual(0.9);
  const movedAway = grade({ address: [{ line: ['1 Elm St'] }], telecom: [], identifier: [] });
  expect(movedAway.grade).toBe('probable');
  expect(movedAway.score).toBeGreaterThanOrEqual(0.6);
  expect(movedAway.score).toBeLessThan(0.9);
  expect(grade({ birthDate: '1980-03-02' }).grade).toBe('certain');
  const twin = grade({ name: [{ family: 'Smith', given: ['Beth'] }], identifier: [], telecom: [] });
  expect(twin.grade).toBe('possible');
  expect(twin.score).toBeLessThan(0.6);
  const junior = grade({ birthDate: '2005-06-07', identifier: [], name: [{ family: 'Smith', given: ['Anna'] }] });
  expect(junior.grade).toBe('possible');
  const stranger = grade({ name: [{ family: 'Jones', given: ['Bob'] }], birthDate: '1950-01-01', identifier: [] });
  expect(stranger.grade).toBeUndefined();
  expect(stranger.score).toBe(0);
  expect(describeComparisons(twin.comparisons)).toContain('given=disagree(-7)');
  expect(describeComparisons(twin.comparisons)).toContain('family=exact(+6)');
});

test('blocking searches: identifier, birth date (and its day-month swap), names, telecom, each capped', () => {
  const searches = blockingSearches(anna, patientFeatures(anna));
  expect(searches).toEqual([
    [
      ['identifier', 'urn:mrn|M1'],
      ['_count', '100'],
    ],
    [
      ['birthdate', '1980-02-03,1980-03-02'],
      ['_count', '100'],
    ],
    [
      ['family', 'smi'],
      ['given', 'a'],
      ['_count', '100'],
    ],
    [
      ['given', 'anna'],
      ['birthdate', 'ge1979'],
      ['birthdate', 'le1981'],
      ['_count', '100'],
    ],
    [
      ['telecom', '(617) 555-0101,Anna.Smith@example.com'],
      ['_count', '100'],
    ],
  ]);
  const odd = { resourceType: 'Patient', identifier: [{ value: 'a,b|c' }], birthDate: '1980-02-13' } as Patient;
  expect(blockingSearches(odd, patientFeatures(odd))).toEqual([
    [
      ['identifier', 'a\\,b\\|c'],
      ['_count', '100'],
    ],
    [
      ['birthdate', '1980-02-13'],
      ['_count', '100'],
    ],
  ]);
  const nothing = { resourceType: 'Patient', gender: 'male' } as Patient;
  expect(blockingSearches(nothing, patientFeatures(nothing))).toEqual([]);
});

test('$match input: Parameters or a bare Patient; anything malformed is a 400', () => {
  expect(parseMatchInput(anna)).toEqual({ patient: anna, onlyCertainMatches: false, count: 10 });
  const params = (parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });
  expect(
    parseMatchInput(
      params([
        { name: 'resource', resource: anna },
        { name: 'onlyCertainMatches', valueBoolean: true },
        { name: 'count', valueInteger: 500 },
      ]),
    ),
  ).toEqual({ patient: anna, onlyCertainMatches: true, count: 100 });
  const bad: [unknown, RegExp][] = [
    [undefined, /Parameters body or a Patient/],
    [params([]), /"resource" parameter/],
    [params([{ name: 'resource', resource: { resourceType: 'Observation' } }]), /not a Observation/],
    [
      params([
        { name: 'resource', resource: anna },
        { name: 'resource', resource: anna },
      ]),
      /one "resource"/,
    ],
    [
      params([
        { name: 'resource', resource: anna },
        { name: 'count', valueInteger: 0 },
      ]),
      /positive integer/,
    ],
    [
      params([
        { name: 'resource', resource: anna },
        { name: 'onlyCertainMatches', valueString: 'yes' },
      ]),
      /valueBoolean/,
    ],
    [{ ...anna, birthDate: '03/02/1980' }, /birthDate/],
    [{ ...anna, gender: 1 }, /gender/],
    [{ ...anna, name: { family: 'x' } }, /Patient.name must be an array/],
    [{ ...anna, name: [{ given: 'Anna' }] }, /Patient.name.given/],
    [{ ...anna, telecom: [{ value: 5 }] }, /Patient.telecom.value/],
  ];
  for (const [body, message] of bad) {
    expect(() => parseMatchInput(body)).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringMatching(message) }),
    );
  }
});

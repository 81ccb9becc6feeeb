import type { Bundle, Observation, Patient, Resource, SearchParameter } from '@medplum/fhirtypes';
import { extractIndexEntries } from '../../../resources/search/extract';
import { MAX_INSTANT, type IndexEntry } from '../../../resources/search/index-entry';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { CURRENCY_SYSTEM } from '../../../resources/search/types/quantity';
import { example, sampleResources } from './samples';

const registry = SearchParameterRegistry.withBaseParameters();
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

const extract = (resource: object): IndexEntry[] => extractIndexEntries(registry, resource as Resource);
const entriesOf = (resource: object, param: string): IndexEntry[] =>
  extract(resource).filter((entry) => entry.param === param);
const ms = (iso: string): number => Date.parse(iso);

const reference = (fields: object) => ({
  type: 'reference',
  targetType: null,
  targetId: null,
  url: null,
  identifierSystem: null,
  identifierValue: null,
  ...fields,
});

describe('extractIndexEntries on the R4 example Patient', () => {
  const patient = example<Patient>('patient-example');
  const entries = extract(patient);

  it('indexes names part by part, for name, family and given', () => {
    expect(entriesOf(patient, 'family').map((e) => e.type === 'string' && e.exact)).toEqual(['Chalmers', 'Windsor']);
    expect(entriesOf(patient, 'given')).toContainEqual({ type: 'string', param: 'given', value: 'jim', exact: 'Jim' });
    expect(entriesOf(patient, 'name')).toHaveLength(5);
  });

  it('indexes the birth date as the whole day, in UTC', () => {
    expect(entriesOf(patient, 'birthdate')).toEqual([
      { type: 'date', param: 'birthdate', low: ms('1974-12-25T00:00:00Z'), high: ms('1974-12-25T23:59:59.999Z') },
    ]);
  });

  it('indexes codes, booleans, identifiers and contact points as tokens', () => {
    expect(entriesOf(patient, 'gender')).toEqual([
      { type: 'token', param: 'gender', system: null, code: 'male', text: null },
    ]);
    expect(entriesOf(patient, 'active')).toEqual([
      { type: 'token', param: 'active', system: null, code: 'true', text: null },
    ]);
    expect(entriesOf(patient, 'deceased')).toEqual([
      { type: 'token', param: 'deceased', system: null, code: 'false', text: null },
    ]);
    expect(entriesOf(patient, 'identifier')).toEqual([
      {
        type: 'token',
        param: 'identifier',
        system: 'urn:oid:1.2.36.146.595.217.0.1',
        code: '12345',
        text: null,
        typeSystem: 'http://terminology.hl7.org/CodeSystem/v2-0203',
        typeCode: 'MR',
      },
    ]);
    expect(entriesOf(patient, 'phone').map((e) => e.type === 'token' && e.code)).toEqual([
      '(03) 5555 6473',
      '(03) 3410 5613',
      '(03) 5555 8834',
    ]);
    expect(entriesOf(patient, 'email')).toEqual([]);
  });

  it('indexes address parts and the managing organization', () => {
    expect(entriesOf(patient, 'address-city')).toEqual([
      { type: 'string', param: 'address-city', value: 'pleasantville', exact: 'PleasantVille' },
    ]);
    expect(entriesOf(patient, 'organization')).toEqual([
      reference({ param: 'organization', targetType: 'Organization', targetId: '1' }),
    ]);
  });

  it('gives no entries for the row parameters', () => {
    expect(entries.filter((e) => e.param === '_id' || e.param === '_lastUpdated')).toEqual([]);
  });
});

describe('extractIndexEntries on the R4 example Observation', () => {
  const observation = example<Observation>('observation-example');

  it('indexes the code of every coding, with display text', () => {
    expect(entriesOf(observation, 'code')).toContainEqual({
      type: 'token',
      param: 'code',
      system: LOINC,
      code: '29463-7',
      text: 'body weight',
    });
    expect(entriesOf(observation, 'code')).toHaveLength(4);
  });

  it('indexes the value as a quantity at its exact value (no precision range)', () => {
    expect(entriesOf(observation, 'value-quantity')).toEqual([
      {
        type: 'quantity',
        param: 'value-quantity',
        low: 185,
        high: 185,
        system: UCUM,
        code: '[lb_av]',
        unit: 'lbs',
      },
    ]);
  });

  it('indexes subject under subject and, being a Patient, under patient', () => {
    const subject = reference({ targetType: 'Patient', targetId: 'example' });
    expect(entriesOf(observation, 'subject')).toEqual([{ ...subject, param: 'subject' }]);
    expect(entriesOf(observation, 'patient')).toEqual([{ ...subject, param: 'patient' }]);
  });

  it('indexes composites as groups of component entries', () => {
    const composite = entriesOf(observation, 'code-value-quantity$0').concat(
      entriesOf(observation, 'code-value-quantity$1'),
    );
    expect(composite).toHaveLength(5);
    expect(composite.every((entry) => entry.group === 0)).toBe(true);
    expect(entriesOf(observation, 'code-value-quantity$1')[0]).toMatchObject({ type: 'quantity', low: 185, high: 185 });
  });
});

describe('extractIndexEntries edge cases', () => {
  const bloodPressure = {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Group/g1' },
    effectivePeriod: { start: '2021-03-04T10:00:00+01:00' },
    component: [
      {
        code: { coding: [{ system: LOINC, code: '8480-6' }] },
        valueQuantity: { value: 120, system: UCUM, code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: LOINC, code: '8462-4' }] },
        valueQuantity: { value: 80, system: UCUM, code: 'mm[Hg]' },
      },
      { code: { coding: [{ system: LOINC, code: '9999-9' }] }, dataAbsentReason: { text: 'missing' } },
    ],
  };

  it('numbers composite groups by repetition and leaves out incomplete ones', () => {
    const codes = entriesOf(bloodPressure, 'component-code-value-quantity$0');
    const values = entriesOf(bloodPressure, 'component-code-value-quantity$1');
    expect(codes.map((e) => [e.group, e.type === 'token' && e.code])).toEqual([
      [0, '8480-6'],
      [1, '8462-4'],
    ]);
    expect(values.map((e) => [e.group, e.type === 'quantity' && e.low])).toEqual([
      [0, 120],
      [1, 80],
    ]);
    // The combo composite is the union of the two: it has no entries of its own.
    expect(entriesOf(bloodPressure, 'combo-code-value-quantity$0')).toEqual([]);
  });

  it('keeps no text-only token entries in composites: a composite value names codes, never text', () => {
    const observation = {
      ...bloodPressure,
      code: { coding: [{ system: LOINC, code: '85354-9' }], text: 'Blood pressure panel' },
      valueQuantity: { value: 1, system: UCUM, code: '1' },
    };
    expect(entriesOf(observation, 'code')).toContainEqual(
      expect.objectContaining({ code: null, text: 'blood pressure panel' }),
    );
    const components = entriesOf(observation, 'code-value-quantity$0');
    expect(components).toEqual([expect.objectContaining({ system: LOINC, code: '85354-9', group: 0 })]);
  });

  it('stores no entries for a union parameter: its members have them', () => {
    expect(entriesOf(bloodPressure, 'combo-code')).toEqual([]);
    expect(entriesOf(bloodPressure, 'code').length).toBeGreaterThan(0);
    expect(entriesOf(bloodPressure, 'component-code').length).toBeGreaterThan(0);
  });

  it('indexes an open Period up to MAX_INSTANT', () => {
    expect(entriesOf(bloodPressure, 'date')).toEqual([
      { type: 'date', param: 'date', low: ms('2021-03-04T09:00:00Z'), high: MAX_INSTANT },
    ]);
  });

  it('keeps `patient` to references that point at a Patient', () => {
    expect(entriesOf(bloodPressure, 'patient')).toEqual([]);
    expect(entriesOf(bloodPressure, 'subject')[0]).toMatchObject({ targetType: 'Group', targetId: 'g1' });
    const absolute = { ...bloodPressure, subject: { reference: 'https://other.org/fhir/Patient/p9' } };
    expect(entriesOf(absolute, 'patient')).toEqual([
      reference({ param: 'patient', url: 'https://other.org/fhir/Patient/p9', targetType: 'Patient', targetId: 'p9' }),
    ]);
    const logical = { ...bloodPressure, subject: { type: 'Patient', identifier: { system: 'urn:mrn', value: '7' } } };
    expect(entriesOf(logical, 'patient')).toEqual([
      reference({ param: 'patient', identifierSystem: 'urn:mrn', identifierValue: '7' }),
    ]);
  });

  it('evaluates composites whose components need fhirpath.js (code-value-date)', () => {
    const dated = { ...bloodPressure, component: undefined, valueDateTime: '2021-03-04' };
    expect(entriesOf(dated, 'code-value-date$1')).toEqual([
      {
        type: 'date',
        param: 'code-value-date$1',
        low: ms('2021-03-04T00:00:00Z'),
        high: ms('2021-03-04T23:59:59.999Z'),
        group: 0,
      },
    ]);
  });

  it('evaluates composites that reach back to the resource (%resource)', () => {
    const sequence = {
      resourceType: 'MolecularSequence',
      coordinateSystem: 0,
      referenceSeq: { chromosome: { coding: [{ system: 'http://x/chr', code: '1' }] } },
      variant: [{ start: 100, end: 101 }],
    };
    expect(entriesOf(sequence, 'chromosome-variant-coordinate$0')).toEqual([
      {
        type: 'token',
        param: 'chromosome-variant-coordinate$0',
        system: 'http://x/chr',
        code: '1',
        text: null,
        group: 0,
      },
    ]);
    expect(entriesOf(sequence, 'chromosome-variant-coordinate$1')[0]).toMatchObject({
      type: 'number',
      low: 100,
      high: 100,
    });
    expect(entriesOf(sequence, 'variant-start')[0]).toMatchObject({ type: 'number', low: 100, high: 100 });
  });

  it('indexes a death date and deceased=true', () => {
    const patient = { resourceType: 'Patient', deceasedDateTime: '2020-05' };
    expect(entriesOf(patient, 'deceased')[0]).toMatchObject({ code: 'true' });
    expect(entriesOf(patient, 'death-date')).toEqual([
      { type: 'date', param: 'death-date', low: ms('2020-05-01T00:00:00Z'), high: ms('2020-05-31T23:59:59.999Z') },
    ]);
  });

  it('indexes meta: _tag and _security as tokens, _profile and _source as uris', () => {
    const patient = {
      resourceType: 'Patient',
      meta: {
        tag: [{ system: 'urn:t', code: 'vip' }],
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
        profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|5.0.1'],
        source: 'urn:hms:lab#1',
        lastUpdated: '2020-01-01T00:00:00Z',
      },
    };
    expect(entriesOf(patient, '_tag')).toEqual([
      { type: 'token', param: '_tag', system: 'urn:t', code: 'vip', text: null },
    ]);
    expect(entriesOf(patient, '_security')[0]).toMatchObject({ code: 'R' });
    expect(entriesOf(patient, '_profile').map((e) => e.type === 'uri' && e.value)).toEqual([
      'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|5.0.1',
      'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient',
    ]);
    expect(entriesOf(patient, '_source')).toEqual([{ type: 'uri', param: '_source', value: 'urn:hms:lab#1' }]);
    expect(entriesOf(patient, '_lastUpdated')).toEqual([]);
  });

  it('indexes a Timing by its outer limits (CarePlan activity-date)', () => {
    const carePlan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/1' },
      activity: [{ detail: { status: 'scheduled', scheduledTiming: { event: ['2021-01-01', '2021-01-10'] } } }],
    };
    expect(entriesOf(carePlan, 'activity-date')).toEqual([
      { type: 'date', param: 'activity-date', low: ms('2021-01-01T00:00:00Z'), high: ms('2021-01-10T23:59:59.999Z') },
    ]);
  });

  it('indexes Money, decimals and Ranges', () => {
    const invoice = { resourceType: 'Invoice', status: 'issued', totalNet: { value: 40.25, currency: 'USD' } };
    expect(entriesOf(invoice, 'totalnet')).toEqual([
      {
        type: 'quantity',
        param: 'totalnet',
        low: 40.25,
        high: 40.25,
        system: CURRENCY_SYSTEM,
        code: 'USD',
        unit: null,
      },
    ]);
    const risk = {
      resourceType: 'RiskAssessment',
      status: 'final',
      subject: { reference: 'Patient/1' },
      prediction: [{ probabilityDecimal: 0.25 }, { probabilityRange: { low: { value: 1 }, high: { value: 2 } } }],
    };
    expect(entriesOf(risk, 'probability').map((e) => e.type === 'number' && [e.low, e.high])).toEqual([
      [0.25, 0.25],
      [1, 2],
    ]);
  });

  it('indexes canonical references by URL, and the first resource of a document Bundle', () => {
    const response = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: 'http://hms.example/Questionnaire/intake|3',
    };
    // Without the version for any-version searches, and as written for `questionnaire=...|3`.
    expect(entriesOf(response, 'questionnaire')).toEqual([
      reference({ param: 'questionnaire', url: 'http://hms.example/Questionnaire/intake' }),
      reference({ param: 'questionnaire', url: 'http://hms.example/Questionnaire/intake|3' }),
    ]);
    const document: Bundle = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [{ resource: { resourceType: 'Composition', id: 'c1' } as Resource }],
    };
    expect(entriesOf(document, 'composition')).toEqual([
      reference({ param: 'composition', targetType: 'Composition', targetId: 'c1' }),
    ]);
  });

  it('deduplicates identical entries of one parameter', () => {
    const patient = {
      resourceType: 'Patient',
      name: [
        { family: 'Doe', given: ['Jo'] },
        { family: 'Doe', given: ['Jo'] },
      ],
    };
    expect(entriesOf(patient, 'family')).toHaveLength(1);
    expect(entriesOf(patient, 'name')).toHaveLength(2);
  });

  it('skips empty and unreadable values without failing', () => {
    const odd = {
      resourceType: 'Patient',
      name: [{}],
      _birthDate: {
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }],
      },
      telecom: [{ system: 'phone' }],
      generalPractitioner: [{ reference: '#contained' }, { reference: 'Organization?identifier=x' }],
      address: [{ period: { start: 'not a date' } }],
    };
    // The contained reference is a value (for :missing); the conditional one gives nothing.
    expect(extract(odd).map((e) => e.param)).toEqual(['deceased', 'general-practitioner']);
    expect(entriesOf(odd, 'general-practitioner')).toEqual([
      reference({ param: 'general-practitioner', url: '#contained' }),
    ]);
    expect(extract({ resourceType: 'Nope' })).toEqual([]);
  });

  it('indexes nothing for a composite whose components are not all known yet', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter({
      resourceType: 'SearchParameter',
      url: 'http://hms.example/SearchParameter/name-pair',
      name: 'name-pair',
      status: 'active',
      description: 'family with a parameter defined later',
      code: 'name-pair',
      base: ['Patient'],
      type: 'composite',
      expression: 'Patient.name',
      component: [
        { definition: 'http://hl7.org/fhir/SearchParameter/individual-family', expression: 'family' },
        { definition: 'http://hms.example/SearchParameter/later', expression: 'given' },
      ],
    });
    const entries = extractIndexEntries(local, { resourceType: 'Patient', name: [{ family: 'Doe', given: ['J'] }] });
    expect(entries.filter((e) => e.param.startsWith('name-pair'))).toEqual([]);
    expect(entries.filter((e) => e.param === 'family')).toHaveLength(1);
  });

  it('never lets one failing expression stop the others', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    const single: SearchParameter = {
      resourceType: 'SearchParameter',
      url: 'http://hms.example/SearchParameter/only-given',
      name: 'only-given',
      status: 'active',
      description: 'fails on several given names',
      code: 'only-given',
      base: ['Patient'],
      type: 'string',
      expression: 'Patient.name.given.single()',
    };
    local.addSearchParameter(single);
    const patient = { resourceType: 'Patient', gender: 'female', name: [{ given: ['A', 'B'] }] };
    const entries = extractIndexEntries(local, patient as Patient);
    expect(entries.filter((e) => e.param === 'only-given')).toEqual([]);
    expect(entries.filter((e) => e.param === 'gender')).toHaveLength(1);
    expect(extractIndexEntries(local, { ...patient, name: [{ given: ['A'] }] } as Patient)).toContainEqual({
      type: 'string',
      param: 'only-given',
      value: 'a',
      exact: 'A',
    });
  });
});

describe('extractIndexEntries over all sample resources', () => {
  it('evaluates every parameter of every sample without an error, and indexes each resource', () => {
    const failures: string[] = [];
    let entries = 0;
    for (const resource of sampleResources()) {
      for (const definition of registry.forResourceType(resource.resourceType)) {
        try {
          const roots = definition.evaluate?.(resource, { resource }) ?? [];
          definition.components?.forEach((component) =>
            roots.forEach((root) => component.evaluate(root, { resource })),
          );
        } catch (err) {
          failures.push(`${resource.resourceType}/${resource.id} ${definition.code}: ${(err as Error).message}`);
        }
      }
      const extracted = extract(resource);
      entries += extracted.length;
      // Two HL7 examples carry nothing a search parameter reads (a Parameters, an EOB of only supportingInfo).
      if (extracted.length === 0 && !['Parameters', 'ExplanationOfBenefit'].includes(resource.resourceType)) {
        failures.push(`${resource.resourceType}/${resource.id}: no entries`);
      }
    }
    expect(failures).toEqual([]);
    expect(entries).toBeGreaterThan(10_000);
  });
});

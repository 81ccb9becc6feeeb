// ADT mappings as pure functions: every ADT sample maps, selected samples field by field (PID, PV1, NK1,
// IN1, DG1), Encounter status per trigger, deterministic keys, errors with their ERR locations, A40 merge.
import type {
  AllergyIntolerance,
  Bundle,
  BundleEntry,
  Condition,
  Coverage,
  Encounter,
  Location,
  Organization,
  Patient,
  Practitioner,
  RelatedPerson,
  Resource,
} from '@medplum/fhirtypes';
import { adtMergeToBundle, adtToBundle } from '../../../../integrations/hl7v2/mappings/adt';
import type { MappingContext } from '../../../../integrations/hl7v2/mappings/context';
import type { MappedPatient } from '../../../../integrations/hl7v2/mappings/pid';
import { MappingError } from '../../../../integrations/hl7v2/mappings/types';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture, hl7FixtureBytes, hl7FixtureNames, testMappingContext } from '../../../support/hl7';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ADT_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('adt_') && !n.includes('batch'));

/** The channel's sender is MSH-4 (MSH-3 when empty), as the bridge sets it. */
const contextOf = (message: V2Message): MappingContext =>
  testMappingContext({ sender: message.header.sendingFacility || message.header.sendingApplication });

function mapText(text: string): Bundle {
  const message = V2Message.parse(text);
  return adtToBundle(message, contextOf(message));
}

const mapFixture = (name: string) => mapText(hl7Fixture(name));

const entriesOf = (bundle: Bundle, type: string): BundleEntry[] =>
  (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type);
const resourcesOf = <T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] =>
  entriesOf(bundle, type).map((e) => e.resource as T);
const only = <T extends Resource>(bundle: Bundle, type: T['resourceType']): T => {
  const found = resourcesOf<T>(bundle, type);
  expect(found).toHaveLength(1);
  return found[0];
};
const fullUrlOf = (bundle: Bundle, resource: Resource) => bundle.entry?.find((e) => e.resource === resource)?.fullUrl;
const urlOf = (bundle: Bundle, resource: Resource) => bundle.entry?.find((e) => e.resource === resource)?.request?.url;

/** Sets field `n` of the first segment `name` (not MSH) in message text, padding with empty fields. */
function setField(text: string, name: string, n: number, value: string): string {
  const segments = text.split('\r');
  const i = segments.findIndex((s) => s.startsWith(`${name}|`));
  const fields = segments[i].split('|');
  while (fields.length <= n) fields.push('');
  fields[n] = value;
  segments[i] = fields.join('|');
  return segments.join('\r');
}
const replaceSegment = (text: string, name: string, segment: string) =>
  text
    .split('\r')
    .map((s) => (s.startsWith(`${name}|`) ? segment : s))
    .join('\r');
const withTrigger = (text: string, trigger: string) => setField(text, 'MSH', 8, `ADT^${trigger}^ADT_A01`);

const A01_02 = hl7Fixture('adt_a01_02.hl7');

describe('every ADT sample', () => {
  test.each(ADT_FIXTURES)('%s maps to a valid-looking transaction', (name) => {
    const bundle = mapFixture(name);
    expect(bundle.type).toBe('transaction');
    const [first] = bundle.entry ?? [];
    expect(first.resource?.resourceType).toBe('Patient');
    expect(first.request).toEqual({ method: 'PUT', url: expect.stringMatching(/^Patient\?identifier=/) });
    const fullUrls = new Set(bundle.entry?.map((e) => e.fullUrl));
    for (const entry of bundle.entry ?? []) {
      const json = JSON.stringify(entry.resource);
      // No v2 nulls, empty strings, arrays or objects reach the server.
      expect(json).not.toMatch(/:""|:\[\]|:\{\}|\\"\\"/);
      expect(entry.resource?.meta?.source).toBe('hl7v2:test#msg-1');
      for (const [, reference] of json.matchAll(/"reference":"(urn:uuid:[^"]+)"/g)) {
        expect(fullUrls).toContain(reference);
      }
    }
  });

  test('the same message maps to the same conditional writes (deterministic keys)', () => {
    for (const name of ADT_FIXTURES) {
      const urls = (b: Bundle) => b.entry?.map((e) => `${e.request?.method} ${e.request?.url}`);
      expect(urls(mapFixture(name))).toEqual(urls(mapFixture(name)));
    }
  });
});

describe('adt_a01_02 (v2.5.1 textbook A01)', () => {
  const bundle = mapFixture('adt_a01_02.hl7');
  const patient = only<Patient>(bundle, 'Patient');
  const encounter = only<Encounter>(bundle, 'Encounter');
  const patientUrl = fullUrlOf(bundle, patient);

  test('Patient from PID', () => {
    expect(urlOf(bundle, patient)).toBe('Patient?identifier=urn%3Ahms%3Av2%3AADT1%7CPATID1234');
    expect(patient.identifier).toEqual([
      { type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: 'urn:hms:v2:ADT1', value: 'PATID1234' },
      { type: { coding: [{ system: V2_0203, code: 'SS' }] }, system: 'urn:hms:v2:USSSA', value: '123456789' },
      {
        type: { coding: [{ system: V2_0203, code: 'SS' }] },
        system: 'http://hl7.org/fhir/sid/us-ssn',
        value: '444333333',
      },
    ]);
    expect(patient.name).toEqual([{ family: 'EVERYMAN', given: ['ADAM', 'A'], suffix: ['III'] }]);
    expect(patient.gender).toBe('male');
    expect(patient.birthDate).toBe('1961-06-15');
    expect((patient as MappedPatient)._birthDate).toBeUndefined();
    expect(patient.address).toEqual([
      { line: ['2222 HOME STREET'], city: 'GREENSBORO', state: 'NC', postalCode: '27401-1020', district: 'GL' },
    ]);
    expect(patient.telecom).toEqual([
      { system: 'phone', value: '(555) 555-2004', use: 'home' },
      { system: 'phone', value: '(555)555-2004', use: 'work' },
    ]);
    expect(patient.maritalStatus?.coding).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/v2-0002', code: 'S' },
    ]);
  });

  test('Encounter from PV1, keyed on MR when PV1-19 and PV1-44 are empty', () => {
    expect(encounter.identifier).toEqual([
      {
        type: { coding: [{ system: V2_0203, code: 'VN' }] },
        system: 'urn:hms:v2:visit:GOOD%20HEALTH%20HOSPITAL',
        value: 'PATID1234',
      },
    ]);
    expect(urlOf(bundle, encounter)).toBe(
      'Encounter?identifier=urn%3Ahms%3Av2%3Avisit%3AGOOD%2520HEALTH%2520HOSPITAL%7CPATID1234',
    );
    expect(encounter.status).toBe('in-progress');
    expect(encounter.class).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: 'IMP',
      display: 'inpatient encounter',
    });
    expect(encounter.subject).toEqual({ reference: patientUrl });
    expect(encounter.serviceType?.coding?.[0].code).toBe('SUR');
    expect(encounter.hospitalization?.admitSource?.coding?.[0].code).toBe('ADM');
    const practitioner = only<Practitioner>(bundle, 'Practitioner');
    expect(practitioner.identifier?.[0].value).toBe('004777');
    expect(practitioner.name).toEqual([{ family: 'ATTEND', given: ['AARON', 'A'] }]);
    expect(encounter.participant).toEqual([
      {
        type: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                code: 'ATND',
                display: 'attender',
              },
            ],
          },
        ],
        individual: { reference: fullUrlOf(bundle, practitioner), display: 'AARON A ATTEND' },
      },
    ]);
    const location = only<Location>(bundle, 'Location');
    expect(location).toMatchObject({ name: '2000 2012 01', status: 'active', mode: 'instance' });
    expect(location.physicalType?.coding?.[0].code).toBe('bd');
    expect(encounter.location).toEqual([
      { location: { reference: fullUrlOf(bundle, location), display: '2000 2012 01' }, status: 'active' },
    ]);
  });

  test('RelatedPerson from NK1', () => {
    const person = only<RelatedPerson>(bundle, 'RelatedPerson');
    expect(person.identifier).toEqual([
      { system: 'urn:hms:v2:related-person:GOOD%20HEALTH%20HOSPITAL', value: 'PATID1234-1' },
    ]);
    expect(person.patient).toEqual({ reference: patientUrl });
    expect(person.name).toEqual([{ family: 'NUCLEAR', given: ['NELDA', 'W'] }]);
    expect(person.relationship).toEqual([
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0063', code: 'SPO', display: 'SPOUSE' }] },
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'NK', display: 'NEXT OF KIN' }] },
    ]);
  });
});

describe('adt_a01_03 (Cerner v2.3, "" nulls, DG1, 3 IN1)', () => {
  const bundle = mapFixture('adt_a01_03.hl7');
  const patient = only<Patient>(bundle, 'Patient');
  const encounter = only<Encounter>(bundle, 'Encounter');

  test('Patient: PID-2/3/4 repetitions and PID-19, one name for PID-5 repeated in PID-9', () => {
    expect(patient.identifier?.map((i) => `${i.system}|${i.value}|${i.type?.coding?.[0].code ?? ''}`)).toEqual([
      'urn:hms:v2:MSH_MRN|2148790|MR',
      'urn:hms:v2:MSH_EMPI|162840|CM',
      'urn:hms:v2:MSH_DTC|3722|REFE',
      'urn:hms:v2:IID|184737|DONOR',
      'urn:hms:v2:MSQ_MRN|Q2147670|',
      'http://hl7.org/fhir/sid/us-ssn|125544697|SS',
    ]);
    expect(patient.name).toEqual([{ family: 'RUFUSS', given: ['MELLODIAL'] }]);
    expect(patient.gender).toBe('female');
    expect(patient.address?.[0]).toMatchObject({
      line: ['221 CANVIEW AVENUE', '66-D'],
      city: 'BRONX',
      district: '058',
    });
    expect(patient.extension).toEqual([
      {
        url: 'http://hl7.org/fhir/StructureDefinition/patient-religion',
        valueCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0006', code: 'PEN' }] },
      },
    ]);
    expect(patient.communication?.[0].language.coding?.[0].code).toBe('ENGLISH');
  });

  test('one Practitioner for PV1-7, PV1-8 and PV1-17; PV1-9 "" names nobody', () => {
    const practitioner = only<Practitioner>(bundle, 'Practitioner');
    expect(practitioner.identifier).toEqual([{ system: 'urn:hms:v2:HNA500', value: '03525' }]);
    const url = fullUrlOf(bundle, practitioner);
    expect(encounter.participant?.map((p) => [p.type?.[0].coding?.[0].code, p.individual?.reference])).toEqual([
      ['ATND', url],
      ['REF', url],
      ['ADM', url],
    ]);
  });

  test('Encounter: PV1-19 visit number, admit time, pre-admit number', () => {
    expect(encounter.identifier).toEqual([
      { system: 'urn:hms:v2:HNA500', value: '01', type: { coding: [{ system: V2_0203, code: 'VN' }] } },
    ]);
    expect(encounter.period).toEqual({ start: '2014-02-10T22:53:00Z' });
    expect(encounter.hospitalization?.preAdmissionIdentifier?.value).toBe('863968');
    expect(encounter.type?.map((t) => t.coding?.[0].code)).toEqual(['4', 'I']);
  });

  test('Condition from DG1 and Encounter.diagnosis', () => {
    const condition = only<Condition>(bundle, 'Condition');
    expect(condition.identifier).toEqual([{ system: 'urn:hms:v2:condition:HNA500', value: '01-0001' }]);
    expect(condition.code?.coding?.[0]).toMatchObject({ code: '440.21', display: 'ATHEROSCLEROSIS W/INT CLAUDCTN' });
    expect(condition.subject).toEqual({ reference: fullUrlOf(bundle, patient) });
    expect(condition.encounter).toEqual({ reference: fullUrlOf(bundle, encounter) });
    expect(condition.category?.[0].coding?.[0].code).toBe('encounter-diagnosis');
    expect(condition.onsetDateTime).toBeUndefined(); // DG1-5 is ""
    expect(encounter.diagnosis).toEqual([
      {
        condition: { reference: fullUrlOf(bundle, condition) },
        use: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role',
              code: 'AD',
              display: 'Admission diagnosis',
            },
            { system: 'http://terminology.hl7.org/CodeSystem/v2-0052', code: 'A' },
          ],
        },
        rank: 9,
      },
    ]);
  });

  test('Coverage and insurer Organization from each IN1', () => {
    const coverages = resourcesOf<Coverage>(bundle, 'Coverage');
    const organizations = resourcesOf<Organization>(bundle, 'Organization');
    expect(coverages.map((c) => c.identifier?.[0].value)).toEqual([
      '2148790-A10--JNJ45517',
      '2148790-MEDICAID-',
      '2148790-SELF-PAY-',
    ]);
    expect(organizations.map((o) => `${o.identifier?.[0].system}|${o.identifier?.[0].value}`)).toEqual([
      'urn:hms:v2:HNA500|A10',
      'urn:hms:v2:organization:HNA500|MEDICAID',
      'urn:hms:v2:organization:HNA500|SELF-PAY',
    ]);
    // IN1-5 `PO BOX 223^""^NEW YORK...`: the v2 null is not an address line.
    expect(organizations[0]).toMatchObject({
      name: 'HIP COMP MCAID',
      address: [{ line: ['PO BOX 223'], city: 'NEW YORK', state: 'NY', postalCode: '10116', country: 'US' }],
    });
    expect(coverages[0]).toMatchObject({
      status: 'active',
      beneficiary: { reference: fullUrlOf(bundle, patient) },
      payor: [{ reference: fullUrlOf(bundle, organizations[0]), display: 'HIP COMP MCAID' }],
      subscriberId: '-JNJ45517',
      relationship: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0063', code: '4', display: 'SELF' }],
      },
      class: [{ value: 'A10A' }],
    });
  });
});

describe('adt_a08_02 (German ORBIS A08, non-ASCII, no PV1)', () => {
  test('the file is UTF-8 without MSH-18, and its umlauts survive the mapping', () => {
    const bytes = hl7FixtureBytes('adt_a08_02.hl7');
    expect(bytes.includes(Buffer.from('Böckler', 'utf8'))).toBe(true);
    const text = bytes.toString('utf8');
    const message = V2Message.parse(text);
    expect(message.header.charset).toBe('');
    const bundle = adtToBundle(message, contextOf(message));
    const insurer = only<Organization>(bundle, 'Organization');
    expect(insurer.name).toBe('Die Gesundheitskasse');
    expect(insurer.alias).toEqual(['Comp 2', 'Comp 3']);
    expect(insurer.address?.[0]).toEqual({
      line: ['Hans-Böckler-Allee 30'],
      city: 'Hannover',
      postalCode: '30001',
      country: 'D',
    });
    expect(JSON.stringify(bundle)).not.toContain('Ã');
  });

  test('Patient, next of kin and coverage; an A08 without PV1 writes no Encounter', () => {
    const bundle = mapFixture('adt_a08_02.hl7');
    const patient = only<Patient>(bundle, 'Patient');
    expect(patient).toMatchObject({
      identifier: [{ system: 'urn:hms:v2:SKL', value: '1000' }],
      name: [{ family: 'Test', given: ['Max'] }],
      gender: 'female',
      birthDate: '1937-06-09',
      multipleBirthBoolean: false,
      address: [{ line: ['NoSuch Str. 20'], city: 'Luneburg', postalCode: '21337', country: 'D' }],
    });
    expect(resourcesOf(bundle, 'Encounter')).toEqual([]);
    const person = only<RelatedPerson>(bundle, 'RelatedPerson');
    expect(person.name).toEqual([{ family: 'Fr.Test' }]);
    expect(person.relationship?.[0].coding?.[0]).toMatchObject({ code: '6', display: 'Tochter' });
    expect(person.gender).toBe('unknown');
    const coverage = only<Coverage>(bundle, 'Coverage');
    expect(coverage.identifier?.[0]).toEqual({ system: 'urn:hms:v2:coverage:SKL', value: '1000-102114819-S890768688' });
    expect(coverage.subscriberId).toBe('S8907');
  });
});

describe('adt_a03_02 (v2.8 "every field" A03)', () => {
  const bundle = mapFixture('adt_a03_02.hl7');
  const patient = only<MappedPatient>(bundle, 'Patient');
  const encounter = only<Encounter>(bundle, 'Encounter');

  test('Patient: identifiers, names, extensions, birth time, death, multiple birth, language', () => {
    expect(urlOf(bundle, patient)).toBe('Patient?identifier=urn%3Ahms%3Av2%3Atest1%7CPATID1234');
    expect(patient.identifier?.map((i) => `${i.system}|${i.value}`)).toEqual([
      'urn:hms:v2:test|1234567',
      'urn:hms:v2:test1|PATID1234',
      'urn:hms:v2:USSSA|123456789',
      'urn:hms:v2:test2|PATID567',
      'http://hl7.org/fhir/sid/us-ssn|PSSN123121234',
    ]);
    expect(patient.name?.[0]).toEqual({
      family: 'EVERYMAN',
      given: ['ADAM', 'A'],
      suffix: ['III'],
      prefix: ['Dr.'],
      use: 'usual',
    });
    expect(patient.name).toHaveLength(3);
    expect(patient.extension).toContainEqual({
      url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName',
      valueString: 'SMITH',
    });
    expect(patient.birthDate).toBe('1988-08-18');
    expect(patient._birthDate).toEqual({
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
          valueDateTime: '1988-08-18T11:26:00+02:15',
        },
      ],
    });
    expect(patient.gender).toBe('male');
    expect(patient.deceasedDateTime).toBe('2008-08-25T11:16:30+01:15');
    expect(patient.deceasedBoolean).toBeUndefined();
    expect(patient.multipleBirthInteger).toBe(2);
    expect(patient.maritalStatus).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0002', code: 'M', display: 'Married' }],
    });
    expect(patient.communication?.[0].language.coding?.map((c) => c.code)).toEqual(['ara', 'eng']);
    expect(patient.telecom?.map((c) => c.use)).toEqual(['mobile', 'mobile', 'mobile', 'work']);
  });

  test('Encounter: finished with PV1-45, class, participants, locations, hospitalization', () => {
    expect(encounter.status).toBe('finished');
    expect(encounter.class.code).toBe('PRENC');
    expect(encounter.period).toEqual({ start: '2015-02-08T11:34:19+01:10', end: '2015-02-09T11:34:19+01:10' });
    expect(encounter.identifier?.[0]).toMatchObject({ system: 'urn:hms:v2:AccMng', value: '40007716' });
    expect(encounter.participant?.map((p) => p.type?.[0].coding?.[0].code)).toEqual([
      'ATND',
      'REF',
      'CON',
      'ADM',
      'PART',
    ]);
    expect(resourcesOf<Practitioner>(bundle, 'Practitioner')).toHaveLength(5);
    const locations = resourcesOf<Location>(bundle, 'Location');
    expect(encounter.location?.map((l) => [l.location.display, l.status])).toEqual([
      ['HUH AE OMU OMU B Bed 03', 'completed'], // PV1-3 of a finished visit
      ['4 East, room 136, bed B 4E 136 B', 'completed'], // PV1-6 prior
      ['POC Room-2 Bed-103', 'planned'], // PV1-42 pending
      ['Nursing home', 'completed'], // PV1-43 prior temporary
    ]);
    expect(locations[0].identifier?.[0]).toEqual({
      system: 'urn:hms:v2:location:GHHSFacility',
      value: 'HOMERTON UNIVER^HUH AE OMU^OMU B^Bed 03',
    });
    expect(encounter.hospitalization?.admitSource?.coding?.[0].code).toBe('NHS Provider-General (inc.A&E-this Hosp)');
    expect(encounter.hospitalization?.reAdmission?.coding?.[0].code).toBe('R');
    expect(encounter.hospitalization?.dietPreference?.[0].coding?.[0]).toMatchObject({ code: 'Vegan' });
    expect(encounter.hospitalization?.destination).toEqual({ display: 'Homes' });
  });
});

describe('Encounter status by trigger', () => {
  const pv1With = (admit: string, discharge: string) =>
    setField(setField(A01_02, 'PV1', 44, admit), 'PV1', 45, discharge);
  const statusOf = (text: string) => only<Encounter>(mapText(text), 'Encounter').status;

  test.each([
    ['A01', '', '', 'in-progress'],
    ['A02', '', '', 'in-progress'],
    ['A03', '20240102', '', 'finished'],
    ['A04', '202401011200', '', 'arrived'],
    ['A04', '', '', 'planned'],
    ['A05', '', '', 'planned'],
    ['A08', '202401011200', '202401021200', 'finished'],
    ['A08', '202401011200', '', 'in-progress'],
    ['A08', '', '', 'unknown'],
    ['A11', '202401011200', '', 'cancelled'],
    ['A13', '202401011200', '', 'in-progress'],
  ])('%s with PV1-44 %p and PV1-45 %p -> %s', (trigger, admit, discharge, status) => {
    expect(statusOf(withTrigger(pv1With(admit, discharge), trigger))).toBe(status);
  });

  test('A13 (cancel discharge) reopens the visit: PV1-45 is not its end', () => {
    const encounter = only<Encounter>(mapText(withTrigger(pv1With('20240101', '20240102'), 'A13')), 'Encounter');
    expect(encounter.period).toEqual({ start: '2024-01-01' });
  });

  test('A02 transfer: PV1-3 is the new bed, PV1-6 the prior one', () => {
    const text = setField(withTrigger(A01_02, 'A02'), 'PV1', 6, '1000^1001^02');
    const bundle = mapText(text);
    expect(only<Encounter>(bundle, 'Encounter').location?.map((l) => [l.location.display, l.status])).toEqual([
      ['2000 2012 01', 'active'],
      ['1000 1001 02', 'completed'],
    ]);
  });

  test('without PV1-19 the admit time PV1-44 joins the MR in the visit key', () => {
    const encounter = only<Encounter>(mapText(setField(A01_02, 'PV1', 44, '20240101120000')), 'Encounter');
    expect(encounter.identifier?.[0].value).toBe('PATID1234-20240101120000');
    expect(encounter.period).toEqual({ start: '2024-01-01T12:00:00Z' });
  });

  test('an empty PV1 (A08) writes no Encounter but the Patient', () => {
    const bundle = mapText(replaceSegment(withTrigger(A01_02, 'A08'), 'PV1', 'PV1|1'));
    expect(resourcesOf(bundle, 'Encounter')).toEqual([]);
    expect(resourcesOf(bundle, 'Patient')).toHaveLength(1);
  });
});

describe('PID and PD1 variants', () => {
  test('PID-30 death indicator, PID-24 multiple birth, PID-8 U', () => {
    let text = setField(A01_02, 'PID', 30, 'Y');
    text = setField(setField(text, 'PID', 24, 'Y'), 'PID', 8, 'U');
    const patient = only<Patient>(mapText(text), 'Patient');
    expect(patient).toMatchObject({ deceasedBoolean: true, multipleBirthBoolean: true, gender: 'unknown' });
  });

  test('PD1-3 facility and PD1-4 provider are the general practitioners; the PV1-7 doctor is reused', () => {
    const text = A01_02.replace('\rNK1|', '\rPD1|||Good Practice^^GP77|004777^ATTEND^AARON^A\rNK1|');
    const bundle = mapText(text);
    const patient = only<Patient>(bundle, 'Patient');
    const practitioner = only<Practitioner>(bundle, 'Practitioner');
    const practice = only<Organization>(bundle, 'Organization');
    expect(practice).toMatchObject({ name: 'Good Practice', identifier: [{ value: 'GP77' }] });
    expect(patient.generalPractitioner).toEqual([
      { reference: fullUrlOf(bundle, practice), display: 'Good Practice' },
      { reference: fullUrlOf(bundle, practitioner), display: 'AARON A ATTEND' },
    ]);
  });

  test('AL1 -> AllergyIntolerance keyed on the allergen', () => {
    const text = `${A01_02}\rAL1|1|DA|70618^Penicillin^RXNORM|SV|Hives~Wheezing|20200101`;
    const bundle = mapText(text);
    const allergy = only<AllergyIntolerance>(bundle, 'AllergyIntolerance');
    expect(allergy).toMatchObject({
      identifier: [{ system: 'urn:hms:v2:allergy:GOOD%20HEALTH%20HOSPITAL', value: 'PATID1234-70618' }],
      category: ['medication'],
      criticality: 'high',
      code: { coding: [{ code: '70618', display: 'Penicillin' }] },
      patient: { reference: fullUrlOf(bundle, only<Patient>(bundle, 'Patient')) },
      onsetDateTime: '2020-01-01',
      reaction: [{ manifestation: [{ text: 'Hives' }] }, { manifestation: [{ text: 'Wheezing' }] }],
    });
    expect(allergy.clinicalStatus?.coding?.[0].code).toBe('active');
  });
});

describe('errors', () => {
  const errorOf = (run: () => unknown): MappingError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(MappingError);
      return error as MappingError;
    }
    throw new Error('no MappingError');
  };

  test('PID without an identifier: PID^1^3', () => {
    const text = setField(A01_02, 'PID', 3, '');
    expect(errorOf(() => mapText(text))).toMatchObject({ location: 'PID^1^3', code: '101' });
  });

  test('PV1 without the patient class: PV1^1^2', () => {
    expect(errorOf(() => mapText(setField(A01_02, 'PV1', 2, ''))).location).toBe('PV1^1^2');
  });

  test('an event the mapping does not handle: 201', () => {
    expect(errorOf(() => mapText(withTrigger(A01_02, 'A40'))).code).toBe('201');
  });
});

describe('A40 merge (adtMergeToBundle)', () => {
  const pid = A01_02.split('\r').find((s) => s.startsWith('PID|')) ?? '';
  const survivorPid = pid.replace('PATID1234^5^M11^ADT1^MR', 'PATID9999^5^M11^ADT1^MR');
  const a40 = (mrg: string) =>
    [
      'MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB, INC.|GOOD HEALTH HOSPITAL|19880818113000+0700||ADT^A40^ADT_A39|MSG00002|P|2.5.1',
      'EVN|A40|19880818113000+0700',
      survivorPid,
      mrg,
    ].join('\r');
  const merge = (text: string) => {
    const message = V2Message.parse(text);
    return adtMergeToBundle(message, contextOf(message));
  };

  test('the survivor replaces the prior patient, which is patched inactive and replaced-by', () => {
    const bundle = merge(a40('MRG|PATID1234^5^M11^ADT1^MR^GOOD HEALTH HOSPITAL'));
    const [survivorEntry, patchEntry] = bundle.entry ?? [];
    expect(survivorEntry.request).toEqual({
      method: 'PUT',
      url: 'Patient?identifier=urn%3Ahms%3Av2%3AADT1%7CPATID9999',
    });
    expect(survivorEntry.resource).toMatchObject({
      resourceType: 'Patient',
      active: true,
      name: [{ family: 'EVERYMAN' }],
      link: [{ type: 'replaces', other: { reference: 'Patient?identifier=urn%3Ahms%3Av2%3AADT1%7CPATID1234' } }],
    });
    expect(patchEntry.request).toEqual({
      method: 'PATCH',
      url: 'Patient?identifier=urn%3Ahms%3Av2%3AADT1%7CPATID1234',
    });
    const binary = patchEntry.resource as { contentType: string; data: string };
    expect(binary.contentType).toBe('application/json-patch+json');
    expect(JSON.parse(Buffer.from(binary.data, 'base64').toString())).toEqual([
      { op: 'add', path: '/active', value: false },
      { op: 'add', path: '/link', value: [{ type: 'replaced-by', other: { reference: survivorEntry.fullUrl } }] },
    ]);
  });

  test('a missing MRG, or an MRG naming the survivor, is an error at MRG^1^1', () => {
    const errorOf = (text: string) => {
      try {
        merge(text);
      } catch (error) {
        return error as MappingError;
      }
      throw new Error('no error');
    };
    expect(errorOf(a40('ZZZ|1'))).toMatchObject({ location: 'MRG^1^1', code: '101' });
    expect(errorOf(a40('MRG|PATID9999^^^ADT1^MR'))).toMatchObject({ location: 'MRG^1^1' });
  });
});

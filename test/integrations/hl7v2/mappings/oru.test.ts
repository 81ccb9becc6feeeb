// ORU^R01 -> DiagnosticReport / Observation / Specimen: field by field on the sample lab messages, every
// oru fixture's shape, and synthetic messages for each OBX-2 value type, status, range and grouping rule.
import type {
  Bundle,
  BundleEntry,
  DiagnosticReport,
  Observation,
  Organization,
  Practitioner,
  Resource,
  Specimen,
} from '@medplum/fhirtypes';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { rangeBounds } from '../../../../integrations/hl7v2/mappings/obx';
import { oruToBundle, patientResults, skippedObservations } from '../../../../integrations/hl7v2/mappings/oru';
import { MappingError } from '../../../../integrations/hl7v2/mappings/types';
import { hl7FixtureNames, parseFixture, testMappingContext } from '../../../support/hl7';

const context = testMappingContext();
const ORU_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('oru_r01_'));
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const mapFixture = (name: string): Bundle => oruToBundle(parseFixture(name), context);

function ofType<T extends Resource>(bundle: Bundle, type: T['resourceType']): Array<BundleEntry<T>> {
  return (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type) as Array<BundleEntry<T>>;
}
const resources = <T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] =>
  ofType<T>(bundle, type).map((e) => e.resource as T);
const byFullUrl = (bundle: Bundle, reference: string | undefined): Resource | undefined =>
  bundle.entry?.find((e) => e.fullUrl === reference)?.resource;
const observationCoded = (bundle: Bundle, code: string): Observation => {
  const found = resources<Observation>(bundle, 'Observation').find((o) => o.code.coding?.[0]?.code === code);
  if (!found) throw new Error(`No Observation coded ${code}`);
  return found;
};

/** A synthetic v2.5.1 ORU with the given segments after MSH. */
function oru(...segments: string[]): V2Message {
  return V2Message.parse(
    ['MSH|^~\\&|LIS|LAB|HMS|HOSP|20240301120000+0100||ORU^R01^ORU_R01|MSG1|P|2.5.1', ...segments].join('\r'),
  );
}
const PID = 'PID|1||P100^^^HOSP^MR||DOE^JANE||19800101|F';
const OBR = 'OBR|1|PL1^OE|F1^LIS|24331-1^Lipid panel^LN|||20240301080000+0100||||||||||||||20240301110000+0100||CH|F';
const single = (obx: string, ...rest: string[]): Observation =>
  resources<Observation>(oruToBundle(oru(PID, OBR, obx, ...rest), context), 'Observation')[0];

describe('oru_r01_01: hematology analyser, two OBR, preliminary values', () => {
  const bundle = mapFixture('oru_r01_01.hl7');
  const reports = resources<DiagnosticReport>(bundle, 'DiagnosticReport');

  it('writes one DiagnosticReport per OBR, keyed on the filler number and test code', () => {
    expect(reports).toHaveLength(2);
    const [hemogram] = reports;
    expect(hemogram.identifier).toEqual([
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'FILL' }] },
        system: 'urn:hms:v2:LAB',
        value: '82503246',
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PLAC' }] },
        system: 'urn:hms:v2:LAB',
        value: '88502218',
      },
      { system: 'urn:hms:v2:report:LAB', value: '82503246|24317-0' },
    ]);
    const entry = ofType<DiagnosticReport>(bundle, 'DiagnosticReport')[0];
    expect(entry.request).toEqual({
      method: 'PUT',
      url: `DiagnosticReport?identifier=${encodeURIComponent('urn:hms:v2:report:LAB|82503246\\|24317-0')}`,
    });
    expect(hemogram.code).toEqual({
      coding: [{ system: LOINC, code: '24317-0', display: 'Hemogram and platelet count, automated' }],
    });
    expect(hemogram.status).toBe('final'); // OBR-25 F (this sample's OBR fields from 22 on sit one place late)
    expect(hemogram.subject).toEqual({
      reference: `Patient?identifier=${encodeURIComponent('urn:hms:v2:1|10006579')}`,
      display: 'DONALD D DUCK',
    });
    expect(hemogram.basedOn).toEqual([
      { reference: `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:LAB|88502218')}` },
    ]);
    expect(hemogram.category).toEqual([
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] },
    ]);
    expect(reports[1].status).toBe('preliminary'); // OBR-25 empty: from its OBX statuses, all P
    expect(reports[1].identifier?.[2]).toEqual({ system: 'urn:hms:v2:report:LAB', value: '890775544|26464-8' });
  });

  it('links each report to its own Observations, in OBX order', () => {
    const [hemogram, differential] = reports;
    const codes = (report: DiagnosticReport) =>
      report.result?.map((r) => (byFullUrl(bundle, r.reference) as Observation).code.coding?.[0]?.code);
    expect(codes(hemogram)).toEqual(['11156-7', '11273-0', '20509-6', '20570-8', '11125-2']);
    expect(codes(differential)).toEqual(['23761-0', '26450-7', '26478-8', '26485-3', '30180-4']);
  });

  it('maps OBX fields: key, status, value with analyser units, flag, time', () => {
    const erythrocytes = observationCoded(bundle, '11273-0');
    expect(erythrocytes.identifier).toEqual([{ system: 'urn:hms:v2:result:LAB', value: '82503246|11273-0' }]);
    expect(erythrocytes.status).toBe('preliminary');
    expect(erythrocytes.valueQuantity).toEqual({ value: 4.06, unit: 'tera.l-1', system: UCUM, code: '10*12/L' });
    expect(erythrocytes.interpretation).toEqual([
      { coding: [{ system: INTERPRETATION, code: 'N', display: 'Normal' }] },
    ]);
    expect(erythrocytes.effectiveDateTime).toBe('2014-10-06T06:27:00+07:00');
    expect(erythrocytes.category?.[0].coding?.[0]).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'laboratory',
    });
    expect(erythrocytes.subject).toEqual(reports[0].subject);
    expect(erythrocytes.basedOn).toEqual(reports[0].basedOn);

    const leukocytes = observationCoded(bundle, '11156-7');
    expect(leukocytes.status).toBe('registered'); // OBX-11 I: specimen in lab, result pending
    expect(leukocytes).not.toHaveProperty('valueQuantity');
    expect(observationCoded(bundle, '11125-2').status).toBe('final');
    expect(observationCoded(bundle, '11125-2').valueQuantity?.code).toBe('10*9/L');
  });

  it('writes the specimen sent under both OBRs once and references it from reports and Observations', () => {
    const specimens = ofType<Specimen>(bundle, 'Specimen');
    expect(specimens).toHaveLength(1);
    const [{ fullUrl, resource }] = specimens;
    expect(resource).toMatchObject({
      identifier: [{ system: 'urn:hms:v2:LAB', value: 'SpecimenID' }],
      status: 'available',
      type: { coding: [{ code: 'BLD' }] },
      receivedTime: '2014-10-06T08:21:00+07:00',
      collection: { collectedDateTime: '2014-10-06T05:35:00+07:00' },
    });
    for (const report of reports) expect(report.specimen).toEqual([{ reference: fullUrl }]);
    for (const o of resources<Observation>(bundle, 'Observation')) expect(o.specimen).toEqual({ reference: fullUrl });
  });

  it('orders the same test the same way in the final message (oru_r01_02), so both update one set', () => {
    const keys = (b: Bundle) =>
      (b.entry ?? [])
        .filter((e) => e.resource?.resourceType !== 'Organization' && e.resource?.resourceType !== 'Practitioner')
        .map((e) => e.request?.url)
        .sort();
    expect(keys(mapFixture('oru_r01_02.hl7'))).toEqual(keys(bundle));
  });
});

describe('oru_r01_02: the final version', () => {
  const bundle = mapFixture('oru_r01_02.hl7');
  it('has every Observation final with a value; a unit outside UCUM keeps its text only', () => {
    const observations = resources<Observation>(bundle, 'Observation');
    expect(observations).toHaveLength(10);
    expect(observations.every((o) => o.status === 'final' && o.valueQuantity?.value !== undefined)).toBe(true);
    expect(observationCoded(bundle, '20509-6').valueQuantity).toEqual({ value: 13.4, unit: 'g/l-1' });
    expect(observationCoded(bundle, '11156-7').valueQuantity).toMatchObject({ value: 8.2, code: '10*9/L' });
  });
});

describe('oru_r01_03: SN value, underscore range, flag H', () => {
  const bundle = mapFixture('oru_r01_03.hl7');
  const [glucose] = resources<Observation>(bundle, 'Observation');
  const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');

  it('maps SN ^182 to a quantity with the mg/dl unit mapped to UCUM', () => {
    expect(glucose.valueQuantity).toEqual({ value: 182, unit: 'mg/dl', system: UCUM, code: 'mg/dL' });
    expect(glucose.valueQuantity).not.toHaveProperty('comparator');
  });
  it('parses 70_105 into low and high, keeping the text', () => {
    expect(glucose.referenceRange).toEqual([
      {
        low: { value: 70, unit: 'mg/dl', system: UCUM, code: 'mg/dL' },
        high: { value: 105, unit: 'mg/dl', system: UCUM, code: 'mg/dL' },
        text: '70_105',
      },
    ]);
  });
  it('maps flag H, status F, the time and the namespaced order numbers', () => {
    expect(glucose.interpretation).toEqual([{ coding: [{ system: INTERPRETATION, code: 'H', display: 'High' }] }]);
    expect(glucose.status).toBe('final');
    expect(glucose.identifier).toEqual([{ system: 'urn:hms:v2:result:GHH%20LAB', value: '1045813|1554-5' }]);
    expect(report.effectiveDateTime).toBe('2002-02-15T07:30:00+06:00');
    expect(glucose.effectiveDateTime).toBe('2002-02-15T07:30:00+06:00'); // OBX-14 empty: OBR-7
    expect(report.code).toEqual({ coding: [{ code: '15545', display: 'GLUCOSE' }] });
    expect(report.basedOn?.[0].reference).toBe(
      `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:GHH%20OE|845439')}`,
    );
    expect(report.result).toEqual([{ reference: ofType(bundle, 'Observation')[0].fullUrl }]);
  });
});

describe('oru_r01_04: blood lead, UCUM unit, text range, performing lab', () => {
  const bundle = mapFixture('oru_r01_04.hl7');
  const [lead] = resources<Observation>(bundle, 'Observation');
  const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');

  it('maps the UCUM unit with its text, sub-id in the key and the text range', () => {
    expect(lead.valueQuantity).toEqual({ value: 50, unit: 'micro-gram per deci-liter', system: UCUM, code: 'ug/dL' });
    expect(lead.identifier).toEqual([
      { system: 'urn:hms:v2:result:urn:oid:2.16.840.1.113883.19.3.1.6', value: '9700123|10368-9|1' },
    ]);
    expect(lead.referenceRange).toEqual([
      {
        high: { value: 9, unit: 'micro-gram per deci-liter', system: UCUM, code: 'ug/dL' },
        text: '<9 mcg/dL:  Acceptable background lead exposure',
      },
    ]);
    expect(lead.interpretation?.[0].coding?.[0].code).toBe('H');
    expect(lead.issued).toBe('2008-08-18T18:00:00-07:00');
  });

  it('creates the performing organisation (OBX-23, OBX-24) only if absent and references it', () => {
    const [org] = ofType<Organization>(bundle, 'Organization');
    expect(org.request).toEqual({
      method: 'POST',
      url: 'Organization',
      ifNoneExist: `identifier=${encodeURIComponent('urn:oid:2.16.840.1.113883.19.4.6|1236')}`,
    });
    expect(org.resource).toMatchObject({
      name: 'Lab',
      identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.4.6', value: '1236' }],
      address: [{ line: ['3434 Industrial Lane'], city: 'Ann Arbor', state: 'MI', postalCode: '48103' }],
    });
    expect(lead.performer).toEqual([{ reference: org.fullUrl, display: 'Lab' }]);
  });

  it('keys the report on the ORC-less filler number; no placer, no basedOn; specimen from SPM-4', () => {
    expect(report.identifier?.map((i) => i.value)).toEqual(['9700123', '9700123|10368-9']);
    expect(report).not.toHaveProperty('basedOn');
    expect(lead).not.toHaveProperty('basedOn');
    const [specimen] = resources<Specimen>(bundle, 'Specimen');
    expect(specimen.type?.coding?.[0]).toEqual({
      system: 'http://snomed.info/sct',
      code: '122554006',
      display: 'Capillary blood specimen',
    });
    // No SPM-2: keyed on the order and SPM-1 (or its position).
    expect(specimen.identifier).toEqual([
      { system: 'urn:hms:v2:specimen:urn:oid:2.16.840.1.113883.19.3.1.6', value: '9700123|10368-9|1' },
    ]);
  });
});

describe('oru_r01_07: escapes in NTE and FT', () => {
  const bundle = mapFixture('oru_r01_07.hl7');
  const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');

  it('turns the NTE after the OBR into the conclusion, with \\F\\ as | and \\.br\\ as new lines', () => {
    expect(report.conclusion).toMatch(/^Lipid - Target Levels for Treatment \n\n {2}\*{64}\n/);
    expect(report.conclusion).toContain('  |High*    |      >=20%       | Primary:   LDL-C    <2.0 mmol/L |\n');
    expect(report.conclusion).not.toContain('\\');
    expect(report.conclusion?.split('\n').pop()).toBe(
      '  Ref:  McPherson R et al. Can J Cardiol. 2006 Sep;22(11):913-27',
    );
  });
  it('maps NM without units to a plain quantity and FT to text; OBX-15 to the producer', () => {
    const cholesterol = observationCoded(bundle, 'Z049107');
    expect(cholesterol.valueQuantity).toEqual({ value: 2.3, unit: 'mmol/L' });
    expect(observationCoded(bundle, 'Z101068').valueString).toBe('Lab STP');
    const [producer] = ofType<Organization>(bundle, 'Organization');
    expect(producer.resource?.identifier).toEqual([{ system: 'urn:hms:v2:LAB', value: 'STP' }]);
    expect(cholesterol.performer).toEqual([{ reference: producer.fullUrl }]);
    expect(report.identifier?.[0].value).toBe('T09-106575-CHO-0'); // ORC-3 = OBR-3, no placer
  });
});

describe('oru_r01_08: FT repetitions, no order numbers, no OBX-3', () => {
  const bundle = mapFixture('oru_r01_08.hl7');
  const [observation] = resources<Observation>(bundle, 'Observation');
  const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');

  it('joins \\.br\\ lines and OBX-5 repetitions with new lines', () => {
    expect(observation.valueString).toBe('This\nis\nA Test\nMoreText\nSomeMoreText');
  });
  it('takes the OBR-4 test as code and keys both on patient, test and OBR-7', () => {
    expect(observation.code).toEqual({ coding: [{ code: 'ehipack', display: 'eHippa Acknowlegment' }] });
    expect(report.identifier).toEqual([{ system: 'urn:hms:v2:report:LAB', value: '1711114|ehipack|200610120839' }]);
    expect(observation.identifier).toEqual([
      { system: 'urn:hms:v2:result:LAB', value: '1711114|ehipack|200610120839|ehipack' },
    ]);
    expect(report).not.toHaveProperty('basedOn');
  });
});

describe('other fixtures', () => {
  it('oru_r01_05: three ST results with the same set id and sub-id get distinct keys by code', () => {
    const bundle = mapFixture('oru_r01_05.hl7');
    expect(resources<Observation>(bundle, 'Observation').map((o) => [o.identifier?.[0].value, o.valueString])).toEqual([
      ['2233817|6331-3|1', 'Isolated'],
      ['2233817|20995-1|1', 'Isolated'],
      ['2233817|17576-0|1', 'Not Isolated'],
    ]);
  });

  it('oru_r01_06: CWE value, method, observer; two OBR sharing one filler number stay two reports', () => {
    const bundle = mapFixture('oru_r01_06.hl7');
    const reports = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(reports.map((r) => r.identifier?.[2].value)).toEqual(['9700123|625-4', '9700123|10368-9']);
    const culture = observationCoded(bundle, '625-4');
    expect(culture.valueCodeableConcept).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '66543000', display: 'Campylobacter jejuni' }],
    });
    expect(culture.method?.coding?.[0]).toMatchObject({ code: '0086', display: 'Bacterial identification' });
    expect(culture.status).toBe('preliminary');
    // OBX-25 director is one Practitioner created once for both OBX.
    const practitioners = ofType<Practitioner>(bundle, 'Practitioner');
    const director = practitioners.find((p) => p.resource?.identifier?.[0].value === '9876543');
    expect(practitioners.filter((p) => p.resource?.identifier?.[0].value === '9876543')).toHaveLength(1);
    expect(culture.performer).toContainEqual({ reference: director?.fullUrl, display: 'Stan S Slide' });
    expect(observationCoded(bundle, '10368-9').performer).toContainEqual({
      reference: director?.fullUrl,
      display: 'Stan S Slide',
    });
    // OBR-32 as a CNN: id & family & given & middle & suffix & prefix.
    const interpreter = practitioners.find((p) => p.resource?.identifier?.[0].value === '1235');
    expect(interpreter?.resource?.name).toEqual([{ family: 'Slide', given: ['Stan', 'S'], prefix: ['Dr'] }]);
    expect(reports[0].resultsInterpreter).toEqual([{ reference: interpreter?.fullUrl, display: 'Dr Stan S Slide' }]);
    // Two SPM with different ids: each report and its Observation reference their own.
    const specimens = ofType<Specimen>(bundle, 'Specimen');
    expect(specimens).toHaveLength(1); // both SPM-2 carry the same filler specimen id 9700122
    expect(reports.map((r) => r.specimen?.[0].reference)).toEqual([specimens[0].fullUrl, specimens[0].fullUrl]);
  });

  it('oru_r01_09: "a to b" ranges and HH / L / A flags; TX text', () => {
    const bundle = mapFixture('oru_r01_09.hl7');
    expect(observationCoded(bundle, '26453-1').referenceRange?.[0]).toMatchObject({
      low: { value: 4.3, code: '10*6/uL' },
      high: { value: 6.2, code: '10*6/uL' },
      text: '4.3 to 6.2',
    });
    expect(observationCoded(bundle, '26464-8').interpretation?.[0].coding?.[0]).toEqual({
      system: INTERPRETATION,
      code: 'HH',
      display: 'Critical high',
    });
    expect(observationCoded(bundle, '718-7').interpretation?.[0].coding?.[0].code).toBe('L');
    expect(observationCoded(bundle, '6742-1').valueString).toBe('Many spherocytes present.');
    expect(observationCoded(bundle, '6742-1').interpretation?.[0].coding?.[0].code).toBe('A');
    const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(report.issued).toBe('2011-01-04T17:00:28-08:00');
    expect(report).not.toHaveProperty('resultsInterpreter'); // the sample's Deluca is OBR-28 (copies to)
    expect(report.basedOn?.[0].reference).toBe(
      `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:NIST%20EHR|ORD666555')}`,
    );
  });

  it('oru_r01_10: an OBX after SPM belongs to the specimen and is still a result of the report', () => {
    const bundle = mapFixture('oru_r01_10.hl7');
    const [lead] = ofType<Observation>(bundle, 'Observation');
    const [specimen] = ofType<Specimen>(bundle, 'Specimen');
    expect(lead.resource?.specimen).toEqual({ reference: specimen.fullUrl });
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0].result).toEqual([{ reference: lead.fullUrl }]);
    expect(lead.resource?.referenceRange).toEqual([{ text: '10.000000' }]);
  });

  it('oru_r01_11: OBX outside an OBR group are skipped; RP, repeated NM, OBX-21, OBX-18, NTEs', () => {
    const message = parseFixture('oru_r01_11.hl7');
    expect(skippedObservations(message).map((s) => s.get(2))).toEqual(['RP', 'ED']);
    const bundle = oruToBundle(message, context);
    const culture = observationCoded(bundle, '625-4');
    expect(culture.identifier?.[1]).toEqual({ system: 'urn:hms:v2:OII', value: 'EI21' });
    expect(culture.device).toEqual({ identifier: { system: 'urn:hms:v2:NI2', value: 'EI12.3' }, display: 'EI12.3' });
    expect(culture.note).toEqual([
      { text: 'Submission of serum', time: '2020-10-10T16:00:00+02:15' },
      { text: 'No Antibodies Detected', time: '2020-10-10T15:00:00+02:15' },
    ]);
    expect(culture.interpretation?.[0].coding?.[0].code).toBe('A');
    expect(culture.referenceRange?.[0]).toEqual({
      low: { value: 70, unit: 'beats/min' },
      high: { value: 80, unit: 'beats/min' },
      text: '70-80',
    });
    const pointer = observationCoded(bundle, '1063-7');
    expect(pointer.valueString).toBe('https://testurl.com');
    expect(pointer.note).toEqual([{ text: 'Reference pointer (RP) to data (image/PICT).' }]);
    expect(pointer.status).toBe('registered'); // OBX-11 O: order detail only
    const repeated = observationCoded(bundle, '8867-4');
    expect(repeated).not.toHaveProperty('valueQuantity');
    expect(repeated.component?.map((c) => c.valueQuantity?.value)).toEqual([27, 25]);
    const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(report.conclusion).toBe(
      'Enteric culture includes testing for Salmonella, Shigella, Campylobacter, Yersinia, E.coli O157:H7 & other STECs, and Aeromonas\nAllergy to peanuts observed.',
    );
    expect(report.category?.[0].coding?.[0]).toMatchObject({ code: 'BLB', display: 'Blood Bank' });
    const [specimen] = resources<Specimen>(bundle, 'Specimen');
    expect(specimen.collection?.collectedPeriod).toEqual({
      start: '2011-01-03T14:34:28-08:00',
      end: '2011-11-03T14:34:28-08:00',
    });
  });

  it('oru_r01_12: two OBR on one accession number, TX values, section HM', () => {
    const bundle = mapFixture('oru_r01_12.hl7');
    const reports = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(reports.map((r) => r.identifier?.[1].value)).toEqual(['09B0099478|XBC', '09B0099478|AKI']);
    expect(reports[0].category?.[0].coding?.[0]).toMatchObject({ code: 'HM', display: 'Hematology' });
    expect(observationCoded(bundle, 'CRE').valueString).toBe('23');
  });

  it.each(ORU_FIXTURES)('%s maps to one report per OBR and one Observation per OBX in an OBR group', (name) => {
    const message = parseFixture(name);
    const bundle = oruToBundle(message, context);
    const observations = resources<Observation>(bundle, 'Observation');
    const reports = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(reports).toHaveLength(message.all('OBR').length);
    expect(observations).toHaveLength(message.all('OBX').length - skippedObservations(message).length);
    expect(reports.flatMap((r) => r.result ?? [])).toHaveLength(observations.length);
    // Every upsert key is unique in the Bundle (a transaction may not write one resource twice).
    const urls = (bundle.entry ?? []).map((e) => `${e.request?.method} ${e.request?.url} ${e.request?.ifNoneExist}`);
    expect(new Set(urls).size).toBe(urls.length);
    // Every reference to a fullUrl points at an entry of the Bundle.
    const fullUrls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
    for (const reference of JSON.stringify(bundle).match(/"reference":"urn:uuid:[^"]+"/g) ?? []) {
      expect(fullUrls.has(reference.slice('"reference":"'.length, -1))).toBe(true);
    }
    // No empty strings, arrays or objects anywhere.
    expect(JSON.stringify(bundle)).not.toMatch(/:""|:\[\]|:\{\}/);
    for (const observation of observations) {
      expect(observation.status).toBeTruthy();
      expect(observation.code.coding?.length ?? observation.code.text).toBeTruthy();
      expect(observation.subject?.reference).toMatch(/^Patient\?identifier=/);
    }
  });

  it('only oru_r01_11 has OBX outside an OBR group', () => {
    expect(ORU_FIXTURES.filter((n) => skippedObservations(parseFixture(n)).length > 0)).toEqual(['oru_r01_11.hl7']);
  });
});

describe('OBX-5 by value type', () => {
  it('NM: a number with units; a non-numeric value becomes text', () => {
    expect(single('OBX|1|NM|2093-3^Cholesterol^LN||5.2|mmol/L^^UCUM|||||F').valueQuantity).toEqual({
      value: 5.2,
      unit: 'mmol/L',
      system: UCUM,
      code: 'mmol/L',
    });
    const text = single('OBX|1|NM|2093-3^Cholesterol^LN||see note|mmol/L|||||F');
    expect(text.valueString).toBe('see note');
    expect(text).not.toHaveProperty('valueQuantity');
  });

  it.each([
    ['<^10', { valueQuantity: { value: 10, unit: 'mg/L', comparator: '<' } }],
    ['>=^5.5', { valueQuantity: { value: 5.5, unit: 'mg/L', comparator: '>=' } }],
    ['=^7', { valueQuantity: { value: 7, unit: 'mg/L' } }],
    ['^1^-^5', { valueRange: { low: { value: 1, unit: 'mg/L' }, high: { value: 5, unit: 'mg/L' } } }],
    ['^1^:^128', { valueRatio: { numerator: { value: 1 }, denominator: { value: 128 } } }],
    ['^1^/^2', { valueRatio: { numerator: { value: 1 }, denominator: { value: 2 } } }],
    ['^2^+', { valueString: '2+' }],
    ['<>^3', { valueString: '<>3' }],
    ['^abc', { valueString: 'abc' }],
  ])('SN %s', (sn, expected) => {
    const observation = single(`OBX|1|SN|1988-5^CRP^LN||${sn}|mg/L|||||F`);
    expect(observation).toMatchObject(expected);
    const choices = Object.keys(observation).filter((k) => k.startsWith('value'));
    expect(choices).toEqual(Object.keys(expected));
  });

  it('CE / CWE / CNE / IS -> CodeableConcept', () => {
    expect(single('OBX|1|CE|883-9^ABO^LN||A^Group A^L||||||F').valueCodeableConcept).toEqual({
      coding: [{ system: 'urn:hms:v2:codesystem:L', code: 'A', display: 'Group A' }],
    });
    expect(single('OBX|1|IS|883-9^ABO^LN||POS||||||F').valueCodeableConcept).toEqual({ coding: [{ code: 'POS' }] });
  });

  it('ST / TX / FT -> text; TX repetitions joined by new lines', () => {
    expect(single('OBX|1|ST|x^Comment^L||a \\T\\ b \\S\\ c||||||F').valueString).toBe('a & b ^ c');
    expect(single('OBX|1|TX|x^Comment^L||line 1~line 2||||||F').valueString).toBe('line 1\nline 2');
    expect(single('OBX|1|FT|x^Comment^L||one\\.br\\two||||||F').valueString).toBe('one\ntwo');
  });

  it('DT / DTM / TS -> dateTime, TM -> time, NR -> range, DR -> period', () => {
    expect(single('OBX|1|DT|x^Date^L||20240229||||||F').valueDateTime).toBe('2024-02-29');
    expect(single('OBX|1|DTM|x^Time^L||202402291230+0100||||||F').valueDateTime).toBe('2024-02-29T12:30:00+01:00');
    expect(single('OBX|1|TS|x^Time^L||202402291230||||||F').valueDateTime).toBe('2024-02-29T12:30:00Z');
    expect(single('OBX|1|TM|x^Time^L||0830||||||F').valueTime).toBe('08:30:00');
    expect(single('OBX|1|TM|x^Time^L||2545||||||F').valueString).toBe('2545');
    expect(single('OBX|1|NR|x^Range^L||3^7|g/L|||||F').valueRange).toEqual({
      low: { value: 3, unit: 'g/L' },
      high: { value: 7, unit: 'g/L' },
    });
    expect(single('OBX|1|DR|x^Period^L||20240101^20240105||||||F').valuePeriod).toEqual({
      start: '2024-01-01',
      end: '2024-01-05',
    });
  });

  it('ED base64 -> the report presentedForm, with a note on the Observation', () => {
    const bundle = oruToBundle(
      oru(PID, OBR, 'OBX|1|ED|11502-2^Lab report^LN||LIS^AP^PDF^Base64^JVBERi0xLjQK||||||F'),
      context,
    );
    const [report] = resources<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(report.presentedForm).toEqual([{ contentType: 'application/pdf', data: 'JVBERi0xLjQK' }]);
    const [observation] = resources<Observation>(bundle, 'Observation');
    expect(observation.note?.[0].text).toMatch(/presentedForm/);
    const ascii = oruToBundle(oru(PID, OBR, 'OBX|1|ED|x^Text^L||LIS^TEXT^plain^A^hello||||||F'), context);
    expect(resources<DiagnosticReport>(ascii, 'DiagnosticReport')[0].presentedForm).toEqual([
      { contentType: 'text/plain', data: Buffer.from('hello').toString('base64') },
    ]);
  });
});

describe('OBX statuses, flags, notes and performers', () => {
  it.each([
    ['F', 'final'],
    ['P', 'preliminary'],
    ['C', 'corrected'],
    ['A', 'amended'],
    ['D', 'entered-in-error'],
    ['W', 'entered-in-error'],
    ['R', 'preliminary'],
    ['S', 'preliminary'],
    ['I', 'registered'],
    ['U', 'final'],
    ['Q', 'unknown'],
  ])('OBX-11 %s -> %s', (code, status) => {
    expect(single(`OBX|1|NM|x^Test^L||5||||||${code}`).status).toBe(status);
  });

  it('X and N carry a dataAbsentReason and no value', () => {
    const cancelled = single('OBX|1|NM|x^Test^L||5||||||X');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.dataAbsentReason?.coding?.[0].code).toBe('not-performed');
    expect(cancelled).not.toHaveProperty('valueQuantity');
    const notAsked = single('OBX|1|NM|x^Test^L||||||||N');
    expect(notAsked.dataAbsentReason?.coding).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-asked', display: 'Not Asked' },
    ]);
  });

  it('maps repeated OBX-8 flags, keeping unknown ones in the v2 table', () => {
    const observation = single('OBX|1|NM|x^Test^L||5|||LL~<~ZZ|||F');
    expect(observation.interpretation).toEqual([
      { coding: [{ system: INTERPRETATION, code: 'LL', display: 'Critical low' }] },
      { coding: [{ system: INTERPRETATION, code: '<', display: 'Off scale low' }] },
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0078', code: 'ZZ' }] },
    ]);
  });

  it('puts the NTEs after an OBX into its notes and those after the OBR into the conclusion', () => {
    const bundle = oruToBundle(
      oru(
        PID,
        OBR,
        'NTE|1||Fasting sample',
        'OBX|1|NM|x^A^L||5||||||F',
        'NTE|1||first',
        'NTE|2||second~more',
        'OBX|2|NM|y^B^L||6||||||F',
      ),
      context,
    );
    const [a, b] = resources<Observation>(bundle, 'Observation');
    expect(a.note).toEqual([{ text: 'first' }, { text: 'second\nmore' }]);
    expect(b).not.toHaveProperty('note');
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0].conclusion).toBe('Fasting sample');
  });

  it('OBX-16 observer with an identifier is created once; one with a name only is just named', () => {
    const bundle = oruToBundle(
      oru(
        PID,
        OBR,
        'OBX|1|NM|x^A^L||5||||||F|||||123^Smith^Ann',
        'OBX|2|NM|y^B^L||6||||||F|||||123^Smith^Ann~^Jones^Bob',
      ),
      context,
    );
    const practitioners = ofType<Practitioner>(bundle, 'Practitioner');
    expect(practitioners).toHaveLength(1);
    expect(practitioners[0].request?.ifNoneExist).toBe(`identifier=${encodeURIComponent('urn:hms:v2:LAB|123')}`);
    const [, b] = resources<Observation>(bundle, 'Observation');
    expect(b.performer).toEqual([
      { reference: practitioners[0].fullUrl, display: 'Ann Smith' },
      { display: 'Bob Jones' },
    ]);
  });

  it('keys repeated codes without sub-ids by set id, and keeps sub-ids apart', () => {
    const bundle = oruToBundle(
      oru(
        PID,
        OBR,
        'OBX|1|NM|x^A^L||5||||||F',
        'OBX|2|NM|x^A^L||6||||||F',
        'OBX|3|NM|y^B^L|1|7||||||F',
        'OBX|4|NM|y^B^L|2|8||||||F',
      ),
      context,
    );
    expect(resources<Observation>(bundle, 'Observation').map((o) => o.identifier?.[0].value)).toEqual([
      'F1|x||1', // no sub-id: its empty place is kept, so set id 1 never reads as sub-id 1
      'F1|x||2',
      'F1|y|1',
      'F1|y|2',
    ]);
  });

  it('leaves OBX-29 QST answers out of the report results', () => {
    const bundle = oruToBundle(
      oru(PID, OBR, 'OBX|1|NM|x^A^L||5||||||F', 'OBX|2|ST|q^Fasting?^L||Y||||||F||||||||||||||||||QST'),
      context,
    );
    expect(resources<Observation>(bundle, 'Observation')).toHaveLength(2);
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0].result).toHaveLength(1);
  });
});

describe('reports', () => {
  const report = (...segments: string[]) =>
    resources<DiagnosticReport>(oruToBundle(oru(PID, ...segments), context), 'DiagnosticReport')[0];

  it('OBR-32 as a CNN without id only names the interpreter; an XCN there is read as one', () => {
    const obr = (interpreter: string) => `OBR|1||F1^LIS|x^Test^L||||||||||||||||||||||F||||||${interpreter}`;
    expect(report(obr('&CYTO&JANE^20141006092900+0700')).resultsInterpreter).toEqual([{ display: 'JANE CYTO' }]);
    const bundle = oruToBundle(oru(PID, obr('444^HIPPOCRATES^HOWARD^^^^MD')), context);
    const [interpreter] = ofType<Practitioner>(bundle, 'Practitioner');
    expect(interpreter.resource?.name).toEqual([{ family: 'HIPPOCRATES', given: ['HOWARD'] }]);
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0].resultsInterpreter).toEqual([
      { reference: interpreter.fullUrl, display: 'HOWARD HIPPOCRATES' },
    ]);
  });

  it('a placer number in our namespace is our ServiceRequest id', () => {
    const own = report('OBR|1|sr-42^HMS|F1^LIS|x^Test^L|||20240301||||||||||||||||||F', 'OBX|1|NM|x^A^L||5||||||F');
    expect(own.basedOn).toEqual([{ reference: 'ServiceRequest?_id=sr-42' }]);
  });

  it('takes order numbers from ORC when OBR has none; OBR-8 makes a period; OBR-24 outside table 0074 is LAB', () => {
    const fromOrc = report(
      'ORC|RE|P9^OE|F9^LIS',
      'OBR|1|||x^Test^L|||20240301080000|20240301090000||||||||||||||||ZZ|P',
      'OBX|1|NM|x^A^L||5||||||P',
    );
    expect(fromOrc.identifier?.map((i) => i.value)).toEqual(['F9', 'P9', 'F9|x']);
    expect(fromOrc.effectivePeriod).toEqual({ start: '2024-03-01T08:00:00Z', end: '2024-03-01T09:00:00Z' });
    expect(fromOrc.category?.[0].coding?.[0].code).toBe('LAB');
    expect(fromOrc.status).toBe('preliminary');
  });

  it.each([
    [['F', 'F'], 'final'],
    [['F', 'P'], 'partial'],
    [['P', 'P'], 'preliminary'],
    [['I', 'I'], 'registered'],
    [['F', 'C'], 'corrected'],
    [['X', 'X'], 'cancelled'],
  ])('OBR-25 empty: statuses %j -> %s', (statuses, expected) => {
    const obr = 'OBR|1||F1^LIS|x^Test^L';
    const obx = statuses.map((s, i) => `OBX|${i + 1}|NM|c${i}^A^L||5||||||${s}`);
    expect(report(obr, ...obx).status).toBe(expected);
  });

  it('OBR-25 empty and no OBX: unknown', () => {
    expect(report('OBR|1||F1^LIS|x^Test^L').status).toBe('unknown');
  });
});

describe('errors', () => {
  const fail = (message: V2Message) => {
    try {
      oruToBundle(message, context);
    } catch (error) {
      return error;
    }
    throw new Error('mapped');
  };

  it('no PID, or a PID without identifier', () => {
    expect(fail(oru(OBR))).toMatchObject({ location: 'PID', code: '100' });
    expect(fail(oru('PID|1||||DOE^JANE', OBR))).toMatchObject({ location: 'PID^1^3', code: '101' });
  });
  it('OBR without OBR-4, OBX without status', () => {
    const error = fail(oru(PID, 'OBR|1||F1^LIS', 'OBX|1|NM|x^A^L||5||||||F'));
    expect(error).toBeInstanceOf(MappingError);
    expect(error).toMatchObject({ location: 'OBR^1^4' });
    expect(fail(oru(PID, OBR, 'OBX|1|NM|x^A^L||5', 'OBX|2|NM|y^B^L||5'))).toMatchObject({ location: 'OBX^1^11' });
  });
  it('ignores Z-segments and unknown segments anywhere', () => {
    const bundle = oruToBundle(oru(PID, 'ZPI|1|x', OBR, 'ZXX|a', 'OBX|1|NM|x^A^L||5||||||F', 'ZYY|b'), context);
    expect(resources<Observation>(bundle, 'Observation')).toHaveLength(1);
  });
});

describe('grouping', () => {
  it('splits PATIENT_RESULT and ORDER_OBSERVATION groups by position', () => {
    const message = oru(
      PID,
      OBR,
      'OBX|1|NM|x^A^L||5||||||F',
      'SPM|1|S1',
      'OBX|2|NM|v^Volume^L||5|mL|||||F',
      'PID|2||P200^^^HOSP^MR||ROE^RICHARD',
      'ORC|RE||F2^LIS',
      'OBR|1||F2^LIS|y^Test^L',
      'OBX|1|NM|y^B^L||6||||||F',
    );
    const groups = patientResults(message);
    expect(groups.map((g) => g.orders.map((o) => o.observations.length))).toEqual([[2], [1]]);
    expect(groups[0].orders[0].observations[1].spm?.get(2)).toBe('S1');
    expect(groups[1].orders[0].orc?.get(3)).toBe('F2');
    const bundle = oruToBundle(message, context);
    const subjects = resources<Observation>(bundle, 'Observation').map((o) => o.subject?.display);
    expect(subjects).toEqual(['JANE DOE', 'JANE DOE', 'RICHARD ROE']);
  });
});

describe('reference range text', () => {
  it.each([
    ['70-110', { low: 70, high: 110 }],
    ['4.3 to 6.2', { low: 4.3, high: 6.2 }],
    ['70_105', { low: 70, high: 105 }],
    ['-2 - 2', { low: -2, high: 2 }],
    ['<9', { high: 9 }],
    ['<= 9 mg/dL', { high: 9 }],
    ['>5', { low: 5 }],
    ['>=60', { low: 60 }],
    ['Negative', {}],
    ['10.000000', {}],
  ])('%s', (text, bounds) => {
    expect(rangeBounds(text)).toEqual(bounds);
  });
});

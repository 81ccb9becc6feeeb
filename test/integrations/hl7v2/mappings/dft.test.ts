// DFT^P03 -> ChargeItem per FT1 charge / credit: field by field for dft_p03_01 (CPT 73630, RT~GA) and
// dft_p03_03 (two FT1, 100&USD amounts, department, visit), credits, skipped payments, amounts and errors.
import type { Bundle, ChargeItem, Organization, Practitioner } from '@medplum/fhirtypes';
import { dftToBundle, PROCEDURE_MODIFIER_URL } from '../../../../integrations/hl7v2/mappings/dft';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture, hl7FixtureNames, testMappingContext } from '../../../support/hl7';
import { entriesOf, mappingError } from './helpers';

const DFT_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('dft_'));
const CPT = 'http://www.ama-assn.org/go/cpt';
const SCT = 'http://snomed.info/sct';
const context = testMappingContext({ sender: 'SENDING_FAC' });

const mapFixture = (name: string, edit: (text: string) => string = (t) => t): Bundle =>
  dftToBundle(V2Message.parse(edit(hl7Fixture(name))), context);
const charges = (bundle: Bundle) => entriesOf(bundle, 'ChargeItem').map((e) => e.resource as ChargeItem);
/** dft_p03_01's FT1 with field n (1-based) replaced. */
const withFt1Field = (n: number, value: string) => (text: string) =>
  text.replace(/\rFT1\|[^\r]*/, (ft1) => {
    const fields = ft1.split('|');
    fields[n] = value;
    return fields.join('|');
  });

describe('dft_p03_01 (v2.5, CG with CPT 73630 and modifiers RT~GA)', () => {
  const bundle = mapFixture('dft_p03_01.hl7');
  const [charge] = charges(bundle);

  it('upserts one ChargeItem on a deterministic id when FT1-2 is empty (MR-set id-date-code)', () => {
    expect(charges(bundle)).toHaveLength(1);
    const key = { system: 'urn:hms:v2:charge:SENDING_FAC', value: '10476-1-20080528114700-73630' };
    expect(charge.identifier).toEqual([key]);
    expect(entriesOf(bundle, 'ChargeItem')[0].request).toEqual({
      method: 'PUT',
      url: `ChargeItem?identifier=${encodeURIComponent(`${key.system}|${key.value}`)}`,
    });
  });

  it('maps status, code (CDM + CPT), modifiers, time and quantity', () => {
    expect(charge.status).toBe('billable');
    expect(charge.code).toEqual({
      coding: [
        { system: 'urn:hms:v2:cdm:SENDING_FAC', code: '73630' },
        { system: CPT, code: '73630' },
      ],
    });
    expect(charge.extension).toEqual([
      { url: PROCEDURE_MODIFIER_URL, valueCoding: { code: 'RT' } },
      { url: PROCEDURE_MODIFIER_URL, valueCoding: { code: 'GA' } },
    ]);
    expect(charge.occurrenceDateTime).toBe('2008-05-28T11:47:00Z');
    expect(charge.quantity).toEqual({ value: 1 });
    expect(charge.priceOverride).toBeUndefined();
    expect(charge.enteredDate).toBeUndefined();
  });

  it('references the patient conditionally and has no context without PV1-19', () => {
    expect(charge.subject).toEqual({
      reference: `Patient?identifier=${encodeURIComponent('urn:oid:1.3.6.1.4.1.21367.2005.1.1|10476')}`,
      display: 'Daffy Duck',
    });
    expect(charge.context).toBeUndefined();
    expect(entriesOf(bundle, 'Patient')).toHaveLength(0);
  });

  it('writes the performer and enterer, the same person, as one Practitioner', () => {
    const practitioners = entriesOf(bundle, 'Practitioner');
    expect(practitioners).toHaveLength(1);
    expect((practitioners[0].resource as Practitioner).identifier).toEqual([
      { system: 'urn:hms:v2:SENDING_FAC', value: '1' },
    ]);
    expect(charge.performer).toEqual([{ actor: { reference: practitioners[0].fullUrl, display: 'IN mie mie' } }]);
    expect(charge.enterer).toEqual({ reference: practitioners[0].fullUrl, display: 'IN mie mie' });
  });
});

describe('dft_p03_03 (v2.8, two FT1 with CP amounts, department, visit)', () => {
  const bundle = mapFixture('dft_p03_03.hl7');
  const [first, second] = charges(bundle);
  const visit = `Encounter?identifier=${encodeURIComponent('urn:hms:v2:AccMng|40007716')}`;

  it('keys the first on FT1-2 and the second (no FT1-2) deterministically', () => {
    expect(charges(bundle)).toHaveLength(2);
    expect(first.identifier).toEqual([{ system: 'urn:hms:v2:charge:SENDING_FAC', value: '12345' }]);
    expect(second.identifier).toEqual([
      { system: 'urn:hms:v2:charge:SENDING_FAC', value: 'PATID1234-2-20191122-626.2' },
    ]);
  });

  it('maps code, CPT modifier, amounts (100&USD), quantity, dates and reasons of the first', () => {
    expect(first.code).toEqual({ coding: [{ system: CPT, code: '71045', display: 'Xray exam chest 1 view' }] });
    expect(first.extension).toEqual([{ url: PROCEDURE_MODIFIER_URL, valueCoding: { code: '26' } }]);
    expect(first.priceOverride).toEqual({ value: 100, currency: 'USD' });
    expect(first.quantity).toEqual({ value: 2 });
    expect(first.occurrenceDateTime).toBe('2019-11-22');
    expect(first.enteredDate).toBe('2019-11-22');
    expect(first.reason).toEqual([
      { coding: [{ system: SCT, code: '29857009', display: 'Chest pain' }] },
      { coding: [{ system: SCT, code: '68235000', display: 'Nasal congestion' }] },
    ]);
  });

  it('maps performer (FT1-20) and enterer (FT1-24) to their NPI Practitioners', () => {
    const byNpi = Object.fromEntries(
      entriesOf(bundle, 'Practitioner').map((e) => [(e.resource as Practitioner).identifier?.[0]?.value, e.fullUrl]),
    );
    expect((entriesOf(bundle, 'Practitioner')[0].resource as Practitioner).identifier?.[0]?.system).toBe(
      'urn:oid:2.16.840.1.113883.4.6',
    );
    expect(first.performer).toEqual([{ actor: { reference: byNpi['9941339108'], display: 'Adam Smith' } }]);
    expect(first.enterer).toEqual({ reference: byNpi['9941339116'], display: 'John Mellie' });
    expect(second.performer).toBeUndefined();
    expect(second.enterer).toBeUndefined();
  });

  it('upserts the department (FT1-13) as the cost centre Organization', () => {
    const organizations = entriesOf(bundle, 'Organization');
    expect(organizations).toHaveLength(1);
    expect(organizations[0].resource as Organization).toMatchObject({
      identifier: [{ system: 'urn:hms:v2:department:SENDING_FAC', value: 'RAD-1' }],
      name: 'Radiology Deptt',
    });
    expect(first.costCenter).toEqual({ reference: organizations[0].fullUrl, display: 'Radiology Deptt' });
  });

  it('maps the second FT1: CDM code plus FT1-25 CPT, 120 USD, and both charges point at the PV1-19 visit', () => {
    expect(second.code).toEqual({
      coding: [
        { system: 'urn:hms:v2:cdm:SENDING_FAC', code: '626.2' },
        { system: CPT, code: '99011', display: 'first op visit' },
      ],
    });
    expect(second.priceOverride).toEqual({ value: 120, currency: 'USD' });
    expect(second.quantity).toEqual({ value: 1 });
    expect(first.context).toEqual({ reference: visit });
    expect(second.context).toEqual({ reference: visit });
    expect(first.subject?.reference).toBe(`Patient?identifier=${encodeURIComponent('urn:hms:v2:test1|PATID1234')}`);
  });
});

describe('every DFT sample', () => {
  test.each(DFT_FIXTURES)('%s maps every FT1 charge to a billable ChargeItem', (name) => {
    const items = charges(mapFixture(name));
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.status).toBe('billable');
      expect(item.code.coding?.length).toBeGreaterThan(0);
      expect(item.subject.reference).toMatch(/^Patient\?identifier=/);
    }
  });
});

describe('transaction types and amounts', () => {
  it('a credit (CD) is billable with negative quantity and price', () => {
    const edit = (t: string) => withFt1Field(11, '75&USD')(withFt1Field(6, 'CD')(t));
    const [credit] = charges(mapFixture('dft_p03_01.hl7', edit));
    expect(credit.status).toBe('billable');
    expect(credit.quantity).toEqual({ value: -1 });
    expect(credit.priceOverride).toEqual({ value: -75, currency: 'USD' });
  });

  it.each(['PY', 'AJ', 'CO'])('a %s transaction is not a ChargeItem', (type) => {
    const bundle = mapFixture('dft_p03_01.hl7', withFt1Field(6, type));
    expect(charges(bundle)).toHaveLength(0);
    expect(bundle.entry).toHaveLength(0);
  });

  it('skips a payment between two charges and keeps both charges (dft_p03_03)', () => {
    const edit = (t: string) =>
      t.replace('\rPR1|1||71045', '\rFT1|9|PAY-1||20191122||PY|CASH|||1|50&USD\rPR1|1||71045');
    expect(edit(hl7Fixture('dft_p03_03.hl7')).match(/\rFT1\|/g)).toHaveLength(3);
    expect(charges(mapFixture('dft_p03_03.hl7', edit))).toHaveLength(2);
  });

  it('without FT1-11 the price is FT1-12 x FT1-10', () => {
    const edit = (t: string) => withFt1Field(12, '40.5&EUR')(withFt1Field(10, '3')(t));
    expect(charges(mapFixture('dft_p03_01.hl7', edit))[0].priceOverride).toEqual({ value: 121.5, currency: 'EUR' });
  });

  it('a currency that is not ISO 4217 (or no longer is) is left out of Money', () => {
    const [charge] = charges(mapFixture('dft_p03_01.hl7', withFt1Field(11, '10&dollars')));
    expect(charge.priceOverride).toEqual({ value: 10 });
    // Croatia's kuna was withdrawn in 2023: the required value set no longer has it.
    const [withdrawn] = charges(mapFixture('dft_p03_01.hl7', withFt1Field(11, '10&HRK')));
    expect(withdrawn.priceOverride).toEqual({ value: 10 });
  });

  it('FT1-8 becomes code.text; FT1-2 becomes the key', () => {
    const edit = (t: string) => withFt1Field(2, 'TX-9')(withFt1Field(8, 'Foot X-ray, 3 views')(t));
    const [charge] = charges(mapFixture('dft_p03_01.hl7', edit));
    expect(charge.code.text).toBe('Foot X-ray, 3 views');
    expect(charge.identifier).toEqual([{ system: 'urn:hms:v2:charge:SENDING_FAC', value: 'TX-9' }]);
  });
});

describe('errors', () => {
  it('an FT1 without transaction type is a missing FT1-6', () => {
    expect(mappingError(() => mapFixture('dft_p03_01.hl7', withFt1Field(6, ''))).location).toBe('FT1^1^6');
  });

  it('a charge without transaction code is a missing FT1-7', () => {
    expect(mappingError(() => mapFixture('dft_p03_01.hl7', withFt1Field(7, ''))).location).toBe('FT1^1^7');
  });

  it('a message without patient identifier is a missing PID-3', () => {
    const edit = (t: string) => t.replace(/\rPID\|[^\r]*/, '\rPID|1');
    expect(mappingError(() => mapFixture('dft_p03_01.hl7', edit)).location).toBe('PID^1^3');
  });
});

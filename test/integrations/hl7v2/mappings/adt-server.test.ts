// ADT mappings against the real FHIR server: every ADT sample's transaction is accepted, replaying it
// creates no duplicates, and an A40 merge links the two Patients both ways without deleting either.
import type { Bundle, Condition, Coverage, Encounter, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { adtMergeToBundle, adtToBundle } from '../../../../integrations/hl7v2/mappings/adt';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture, hl7FixtureNames } from '../../../support/hl7';
import { contextOf, useFhirServer } from './helpers';

const ADT_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('adt_') && !n.includes('batch'));

const { post, search, total } = useFhirServer();

const resources = <T extends Resource>(bundle: Bundle): T[] => (bundle.entry ?? []).map((e) => e.resource as T);

/** The identifier a conditional PUT entry was keyed on, as its search query. */
const queriesOf = (bundle: Bundle, type: string) =>
  (bundle.entry ?? [])
    .filter((e) => e.request?.method === 'PUT' && e.request.url.startsWith(`${type}?`))
    .map((e) => e.request!.url);

describe('ADT samples on the server', () => {
  test.each(ADT_FIXTURES)('%s is accepted, and replaying it creates no duplicates', async (name) => {
    const message = V2Message.parse(hl7Fixture(name));
    const first = adtToBundle(message, contextOf(message));
    const response = await post(first);
    expect(response.type).toBe('transaction-response');
    for (const entry of response.entry ?? []) expect(entry.response?.status).toMatch(/^20[01]/);
    const counts = async () =>
      Object.fromEntries(await Promise.all(TYPES.map(async (type) => [type, await total(type)])));
    const before = await counts();
    expect(before.Patient).toBeGreaterThan(0);
    await post(adtToBundle(message, contextOf(message)));
    expect(await counts()).toEqual(before);
    for (const type of ['Patient', 'Encounter', 'RelatedPerson', 'Coverage', 'Condition', 'Organization', 'Location']) {
      for (const query of queriesOf(first, type)) expect((await search(query)).total).toBe(1);
    }
  });
});

const TYPES = ['Patient', 'Encounter', 'RelatedPerson', 'Coverage', 'Condition', 'Organization', 'Location'];

describe('what the server stores', () => {
  test('adt_a01_03: Encounter, Condition and Coverage point at the stored Patient and at each other', async () => {
    const message = V2Message.parse(hl7Fixture('adt_a01_03.hl7'));
    await post(adtToBundle(message, contextOf(message)));
    const [patient] = resources<Patient>(await search('Patient?identifier=urn:hms:v2:MSH_MRN|2148790'));
    const [encounter] = resources<Encounter>(await search('Encounter?identifier=urn:hms:v2:HNA500|01'));
    expect(encounter.subject?.reference).toBe(`Patient/${patient.id}`);
    const [condition] = resources<Condition>(await search(`Condition?encounter=Encounter/${encounter.id}`));
    expect(condition.code?.coding?.[0].code).toBe('440.21');
    expect(condition.subject?.reference).toBe(`Patient/${patient.id}`);
    expect(encounter.diagnosis?.[0].condition.reference).toBe(`Condition/${condition.id}`);
    const coverages = resources<Coverage>(await search(`Coverage?beneficiary=Patient/${patient.id}`));
    expect(coverages).toHaveLength(3);
    const [payor] = resources<Organization>(await search('Organization?identifier=urn:hms:v2:HNA500|A10'));
    expect(coverages.map((c) => c.payor[0].reference)).toContain(`Organization/${payor.id}`);
  });

  test('adt_a03_02: the birth time extension on birthDate is kept', async () => {
    const message = V2Message.parse(hl7Fixture('adt_a03_02.hl7'));
    await post(adtToBundle(message, contextOf(message)));
    const [patient] = resources<Patient & { _birthDate?: { extension?: { valueDateTime?: string }[] } }>(
      await search('Patient?identifier=urn:hms:v2:test1|PATID1234'),
    );
    expect(patient.birthDate).toBe('1988-08-18');
    expect(patient._birthDate?.extension?.[0].valueDateTime).toBe('1988-08-18T11:26:00+02:15');
  });
});

describe('A40 merge on the server', () => {
  const a01 = hl7Fixture('adt_a01_02.hl7');
  const withMr = (text: string, mr: string) => text.replace('PATID1234^5^M11^ADT1^MR', `${mr}^5^M11^ADT1^MR`);
  const pid = (mr: string) => withMr(a01.split('\r').find((s) => s.startsWith('PID|')) ?? '', mr);
  const a40 = [
    'MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB, INC.|GOOD HEALTH HOSPITAL|19880818113000+0700||ADT^A40^ADT_A39|MSG00009|P|2.5.1',
    'EVN|A40|19880818113000+0700',
    pid('PATID7002'),
    'MRG|PATID7001^5^M11^ADT1^MR^GOOD HEALTH HOSPITAL',
  ].join('\r');
  const patientWith = async (mr: string) => {
    const found = resources<Patient>(await search(`Patient?identifier=urn:hms:v2:ADT1|${mr}`));
    expect(found).toHaveLength(1);
    return found[0];
  };

  test('after A01s for both patients, an A40 keeps both, linked both ways, the old one inactive', async () => {
    for (const mr of ['PATID7001', 'PATID7002']) {
      const message = V2Message.parse(withMr(a01, mr));
      await post(adtToBundle(message, contextOf(message)));
    }
    const message = V2Message.parse(a40);
    for (let replay = 0; replay < 2; replay++) await post(adtMergeToBundle(message, contextOf(message)));
    const prior = await patientWith('PATID7001');
    const survivor = await patientWith('PATID7002');
    expect(prior.id).not.toBe(survivor.id);
    expect(prior.active).toBe(false);
    expect(prior.link).toEqual([{ type: 'replaced-by', other: { reference: `Patient/${survivor.id}` } }]);
    expect(survivor.active).toBe(true);
    expect(survivor.link).toEqual([{ type: 'replaces', other: { reference: `Patient/${prior.id}` } }]);
    expect(survivor.name?.[0].family).toBe('EVERYMAN');
    // Each patient's visit is still there; nothing was deleted.
    for (const mr of ['PATID7001', 'PATID7002']) {
      const token = encodeURIComponent(`urn:hms:v2:visit:GOOD%20HEALTH%20HOSPITAL|${mr}`);
      expect((await search(`Encounter?identifier=${token}`)).total).toBe(1);
    }
  });
});

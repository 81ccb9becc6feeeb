// Outbound builders: FHIR resources -> ORM/OML, DFT and ADT text, parsed back field by field with V2Message
// (escaping round trip, version differences), and orders fed back through the inbound ORM / OML mapping.
import type {
  Bundle,
  ChargeItem,
  Encounter,
  Patient,
  Practitioner,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import { identifier, practitioner as practitionerOf } from '../../../../integrations/hl7v2/mappings/datatypes';
import { omlToBundle, ormToBundle } from '../../../../integrations/hl7v2/mappings/orm';
import { V2Message, type V2Segment } from '../../../../integrations/hl7v2/message/v2-message';
import { buildAdtMessage } from '../../../../integrations/hl7v2/outbound/builders/adt';
import { buildChargeMessage } from '../../../../integrations/hl7v2/outbound/builders/charge';
import { buildOrderMessage } from '../../../../integrations/hl7v2/outbound/builders/order';
import {
  OutboundBuildError,
  cwe,
  segment,
  repeat,
  ts,
  type OrderInput,
  type OutboundHeader,
} from '../../../../integrations/hl7v2/outbound/builders/segments';
import { testMappingContext } from '../../../support/hl7';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const header = (overrides: Partial<OutboundHeader> = {}): OutboundHeader => ({
  sendingApplication: 'HMS',
  sendingFacility: 'GENERAL HOSPITAL',
  receivingApplication: 'LIS',
  receivingFacility: 'CENTRAL LAB',
  controlId: '01J9ZQ4V6K3M8N2P',
  time: new Date('2024-03-05T09:15:00Z'),
  processingId: 'P',
  version: '2.5.1',
  timezone: '+0100',
  ...overrides,
});

const patient: Patient = {
  resourceType: 'Patient',
  id: 'pat-42',
  identifier: [
    { type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: 'http://x/mrn', value: 'MRN-1001' },
    {
      type: { coding: [{ system: V2_0203, code: 'SS' }] },
      system: 'urn:oid:2.16.840.1.113883.4.1',
      value: '123-45-6789',
    },
  ],
  name: [
    { use: 'official', family: 'Doe', given: ['Jane', 'Mary', 'Ann'], prefix: ['Dr'], suffix: ['III'] },
    { use: 'maiden', family: 'Roe' },
  ],
  gender: 'female',
  birthDate: '1980-07-14',
  address: [
    {
      use: 'home',
      line: ['12 High Street', 'Flat 3'],
      city: 'Springfield',
      state: 'IL',
      postalCode: '62701',
      country: 'USA',
    },
  ],
  telecom: [
    { system: 'phone', value: '+1 217 555 0100', use: 'home' },
    { system: 'phone', value: '+1 217 555 0199', use: 'mobile' },
    { system: 'email', value: 'jane.doe@example.org' },
    { system: 'phone', value: '+1 217 555 0300', use: 'work' },
  ],
};

const requester: Practitioner = {
  resourceType: 'Practitioner',
  id: 'prac-7',
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
  name: [{ family: 'House', given: ['Gregory'], prefix: ['Dr'] }],
};

const encounter: Encounter = {
  resourceType: 'Encounter',
  id: 'enc-9',
  status: 'in-progress',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  identifier: [
    { system: 'http://x/account', value: 'ACC-1' },
    { type: { coding: [{ system: V2_0203, code: 'VN' }] }, system: 'http://x/visit', value: 'V-555' },
  ],
  location: [{ location: { display: 'Ward 3 Bed 12' }, status: 'active' }],
  period: { start: '2024-03-04T22:30:00+01:00' },
  subject: { reference: 'Patient/pat-42' },
};

const serviceRequest: ServiceRequest = {
  resourceType: 'ServiceRequest',
  id: 'sr-1001',
  status: 'active',
  intent: 'order',
  priority: 'stat',
  code: {
    coding: [
      { system: 'http://loinc.org', code: '58410-2', display: 'CBC panel - Blood by Automated count' },
      { system: 'urn:hms:v2:codesystem:99LAB', code: 'CBC', display: 'Full blood count' },
    ],
  },
  subject: { reference: 'Patient/pat-42' },
  authoredOn: '2024-03-05T08:00:00Z',
  occurrenceDateTime: '2024-03-05T08:30:00Z',
  reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'D64.9', display: 'Anaemia' }] }],
  note: [{ text: 'Patient fasting | since 22:00\nCall ward on result' }],
};

const specimen: Specimen = {
  resourceType: 'Specimen',
  id: 'spec-3',
  identifier: [{ system: 'http://x/specimen', value: 'S-77' }],
  accessionIdentifier: { system: 'urn:hms:v2:LAB', value: 'ACC-2024-0001' },
  type: { coding: [{ system: 'http://snomed.info/sct', code: '119297000', display: 'Blood specimen' }] },
  collection: { collectedDateTime: '2024-03-05T08:40:00Z' },
};

const order = (overrides: Partial<OrderInput> = {}): OrderInput => ({
  serviceRequest,
  patient,
  requester,
  encounter,
  structure: 'ORM_O01',
  event: 'new',
  ...overrides,
});

const seg = (message: V2Message, name: string): V2Segment => {
  const found = message.segment(name);
  if (!found) throw new Error(`no ${name} segment`);
  return found;
};
const names = (message: V2Message) => message.segments.map((s) => s.name);

describe('segment joiner and TS', () => {
  it('escapes every leaf, drops trailing empties and joins repetitions', () => {
    expect(segment('ZZZ', { 1: 'a|b', 3: ['c^d', ['e&f', 'g~h']], 4: repeat(['x\\y', undefined, ['z']]), 6: '' })).toBe(
      'ZZZ|a\\F\\b||c\\S\\d^e\\T\\f&g\\R\\h|x\\E\\y~z',
    );
    expect(segment('PV1', {})).toBe('PV1');
  });

  it('writes times in the header offset and keeps date precision', () => {
    expect(ts('2024-03-05T09:20:30Z', '+0100')).toBe('20240305102030+0100');
    expect(ts('2024-03-05T01:20:30+01:00', '-0500')).toBe('20240304192030-0500');
    expect(ts(new Date('2024-12-31T23:30:00Z'), '+0530')).toBe('20250101050000+0530');
    expect(ts('1980-07-14', '+0100')).toBe('19800714');
    expect(ts('1980-07', '+0100')).toBe('198007');
    expect(ts('not a date', '+0100')).toBeUndefined();
    expect(() => ts(new Date(), 'CET')).toThrow(OutboundBuildError);
  });

  it('names code systems as v2 does', () => {
    expect(cwe({ coding: [{ system: 'http://snomed.info/sct', code: '1', display: 'One' }] })).toEqual([
      '1',
      'One',
      'SCT',
    ]);
    expect(cwe({ coding: [{ code: 'GLU' }], text: 'Glucose' })).toEqual(['GLU', 'Glucose', 'L']);
    expect(cwe({ coding: [{ system: 'http://acme.org/codes', code: 'X' }] })).toEqual([
      'X',
      undefined,
      'http://acme.org/codes',
    ]);
    expect(cwe({ coding: [{ system: `${V2_0203}`, code: 'MR' }] })).toEqual(['MR', undefined, 'HL70203']);
    expect(cwe({ text: 'free text only' })).toEqual([undefined, 'free text only']);
    expect(cwe(undefined)).toBeUndefined();
  });
});

describe('buildOrderMessage ORM^O01 (v2.3)', () => {
  const text = buildOrderMessage(order(), header({ version: '2.3' }));
  const message = V2Message.parse(text);

  it('joins segments with CR and no trailing CR', () => {
    expect(text.startsWith('MSH|^~\\&|HMS|GENERAL HOSPITAL|LIS|CENTRAL LAB|20240305101500+0100||ORM^O01|')).toBe(true);
    expect(text.endsWith('\r')).toBe(false);
    expect(text).not.toContain('\n');
    expect(names(message)).toEqual(['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'NTE']);
  });

  it('fills MSH from the header, in original acknowledgment mode', () => {
    const msh = seg(message, 'MSH');
    expect(msh.field(9).toString()).toBe('ORM^O01');
    expect(message.header).toMatchObject({
      sendingApplication: 'HMS',
      receivingFacility: 'CENTRAL LAB',
      controlId: '01J9ZQ4V6K3M8N2P',
      processingId: 'P',
      version: '2.3',
      acceptAckType: '',
      applicationAckType: '',
      charset: '',
      structure: 'ORM_O01',
    });
  });

  it('writes every patient identifier with its system, then our own id in the HMS namespace', () => {
    const pid = seg(message, 'PID');
    const ids = pid.repetitions(3);
    expect(ids.map((f) => f.toString())).toEqual([
      'MRN-1001^^^&http://x/mrn&URI^MR',
      '123-45-6789^^^&2.16.840.1.113883.4.1&ISO^SS',
      'pat-42^^^HMS^PI',
    ]);
    const context = testMappingContext();
    expect(ids.map((f) => identifier(f, context)?.system)).toEqual([
      'http://x/mrn',
      'urn:oid:2.16.840.1.113883.4.1',
      'urn:hms:v2:HMS',
    ]);
    expect(pid.repetitions(5).map((f) => f.toString())).toEqual(['Doe^Jane^Mary Ann^III^Dr^^L', 'Roe^^^^^^M']);
    expect(pid.get(7)).toBe('19800714');
    expect(pid.get(8)).toBe('F');
    expect(pid.field(11).toString()).toBe('12 High Street^Flat 3^Springfield^IL^62701^USA^H');
    expect(pid.repetitions(13).map((f) => f.toString())).toEqual([
      '+1 217 555 0100^PRN^PH',
      '+1 217 555 0199^PRN^CP',
      '^NET^Internet^jane.doe@example.org',
    ]);
    expect(pid.field(14).toString()).toBe('+1 217 555 0300^WPN^PH');
  });

  it('writes the visit from the encounter', () => {
    const pv1 = seg(message, 'PV1');
    expect(pv1.get(2)).toBe('I');
    expect(pv1.get(3)).toBe('Ward 3 Bed 12');
    expect(pv1.field(19).toString()).toBe('V-555^^^&http://x/visit&URI^VN');
    expect(pv1.get(44)).toBe('20240304223000+0100');
  });

  it('writes ORC and OBR with our placer number, the code, priority in OBR-5 and OBR-27', () => {
    const orc = seg(message, 'ORC');
    expect(orc.get(1)).toBe('NW');
    expect(orc.field(2).toString()).toBe('sr-1001^HMS');
    expect(orc.get(3)).toBe('');
    expect(orc.get(5)).toBe('');
    expect(orc.get(9)).toBe('20240305090000+0100');
    expect(orc.field(12).toString()).toBe('1234567893^House^Gregory^^^Dr^^^&http://hl7.org/fhir/sid/us-npi&URI');
    const obr = seg(message, 'OBR');
    expect(obr.get(1)).toBe('1');
    expect(obr.field(2).toString()).toBe('sr-1001^HMS');
    expect(obr.field(4).toString()).toBe('58410-2^CBC panel - Blood by Automated count^LN^CBC^Full blood count^99LAB');
    expect(obr.get(5)).toBe('S');
    expect(obr.get(7)).toBe('20240305093000+0100');
    expect(obr.get(16, 2)).toBe('House');
    expect(obr.get(27, 4)).toBe('20240305093000+0100');
    expect(obr.get(27, 6)).toBe('S');
    expect(obr.field(31).toString()).toBe('D64.9^Anaemia^I10');
  });

  it('reads the requester back as the same practitioner', () => {
    const back = practitionerOf(seg(message, 'ORC').field(12), testMappingContext());
    expect(back?.identifier?.[0]).toEqual({ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' });
    expect(back?.name?.[0]).toEqual({ family: 'House', given: ['Gregory'], prefix: ['Dr'] });
  });

  it('writes notes as placer NTEs with escaped delimiters and line breaks', () => {
    expect(text).toContain('NTE|1|P|Patient fasting \\F\\ since 22:00\\.br\\Call ward on result');
    expect(seg(message, 'NTE').get(3)).toBe('Patient fasting | since 22:00\nCall ward on result');
  });
});

describe('buildOrderMessage OML^O21 (v2.5.1)', () => {
  const text = buildOrderMessage(
    order({ structure: 'OML_O21', specimen: [specimen, { resourceType: 'Specimen', id: 'spec-4' }] }),
    header({ charset: 'UNICODE UTF-8' }),
  );
  const message = V2Message.parse(text);

  it('sends the structure in MSH-9 and the charset in MSH-18', () => {
    expect(seg(message, 'MSH').field(9).toString()).toBe('OML^O21^OML_O21');
    expect(message.header.charset).toBe('UNICODE UTF-8');
    expect(message.header.version).toBe('2.5.1');
  });

  it('puts timing in TQ1 (not OBR-5 / OBR-27) and specimens in SPM after the OBR', () => {
    expect(names(message)).toEqual(['MSH', 'PID', 'PV1', 'ORC', 'TQ1', 'OBR', 'NTE', 'SPM', 'SPM']);
    const tq1 = seg(message, 'TQ1');
    expect(tq1.get(7)).toBe('20240305093000+0100');
    expect(tq1.get(9)).toBe('S');
    const obr = seg(message, 'OBR');
    expect(obr.get(5)).toBe('');
    expect(obr.field(27).isEmpty).toBe(true);
    expect(obr.get(4)).toBe('58410-2');
  });

  it('writes SPM-2 placer and filler ids, SPM-4 type and SPM-17 collection time', () => {
    const [first, second] = message.all('SPM');
    expect(first.get(1)).toBe('1');
    expect(first.field(2).subcomponents(1)).toEqual(['S-77', '', 'http://x/specimen', 'URI']);
    expect(first.field(2).subcomponents(2)).toEqual(['ACC-2024-0001', 'LAB']);
    expect(first.field(4).toString()).toBe('119297000^Blood specimen^SCT');
    expect(first.get(17)).toBe('20240305094000+0100');
    expect(second.get(1)).toBe('2');
    expect(second.field(2).subcomponents(1)).toEqual(['spec-4', 'HMS']);
  });

  it('refuses OML for receivers before v2.5', () => {
    expect(() => buildOrderMessage(order({ structure: 'OML_O21' }), header({ version: '2.4' }))).toThrow(
      expect.objectContaining({ location: 'MSH-12' }),
    );
  });
});

describe('buildOrderMessage events and versions', () => {
  const withFiller: ServiceRequest = {
    ...serviceRequest,
    status: 'revoked',
    identifier: [{ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: 'urn:hms:v2:LAB', value: 'F-9001' }],
  };

  it('cancels with ORC-1 CA and echoes the filler number', () => {
    const message = V2Message.parse(
      buildOrderMessage(order({ serviceRequest: withFiller, event: 'cancel' }), header()),
    );
    const orc = seg(message, 'ORC');
    expect(orc.get(1)).toBe('CA');
    expect(orc.get(5)).toBe('CA');
    expect(orc.field(3).toString()).toBe('F-9001^LAB');
    expect(seg(message, 'OBR').field(3).toString()).toBe('F-9001^LAB');
  });

  it('changes with ORC-1 XO and the current status', () => {
    const message = V2Message.parse(buildOrderMessage(order({ event: 'change' }), header({ version: '2.4' })));
    expect(seg(message, 'ORC').get(1)).toBe('XO');
    expect(seg(message, 'ORC').get(5)).toBe('IP');
    expect(seg(message, 'MSH').field(9).toString()).toBe('ORM^O01');
  });

  it('sends ORM^O01 without a structure even to v2.5.1 receivers, and no OBR-5 there', () => {
    const message = V2Message.parse(buildOrderMessage(order({ encounter: undefined }), header()));
    expect(seg(message, 'MSH').field(9).toString()).toBe('ORM^O01');
    expect(names(message)).toEqual(['MSH', 'PID', 'ORC', 'OBR', 'NTE']);
    expect(seg(message, 'OBR').get(5)).toBe('');
    expect(seg(message, 'OBR').get(27, 6)).toBe('S');
  });

  it('needs the ServiceRequest id and code', () => {
    const { id: _id, ...noId } = serviceRequest;
    expect(() => buildOrderMessage(order({ serviceRequest: noId }), header())).toThrow(
      expect.objectContaining({ location: 'ORC-2' }),
    );
    const noCode = { ...serviceRequest, code: undefined };
    expect(() => buildOrderMessage(order({ serviceRequest: noCode }), header())).toThrow(OutboundBuildError);
  });

  it('needs some patient identifier', () => {
    const anonymous: Patient = { resourceType: 'Patient', name: [{ family: 'X' }] };
    expect(() => buildOrderMessage(order({ patient: anonymous }), header())).toThrow(
      expect.objectContaining({ location: 'PID-3' }),
    );
  });
});

describe('escaping round trip', () => {
  const family = "O'Brien|Smith^Jr & co~x\\y";
  const tricky: Patient = {
    ...patient,
    identifier: [{ system: 'http://x/mrn', value: 'A|B^C' }],
    name: [{ family, given: ['Ann~Marie', 'B&B'] }],
  };

  it.each(['2.3', '2.5.1'] as const)('keeps every delimiter in names and identifiers (v%s)', (version) => {
    const text = buildOrderMessage(order({ patient: tricky }), header({ version }));
    const pid = seg(V2Message.parse(text), 'PID');
    expect(pid.get(5, 1)).toBe(family);
    expect(pid.get(5, 2)).toBe('Ann~Marie');
    expect(pid.get(5, 3)).toBe('B&B');
    expect(pid.repetitions(5)).toHaveLength(1);
    expect(pid.get(3, 1)).toBe('A|B^C');
    expect(pid.repetitions(3)).toHaveLength(2);
    expect(text).toContain(
      "PID|1||A\\F\\B\\S\\C^^^&http://x/mrn&URI~pat-42^^^HMS^PI||O'Brien\\F\\Smith\\S\\Jr \\T\\ co\\R\\x\\E\\y^",
    );
  });

  it('escapes header values', () => {
    const message = V2Message.parse(buildAdtMessage({ trigger: 'A08', patient }, header({ sendingFacility: 'A&B|C' })));
    expect(message.header.sendingFacility).toBe('A&B|C');
    expect(message.header.version).toBe('2.5.1');
  });
});

describe('buildChargeMessage DFT^P03', () => {
  const chargeItem: ChargeItem = {
    resourceType: 'ChargeItem',
    id: 'ci-5',
    identifier: [{ system: 'http://x/charge', value: 'CHG-2024-77' }],
    status: 'billable',
    code: {
      coding: [
        { system: 'urn:hms:v2:codesystem:CDM', code: '300100', display: 'X-ray ankle' },
        { system: 'http://www.ama-assn.org/go/cpt', code: '73630', display: 'X-ray exam of foot' },
      ],
      text: 'Ankle X-ray, 3 views',
    },
    subject: { reference: 'Patient/pat-42' },
    occurrencePeriod: { start: '2024-03-05T10:00:00Z', end: '2024-03-05T10:20:00Z' },
    enteredDate: '2024-03-05T11:00:00Z',
    quantity: { value: 2 },
    priceOverride: { value: 100, currency: 'USD' },
    reason: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'S93.4', display: 'Sprain of ankle' }] }],
  };
  const performer: Practitioner = {
    resourceType: 'Practitioner',
    id: 'prac-8',
    name: [{ family: 'Grey', given: ['Meredith'] }],
  };
  const text = buildChargeMessage({ chargeItem, patient, encounter, performer }, header({ version: '2.5' }));
  const message = V2Message.parse(text);

  it('is MSH, EVN, PID, PV1, FT1 with the structure in MSH-9', () => {
    expect(names(message)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'FT1']);
    expect(seg(message, 'MSH').field(9).toString()).toBe('DFT^P03^DFT_P03');
    expect(seg(message, 'EVN').get(1)).toBe('P03');
    expect(seg(message, 'EVN').get(2)).toBe('20240305101500+0100');
  });

  it('writes the charge in FT1', () => {
    const ft1 = seg(message, 'FT1');
    expect(ft1.get(1)).toBe('1');
    expect(ft1.get(2)).toBe('CHG-2024-77');
    expect(ft1.get(4)).toBe('20240305110000+0100');
    expect(ft1.get(5)).toBe('20240305120000+0100');
    expect(ft1.get(6)).toBe('CG');
    expect(ft1.field(7).toString()).toBe('300100^X-ray ankle^CDM^73630^X-ray exam of foot^C4');
    expect(ft1.get(8)).toBe('Ankle X-ray, 3 views');
    expect(ft1.get(10)).toBe('2');
    expect(ft1.field(11).subcomponents(1)).toEqual(['100', 'USD']);
    expect(ft1.get(11, 1, 2)).toBe('USD');
    expect(ft1.field(19).toString()).toBe('S93.4^Sprain of ankle^I10');
    expect(ft1.field(20).toString()).toBe('prac-8^Grey^Meredith^^^^^^HMS');
    expect(ft1.field(25).toString()).toBe('73630^X-ray exam of foot^C4');
  });

  it('credits a charge entered in error, uses the id without identifiers, and factor x quantity', () => {
    const reversal: ChargeItem = {
      ...chargeItem,
      identifier: undefined,
      status: 'entered-in-error',
      priceOverride: undefined,
      factorOverride: 0.1,
      quantity: { value: 3 },
      code: { coding: [{ code: 'LAB1' }] },
    };
    const ft1 = seg(V2Message.parse(buildChargeMessage({ chargeItem: reversal, patient }, header())), 'FT1');
    expect(ft1.get(2)).toBe('ci-5');
    expect(ft1.get(6)).toBe('CD');
    expect(ft1.field(7).toString()).toBe('LAB1^^L');
    expect(ft1.get(11)).toBe('0.3');
    expect(ft1.field(25).isEmpty).toBe(true);
  });

  it('omits the structure for v2.3 receivers and needs a transaction id', () => {
    const v23 = V2Message.parse(buildChargeMessage({ chargeItem, patient }, header({ version: '2.3' })));
    expect(seg(v23, 'MSH').field(9).toString()).toBe('DFT^P03');
    expect(names(v23)).toEqual(['MSH', 'EVN', 'PID', 'FT1']);
    const anonymous = { ...chargeItem, id: undefined, identifier: undefined };
    expect(() => buildChargeMessage({ chargeItem: anonymous, patient }, header())).toThrow(
      expect.objectContaining({ location: 'FT1-2' }),
    );
  });
});

describe('buildAdtMessage', () => {
  const attending: Practitioner = {
    resourceType: 'Practitioner',
    identifier: [
      { type: { coding: [{ system: V2_0203, code: 'NPI' }] }, system: 'urn:hms:v2:NPI', value: '9876543210' },
    ],
    name: [{ family: 'Wilson', given: ['James'] }],
  };
  const discharged: Encounter = {
    ...encounter,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    identifier: [{ system: 'http://x/account', value: 'ACC-1' }],
    period: { start: '2024-03-04T22:30:00+01:00', end: '2024-03-06T09:00:00Z' },
  };

  it('A08 in v2.5.1 uses ADT_A01 and carries EVN, PID and PV1 with the attending doctor', () => {
    const message = V2Message.parse(buildAdtMessage({ trigger: 'A08', patient, encounter, attending }, header()));
    expect(names(message)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    expect(seg(message, 'MSH').field(9).toString()).toBe('ADT^A08^ADT_A01');
    expect(seg(message, 'EVN').get(1)).toBe('A08');
    expect(seg(message, 'PID').repetitions(3)).toHaveLength(3);
    const pv1 = seg(message, 'PV1');
    expect(pv1.field(7).toString()).toBe('9876543210^Wilson^James^^^^^^NPI^^^^NPI');
    expect(pv1.get(19)).toBe('V-555');
    expect(pv1.get(44)).toBe('20240304223000+0100');
    expect(pv1.get(45)).toBe('');
  });

  it('A03 closes the visit in PV1-45; the first identifier is the visit number when none is VN', () => {
    const pv1 = seg(
      V2Message.parse(buildAdtMessage({ trigger: 'A03', patient, encounter: discharged }, header())),
      'PV1',
    );
    expect(pv1.get(2)).toBe('E');
    expect(pv1.field(19).toString()).toBe('ACC-1^^^&http://x/account&URI^VN');
    expect(pv1.get(45)).toBe('20240306100000+0100');
  });

  it('uses the v2.3 message type, ADT_A09 for A11, and PV1 N without an encounter', () => {
    const v23 = V2Message.parse(buildAdtMessage({ trigger: 'A08', patient }, header({ version: '2.3' })));
    expect(seg(v23, 'MSH').field(9).toString()).toBe('ADT^A08');
    expect(seg(v23, 'PV1').get(2)).toBe('N');
    const a11 = V2Message.parse(buildAdtMessage({ trigger: 'A11', patient, encounter }, header()));
    expect(seg(a11, 'MSH').field(9).toString()).toBe('ADT^A11^ADT_A09');
    const a04 = V2Message.parse(buildAdtMessage({ trigger: 'A04', patient }, header({ version: '2.4' })));
    expect(seg(a04, 'MSH').field(9).toString()).toBe('ADT^A04^ADT_A01');
  });

  it('writes the death and the encounter id when there is no identifier', () => {
    const dead: Patient = { ...patient, deceasedDateTime: '2024-03-06T08:00:00Z' };
    const bare: Encounter = { resourceType: 'Encounter', id: 'enc-1', status: 'planned', class: { code: 'XYZ' } };
    const message = V2Message.parse(buildAdtMessage({ trigger: 'A01', patient: dead, encounter: bare }, header()));
    expect(seg(message, 'PID').get(29)).toBe('20240306090000+0100');
    expect(seg(message, 'PID').get(30)).toBe('Y');
    expect(seg(message, 'PV1').get(2)).toBe('U');
    expect(seg(message, 'PV1').field(19).toString()).toBe('enc-1^^^HMS^VN');
  });
});

describe('round trip through the inbound ORM / OML mapping', () => {
  const context = testMappingContext({ sender: 'HMS' });
  const resources = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource);
  const requestOf = (bundle: Bundle): ServiceRequest => {
    const requests = resources(bundle).filter((r): r is ServiceRequest => r?.resourceType === 'ServiceRequest');
    expect(requests).toHaveLength(1);
    return requests[0];
  };
  const sameInstant = (a: string | undefined, b: string | undefined) =>
    expect(new Date(a ?? '').getTime()).toBe(new Date(b ?? '').getTime());

  it('maps our ORM back to the ServiceRequest we sent', () => {
    const text = buildOrderMessage(order(), header({ version: '2.3' }));
    const request = requestOf(ormToBundle(V2Message.parse(text), context));
    expect(request.identifier?.[0]).toMatchObject({ system: 'urn:hms:v2:HMS', value: 'sr-1001' });
    expect(request.code?.coding?.slice(0, 2)).toEqual(serviceRequest.code?.coding);
    expect(request).toMatchObject({ status: 'active', intent: 'order', priority: 'stat' });
    sameInstant(request.authoredOn, serviceRequest.authoredOn);
    sameInstant(request.occurrenceDateTime, serviceRequest.occurrenceDateTime);
    expect(request.note).toEqual(serviceRequest.note);
    expect(request.reasonCode).toEqual(serviceRequest.reasonCode);
    expect(decodeURIComponent(request.subject?.reference ?? '')).toBe('Patient?identifier=http://x/mrn|MRN-1001');
    const practitioners = resources(ormToBundle(V2Message.parse(text), context)).filter(
      (r): r is Practitioner => r?.resourceType === 'Practitioner',
    );
    expect(practitioners.map((p) => p.identifier?.[0].system)).toEqual(['http://hl7.org/fhir/sid/us-npi']);
  });

  it('maps a cancel back to a revoked request', () => {
    const text = buildOrderMessage(order({ event: 'cancel' }), header({ version: '2.3' }));
    expect(requestOf(ormToBundle(V2Message.parse(text), context)).status).toBe('revoked');
  });

  it('maps our OML back with its specimens', () => {
    const text = buildOrderMessage(order({ structure: 'OML_O21', specimen: [specimen] }), header());
    const bundle = omlToBundle(V2Message.parse(text), context);
    const request = requestOf(bundle);
    expect(request.priority).toBe('stat');
    sameInstant(request.occurrenceDateTime, serviceRequest.occurrenceDateTime);
    const specimens = resources(bundle).filter((r): r is Specimen => r?.resourceType === 'Specimen');
    expect(specimens).toHaveLength(1);
    expect(specimens[0].identifier?.map((i) => [i.system, i.value])).toEqual([
      ['http://x/specimen', 'S-77'],
      ['urn:hms:v2:LAB', 'ACC-2024-0001'],
    ]);
    expect(specimens[0].type).toEqual(specimen.type);
    sameInstant(specimens[0].collection?.collectedDateTime, specimen.collection?.collectedDateTime);
  });
});

// ORM^O01 / OML^O21 -> ServiceRequest (+ Practitioner, ask-at-order-entry Observations, Specimens, Task):
// field by field for orm_o01_01 and oml_o21_01, the status / intent / priority tables, grouping and errors.
import type {
  Bundle,
  BundleEntry,
  Observation,
  Practitioner,
  ServiceRequest,
  Specimen,
  Task,
} from '@medplum/fhirtypes';
import { ormToBundle } from '../../../../integrations/hl7v2/mappings/orm';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { hl7Fixture, hl7FixtureNames, testMappingContext } from '../../../support/hl7';
import { entriesOf, mappingError } from './helpers';

const ORDER_FIXTURES = hl7FixtureNames().filter((n) => /^(orm|oml)_/.test(n));
const context = testMappingContext({ sender: 'SomeSystem', channel: 'lab', messageId: 'm-9' });
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const mapText = (text: string): Bundle => ormToBundle(V2Message.parse(text), context);
const mapFixture = (name: string, edit: (text: string) => string = (t) => t) => mapText(edit(hl7Fixture(name)));
const only = <T>(bundle: Bundle, type: string): { entry: BundleEntry; resource: T } => {
  const found = entriesOf(bundle, type);
  expect(found).toHaveLength(1);
  return { entry: found[0], resource: found[0].resource as T };
};
const request = (bundle: Bundle) => only<ServiceRequest>(bundle, 'ServiceRequest').resource;

describe('orm_o01_01 (v2.3 lab order, NW)', () => {
  const bundle = mapFixture('orm_o01_01.hl7');

  it('upserts one ServiceRequest on the placer number, listing placer and filler numbers', () => {
    const { entry, resource } = only<ServiceRequest>(bundle, 'ServiceRequest');
    expect(entry.request).toEqual({
      method: 'PUT',
      url: `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:SomeSystem|88502218')}`,
    });
    expect(resource.identifier).toEqual([
      { type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: 'urn:hms:v2:SomeSystem', value: '88502218' },
      { type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: 'urn:hms:v2:SomeSystem', value: '82503246' },
    ]);
    expect(resource.meta?.source).toBe('hl7v2:lab#m-9');
  });

  it('maps status, intent, code, times and the patient as a conditional reference', () => {
    const resource = request(bundle);
    expect(resource.status).toBe('active');
    expect(resource.intent).toBe('order');
    expect(resource.code).toEqual({
      coding: [{ system: 'http://loinc.org', code: '24317-0', display: 'Hemogram and platelet count, automated' }],
    });
    expect(resource.occurrenceDateTime).toBe('2014-10-06T06:44:00Z');
    expect(resource.authoredOn).toBe('2014-10-06T09:29:00Z');
    expect(resource.subject).toEqual({
      reference: `Patient?identifier=${encodeURIComponent('urn:hms:v2:1|10006579')}`,
      display: 'DONALD D DUCK',
    });
    expect(resource.priority).toBeUndefined();
    expect(entriesOf(bundle, 'Patient')).toHaveLength(0);
  });

  it('takes the requester from OBR-16 when ORC-12 is empty (a named Practitioner without id is created)', () => {
    const { entry, resource } = only<Practitioner>(bundle, 'Practitioner');
    expect(entry.request).toEqual({ method: 'POST', url: 'Practitioner' });
    expect(resource.name).toEqual([{ family: 'URO', prefix: ['DR'] }]);
    expect(request(bundle).requester).toEqual({ reference: entry.fullUrl, display: 'DR URO' });
  });

  it('adds a fulfil Task for the ORM order, focused on the ServiceRequest', () => {
    const { entry, resource } = only<Task>(bundle, 'Task');
    const serviceRequest = only<ServiceRequest>(bundle, 'ServiceRequest').entry;
    expect(entry.request?.url).toBe(
      `Task?identifier=${encodeURIComponent('urn:hms:v2:order-task:SomeSystem|88502218')}`,
    );
    expect(resource).toMatchObject({
      status: 'requested',
      intent: 'order',
      focus: { reference: serviceRequest.fullUrl },
      for: request(bundle).subject,
      authoredOn: '2014-10-06T09:29:00Z',
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    });
  });
});

describe('oml_o21_01 (v2.5.1 OML with TQ1, OBX and three SPM)', () => {
  const bundle = mapFixture('oml_o21_01.hl7');

  it('maps identifiers, requisition, priority from TQ1-9 and the requester', () => {
    const resource = request(bundle);
    expect(resource.identifier).toEqual([
      { type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: 'urn:hms:v2:gastric', value: '12345678' },
    ]);
    expect(resource.requisition).toEqual({
      type: { coding: [{ system: V2_0203, code: 'PGN' }] },
      system: 'urn:hms:v2:gastric',
      value: '666',
    });
    expect(resource.priority).toBe('asap');
    expect(resource.authoredOn).toBe('2003-09-06T07:10:00Z');
    expect(resource.code?.coding?.[0]).toEqual({
      system: 'http://www.ama-assn.org/go/cpt',
      code: '82951',
      display: 'Glucose Tolerance Test',
    });
    expect(resource.subject?.reference).toBe(
      `Patient?identifier=${encodeURIComponent('urn:hms:v2:Memphis_Hosp|12345')}`,
    );
    const practitioner = only<Practitioner>(bundle, 'Practitioner');
    expect(practitioner.resource.identifier).toEqual([{ system: 'urn:hms:v2:SomeSystem', value: '222222' }]);
    expect(resource.requester?.reference).toBe(practitioner.entry.fullUrl);
  });

  it('references each SPM as a Specimen upserted on its placer id', () => {
    const specimens = entriesOf(bundle, 'Specimen');
    expect(specimens.map((e) => (e.resource as Specimen).identifier?.[0]?.value)).toEqual([
      '123456781',
      '123456782',
      '123456783',
    ]);
    expect(specimens[0].request?.url).toBe(
      `Specimen?identifier=${encodeURIComponent('urn:hms:v2:SomeSystem|123456781')}`,
    );
    const first = specimens[0].resource as Specimen;
    expect(first.type).toEqual({ coding: [{ code: 'SER' }] });
    expect(first.collection).toEqual({ collectedDateTime: '2003-09-06T07:35:00Z' });
    expect(first.subject).toEqual(request(bundle).subject);
    expect(request(bundle).specimen).toEqual(specimens.map((e) => ({ reference: e.fullUrl })));
  });

  it('maps the OBX after OBR as a supporting Observation keyed on the order and OBX-3', () => {
    const { entry, resource } = only<Observation>(bundle, 'Observation');
    expect(entry.request?.url).toBe(
      `Observation?identifier=${encodeURIComponent('urn:hms:v2:order-observation:SomeSystem|12345678-GLUCOSE')}`,
    );
    expect(resource).toMatchObject({
      status: 'final',
      code: { coding: [{ code: 'GLUCOSE' }] },
      valueQuantity: { value: 75, unit: 'g' },
      effectiveDateTime: '2003-09-06T07:35:00Z',
      subject: request(bundle).subject,
    });
    expect(request(bundle).supportingInfo).toEqual([{ reference: entry.fullUrl }]);
  });

  it('writes no Task for OML', () => {
    expect(entriesOf(bundle, 'Task')).toHaveLength(0);
  });
});

describe('every ORM / OML sample', () => {
  test.each(ORDER_FIXTURES)('%s maps to valid, linked entries', (name) => {
    const bundle = mapFixture(name);
    const requests = entriesOf(bundle, 'ServiceRequest');
    expect(requests.length).toBeGreaterThan(0);
    for (const { resource } of requests) {
      const sr = resource as ServiceRequest;
      expect(sr.status).toBeTruthy();
      expect(sr.intent).toBeTruthy();
      expect(sr.subject?.reference).toMatch(/^Patient\?identifier=/);
      expect(sr.identifier?.some((i) => i.type?.coding?.[0]?.code === 'PLAC')).toBe(true);
    }
    const fullUrls = new Set(bundle.entry?.map((e) => e.fullUrl));
    const references = JSON.stringify(bundle).match(/"reference":"urn:uuid:[^"]+"/g) ?? [];
    for (const reference of references) expect(fullUrls).toContain(reference.slice(13, -1));
    expect(entriesOf(bundle, 'Patient')).toHaveLength(0);
  });

  it('two OBRs with one order number (oml_o21_02) become two ServiceRequests with their own keys', () => {
    const bundle = mapFixture('oml_o21_02.hl7');
    const requests = entriesOf(bundle, 'ServiceRequest');
    expect(requests.map((e) => decodeURIComponent(e.request?.url ?? ''))).toEqual([
      'ServiceRequest?identifier=urn:hms:v2:order-item:SomeSystem|ORD723222^1320',
      'ServiceRequest?identifier=urn:hms:v2:order-item:SomeSystem|ORD723222^1680',
    ]);
    const second = requests[1].resource as ServiceRequest;
    expect(second.identifier?.[0]).toMatchObject({ system: 'urn:oid:2.16.840.1.113883.3.72.5.24', value: 'ORD723222' });
    expect(second.identifier?.[1]).toMatchObject({ system: 'urn:oid:2.16.840.1.113883.3.72.5.25', value: 'R783274' });
    expect(second.note).toEqual([{ text: 'the sky is blue' }]);
    expect(second.reasonCode?.[0]?.coding?.[0]?.code).toBe('RFS01');
    expect(second.supportingInfo).toHaveLength(1);
    expect(second.specimen).toHaveLength(1);
    expect((requests[0].resource as ServiceRequest).supportingInfo).toBeUndefined();
    expect(only<Observation>(bundle, 'Observation').resource.valueString).toBe('NO');
    // An SPM without SPM-2 is keyed on the order and its set id.
    expect(only<Specimen>(bundle, 'Specimen').resource.identifier).toEqual([
      { system: 'urn:hms:v2:specimen:SomeSystem', value: 'ORD723222^1680-1' },
    ]);
  });

  it('DG1 in the order group adds its code to reasonCode; ORC-7 TQ.4 gives the occurrence (orm_o01_03)', () => {
    const resource = request(mapFixture('orm_o01_03.hl7'));
    expect(resource.reasonCode).toEqual([
      { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'S06.9', display: 'TBI(traumatic brain injury' }] },
    ]);
    expect(resource.occurrenceDateTime).toBe('2002-03-15');
  });
});

describe('order status, intent and priority', () => {
  const withOrc = (control: string, status = 'NW') =>
    mapFixture('orm_o01_01.hl7', (t) =>
      t.replace('\rORC|NW|88502218|82503246||NW|', `\rORC|${control}|88502218|82503246||${status}|`),
    );

  it('a cancel (ORC-1 CA) revokes the same ServiceRequest, without taking ORC-9 as authoredOn', () => {
    const created = only<ServiceRequest>(withOrc('NW'), 'ServiceRequest').entry;
    const cancelled = withOrc('CA');
    const { entry, resource } = only<ServiceRequest>(cancelled, 'ServiceRequest');
    expect(entry.request).toEqual(created.request);
    expect(resource.status).toBe('revoked');
    expect(resource.authoredOn).toBeUndefined();
    expect(only<Task>(cancelled, 'Task').resource.status).toBe('cancelled');
  });

  it.each([
    ['NW', 'SC', 'active', 'accepted'],
    ['NW', 'IP', 'active', 'in-progress'],
    ['SC', 'CM', 'completed', 'completed'],
    ['SC', 'ER', 'entered-in-error', 'entered-in-error'],
    ['DC', 'IP', 'revoked', 'cancelled'],
    ['HD', '', 'on-hold', 'on-hold'],
    ['XO', '', 'active', 'requested'],
    ['SC', 'HD', 'on-hold', 'on-hold'],
  ])('ORC-1 %s with ORC-5 %s -> %s (Task %s)', (control, status, expected, task) => {
    const bundle = withOrc(control, status);
    expect(request(bundle).status).toBe(expected);
    expect(only<Task>(bundle, 'Task').resource.status).toBe(task);
  });

  it.each([
    ['G', 'reflex-order'],
    ['A', 'order'],
    ['L', 'order'],
  ])('OBR-11 %s -> intent %s', (action, intent) => {
    const bundle = mapFixture('orm_o01_01.hl7', (t) => t.replace('^COLLECT^JOHN|P|', `^COLLECT^JOHN|${action}|`));
    expect(request(bundle).intent).toBe(intent);
  });

  it.each([
    ['S', 'stat'],
    ['A', 'asap'],
    ['R', 'routine'],
    ['T', undefined],
  ])('OBR-5 %s -> priority %s', (code, priority) => {
    const bundle = mapFixture('orm_o01_01.hl7', (t) =>
      t.replace('Hemogram and platelet count, automated^LN||', `Hemogram and platelet count, automated^LN|${code}|`),
    );
    expect(request(bundle).priority).toBe(priority);
  });

  it('TQ1-7/8 give an occurrence period', () => {
    const bundle = mapFixture('oml_o21_01.hl7', (t) =>
      t.replace('\rTQ1|||||||||A', '\rTQ1|||||||200309061000|200309061200||A'),
    );
    expect(request(bundle).occurrencePeriod).toEqual({ start: '2003-09-06T10:00:00Z', end: '2003-09-06T12:00:00Z' });
  });

  it('an ORC without OBR patches the status of the order it names', () => {
    const bundle = mapText(
      'MSH|^~\\&|LIS|LAB|HIS|HOSP|202401020304||ORM^O01|1|P|2.3\rPID|1||77^^^HOSP^MR\rORC|CA|P-1^HIS\r',
    );
    expect(bundle.entry).toHaveLength(1);
    const patch = bundle.entry?.[0];
    expect(patch?.request).toEqual({
      method: 'PATCH',
      url: `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:HIS|P-1')}`,
    });
    const operations = JSON.parse(Buffer.from((patch?.resource as { data: string }).data, 'base64').toString());
    expect(operations).toEqual([{ op: 'replace', path: '/status', value: 'revoked' }]);
  });
});

describe('errors', () => {
  it('a message without a patient identifier is a missing PID-3', () => {
    const error = mappingError(() =>
      mapFixture('orm_o01_01.hl7', (t) => t.replace('PID|1||10006579^^^1^MR^1|', 'PID|1|||')),
    );
    expect(error.location).toBe('PID^1^3');
    expect(error.code).toBe('101');
  });

  it('an order without placer or filler number is a missing ORC-2', () => {
    const error = mappingError(() =>
      mapFixture('orm_o01_01.hl7', (t) => t.replace(/88502218/g, '').replace(/82503246/g, '')),
    );
    expect(error.location).toBe('ORC^1^2');
  });

  it('a message without ORC or OBR is a segment sequence error', () => {
    const error = mappingError(() => mapText('MSH|^~\\&|A|B|C|D|2024||ORM^O01|1|P|2.3\rPID|1||77^^^HOSP^MR\r'));
    expect(error.code).toBe('100');
  });

  it('Z-segments and unknown segments are ignored', () => {
    const bundle = mapFixture('orm_o01_01.hl7', (t) => `${t}ZXY|1|anything^here\r`);
    expect(request(bundle).status).toBe('active');
  });
});

// Lab results over the socket: the patient registered by ADT, a preliminary then a final ORU updating the
// same Observations; a result for an unknown patient stored as an orphan (logical reference + worklist Task)
// and linked once the patient exists and the message is reprocessed; our own placer number links the order.
import type { AuditEvent, DiagnosticReport, Observation, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { hl7FixtureBytes } from '../../../support/hl7';
import { hl7, msh, oru, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;

beforeAll(async () => {
  server = await startInbound();
});
afterAll(() => server.close());

const controlIdOf = (bytes: Buffer) => bytes.toString('latin1').split('\r')[0].split('|')[9];

async function sendAndApply(bytes: Buffer | string): Promise<string> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const ack = parseAck(await server.send(buffer));
  expect({ code: ack.code, controlId: ack.controlId, errors: ack.errors }).toEqual({
    code: 'AA',
    controlId: controlIdOf(buffer),
    errors: [],
  });
  await server.bridge.idle();
  const stored = await server.byControlId(controlIdOf(buffer));
  expect(stored.error).toBeUndefined();
  expect(stored.status).toBe('processed');
  return stored.id;
}

const observations = (patientId: string) =>
  server.search<Observation>(`Observation?patient=Patient/${patientId}&_count=50`);
const keyOf = (o: Observation) => o.identifier?.[0].value as string;

describe('oru_r01_01 (preliminary) then oru_r01_02 (final), after the ADT registration', () => {
  let patientId: string;
  let preliminary: Map<string, Observation>;

  test('an ADT^A04 with the fixture PID registers the patient', async () => {
    const pid = hl7FixtureBytes('oru_r01_01.hl7')
      .toString('latin1')
      .split('\r')
      .find((s) => s.startsWith('PID|')) as string;
    await sendAndApply(
      hl7(msh({ from: 'SomeSystem', facility: '', processing: 'T', version: '2.5' }), 'EVN|A04', pid, 'PV1|1|O'),
    );
    const [patient] = await server.search<Patient>('Patient?identifier=urn:hms:v2:1|10006579');
    expect(patient.name?.[0]).toMatchObject({ family: 'DUCK', given: ['DONALD', 'D'] });
    patientId = patient.id as string;
  });

  test('the preliminary results are stored against that patient', async () => {
    await sendAndApply(hl7FixtureBytes('oru_r01_01.hl7'));
    const found = await observations(patientId);
    expect(found).toHaveLength(10);
    preliminary = new Map(found.map((o) => [keyOf(o), o]));
    expect(preliminary.get('890775544|23761-0')).toMatchObject({ status: 'preliminary', valueQuantity: { value: 72 } });
    expect(preliminary.get('82503246|11156-7')).not.toHaveProperty('valueQuantity');
    expect(found.every((o) => o.meta?.versionId === '1')).toBe(true);
  });

  test('the final results update the same Observations (version 2, final, values of _02)', async () => {
    await sendAndApply(hl7FixtureBytes('oru_r01_02.hl7'));
    const found = await observations(patientId);
    expect(found).toHaveLength(10);
    for (const observation of found) {
      expect(observation.id).toBe(preliminary.get(keyOf(observation))?.id);
      expect(observation.meta?.versionId).toBe('2');
      expect(observation.status).toBe('final');
    }
    const value = (key: string) => found.find((o) => keyOf(o) === key)?.valueQuantity?.value;
    expect(value('82503246|11156-7')).toBe(8.2);
    expect(value('82503246|20509-6')).toBe(13.4);
    expect(value('82503246|11273-0')).toBe(4.08);
  });

  test('searchable by code and by patient; the reports reference Patient/<id> literally', async () => {
    const byCode = await server.search<Observation>(
      `Observation?code=http://loinc.org|11156-7&subject=Patient/${patientId}`,
    );
    expect(byCode.map(keyOf)).toEqual(['82503246|11156-7']);
    const reports = await server.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
    expect(reports).toHaveLength(2);
    for (const report of reports) {
      expect(report.subject).toMatchObject({ reference: `Patient/${patientId}` });
      expect(report.status).toBe('final');
      expect(report.result).toHaveLength(5);
    }
    expect(await server.count('DiagnosticReport')).toBe(2);
  });
});

describe('a result for an unknown patient', () => {
  const mrn = uid('MRN');
  const filler = uid('F');
  let messageId: string;
  let reportId: string;

  test('is acknowledged AA and stored with a logical subject and an orphan Task on the report', async () => {
    messageId = await sendAndApply(oru(mrn, filler, '7.7'));
    const [report] = await server.search<DiagnosticReport>(`DiagnosticReport?identifier=urn:hms:v2:LIS|${filler}`);
    reportId = report.id as string;
    expect(report.subject).toEqual({
      type: 'Patient',
      identifier: expect.objectContaining({ system: 'urn:hms:v2:HOSP', value: mrn }),
      display: 'JANE DOE',
    });
    const [observation] = await server.search<Observation>(
      `Observation?identifier=${encodeURIComponent(`urn:hms:v2:result:LIS|${filler}\\|2345-7`)}`,
    );
    expect(observation.subject?.identifier?.value).toBe(mrn);
    expect(observation.subject?.reference).toBeUndefined();
    const tasks = await server.search<Task>(`Task?identifier=urn:hms:hl7:orphan|${messageId}`);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      status: 'requested',
      focus: { reference: `DiagnosticReport/${reportId}` },
      code: { coding: [{ system: 'urn:hms:task', code: 'hl7-unmatched' }] },
      businessStatus: { text: 'unknown Patient' },
    });
    expect(JSON.stringify(tasks[0])).not.toContain('DOE');
  });

  test('once the patient exists, a reprocess links the same report and closes the Task', async () => {
    const created = await server.call('POST', 'Patient', {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:hms:v2:HOSP', value: mrn }],
    });
    expect(created.status).toBe(201);
    const patientId = created.body.id as string;
    const res = await server.call('POST', `/admin/hl7/messages/${messageId}/reprocess`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('processed');
    const reports = await server.search<DiagnosticReport>(`DiagnosticReport?identifier=urn:hms:v2:LIS|${filler}`);
    expect(reports.map((r) => r.id)).toEqual([reportId]);
    expect(reports[0].subject?.reference).toBe(`Patient/${patientId}`);
    const [observation] = await server.search<Observation>(`Observation?subject=Patient/${patientId}`);
    expect(observation.valueQuantity?.value).toBe(7.7);
    const [task] = await server.search<Task>(`Task?identifier=urn:hms:hl7:orphan|${messageId}`);
    expect(task.status).toBe('completed');
    expect((await server.message(messageId)).outputs?.unmatched).toBeUndefined();
  });
});

test('our own placer number (<ServiceRequest id>^HMS in OBR-2) links basedOn to that ServiceRequest', async () => {
  const mrn = uid('MRN');
  const patient = await server.call('POST', 'Patient', {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hms:v2:HOSP', value: mrn }],
  });
  const order = await server.call('POST', 'ServiceRequest', {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
    subject: { reference: `Patient/${patient.body.id}` },
  } satisfies ServiceRequest);
  expect(order.status).toBe(201);
  const filler = uid('F');
  const text = oru(mrn, filler).replace(`OBR|1||${filler}^LIS`, `OBR|1|${order.body.id}^HMS|${filler}^LIS`);
  const messageId = await sendAndApply(text);
  const [report] = await server.search<DiagnosticReport>(`DiagnosticReport?identifier=urn:hms:v2:LIS|${filler}`);
  expect(report.basedOn).toEqual([{ reference: `ServiceRequest/${order.body.id}` }]);
  expect(report.subject?.reference).toBe(`Patient/${patient.body.id}`);
  const [observation] = await server.search<Observation>(`Observation?based-on=ServiceRequest/${order.body.id}`);
  expect(observation.valueQuantity?.value).toBe(5.4);
  expect(await server.search<Task>(`Task?identifier=urn:hms:hl7:orphan|${messageId}`)).toEqual([]);
});

test('an applied message is one AuditEvent naming the channel, the message and every version it wrote', async () => {
  const mrn = uid('MRN');
  const patient = await server.call('POST', 'Patient', {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hms:v2:HOSP', value: mrn }],
  });
  const filler = uid('F');
  const messageId = await sendAndApply(oru(mrn, filler));
  const [report] = await server.search<DiagnosticReport>(`DiagnosticReport?identifier=urn:hms:v2:LIS|${filler}`);
  const events = await server.search<AuditEvent>('AuditEvent?subtype=transaction&_count=200');
  const event = events.find((e) => e.outcomeDesc === `hl7 message ${messageId} (ORU^R01)`);
  expect(event?.outcome).toBe('0');
  expect(JSON.stringify(event?.agent)).toContain('hl7/');
  const entities = (event?.entity ?? []).map((e) => e.what?.reference ?? '');
  expect(entities).toContain(`DiagnosticReport/${report.id}/_history/1`);
  expect(entities.filter((e) => e.startsWith('Observation/')).length).toBe(1);
  expect(entities).toContain(`Patient/${patient.body.id}`);
});

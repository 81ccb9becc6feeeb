// Lab orders out: ServiceRequests saved through the FHIR API reach a fake lab over MLLP as OML^O21 (or ORM^O01
// for a v2.3 lab), NW when placed and CA when revoked; other categories, drafts and orders the bridge itself
// wrote from an inbound message are not sent.
import type { Bundle, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { mshField, segmentField } from '../../../support/fake-hl7-system';
import { parseAck } from '../../../support/hl7-server';
import { create, detail, labOrder, outbound, sentinel, update, useLabChannels, waitForOutbound } from './harness';

const env = useLabChannels('lab');

/** The messages the lab received whose placer order number (ORC-2) is this request's. */
const forRequest = (request: ServiceRequest) =>
  env.lab.received.filter((m) => segmentField(m, 'ORC', 2) === `${request.id}^HMS`);

test('a new lab order goes out as OML^O21 NW, is marked sent with the ACK, and a revoke sends CA', async () => {
  await env.labChannel();
  const request = await create(env.server, labOrder(env.parties));
  const [placed] = await env.lab.waitFor(1);
  expect(mshField(placed, 9)).toBe('OML^O21^OML_O21');
  expect(mshField(placed, 12)).toBe('2.5.1');
  expect(segmentField(placed, 'ORC', 1)).toBe('NW');
  expect(segmentField(placed, 'ORC', 2)).toBe(`${request.id}^HMS`);
  expect(segmentField(placed, 'OBR', 4)).toBe('24317-0^Hemogram^LN');
  expect(segmentField(placed, 'PID', 3).split('~')).toEqual([
    `${env.parties.patient.identifier?.[0].value}^^^HOSP^MR`,
    `${env.parties.patient.id}^^^HMS^PI`,
  ]);
  expect(segmentField(placed, 'ORC', 12)).toContain('House^Greg');

  const [sent] = await waitForOutbound(env.server, env.channel, (m) => m[0]?.status === 'sent', 'the order sent');
  expect(sent).toMatchObject({ type: 'OML^O21', controlId: mshField(placed, 10), attempts: 1 });
  const ack = parseAck((await detail(env.server, sent.id)).ack ?? '');
  expect({ code: ack.code, controlId: ack.controlId }).toEqual({ code: 'AA', controlId: mshField(placed, 10) });

  await update(env.server, { ...request, status: 'revoked' });
  const [, cancelled] = await env.lab.waitFor(2);
  expect(segmentField(cancelled, 'ORC', 1)).toBe('CA');
  expect(segmentField(cancelled, 'ORC', 2)).toBe(`${request.id}^HMS`);
  expect(segmentField(cancelled, 'ORC', 5)).toBe('CA');
  expect(mshField(cancelled, 10)).not.toBe(mshField(placed, 10));
  await waitForOutbound(
    env.server,
    env.channel,
    (m) => m.length === 2 && m.every((x) => x.status === 'sent'),
    'both sent',
  );
});

test('an order of another category is not sent to the lab', async () => {
  await env.labChannel();
  const imaging = await create(
    env.server,
    labOrder(env.parties, { category: [{ coding: [{ system: 'http://snomed.info/sct', code: '363679005' }] }] }),
  );
  const marker = await sentinel(env.server, env.lab, env.parties);
  expect(env.lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([`${marker.id}^HMS`]);
  expect(forRequest(imaging)).toEqual([]);
  expect(await outbound(env.server, env.channel)).toHaveLength(1);
});

test('a v2.3 lab with orderStructure ORM_O01 gets ORM^O01', async () => {
  await env.labChannel({ orderStructure: 'ORM_O01', version: '2.3' });
  const request = await create(env.server, labOrder(env.parties));
  const [placed] = await env.lab.waitFor(1);
  expect(mshField(placed, 9)).toBe('ORM^O01');
  expect(mshField(placed, 12)).toBe('2.3');
  expect(segmentField(placed, 'ORC', 1)).toBe('NW');
  expect(segmentField(placed, 'ORC', 2)).toBe(`${request.id}^HMS`);
  expect(placed).not.toMatch(/(^|\r)(TQ1|SPM)\|/);
  await waitForOutbound(env.server, env.channel, (m) => m[0]?.status === 'sent' && m[0].type === 'ORM^O01', 'ORM sent');
});

test('a draft order is not sent, and is sent NW once when it becomes active', async () => {
  await env.labChannel();
  const draft = await create(env.server, labOrder(env.parties, { status: 'draft' }));
  await sentinel(env.server, env.lab, env.parties);
  expect(forRequest(draft)).toEqual([]);

  const active = await update(env.server, { ...draft, status: 'active' });
  await env.lab.waitFor(2);
  expect(forRequest(draft).map((m) => segmentField(m, 'ORC', 1))).toEqual(['NW']);
  // A later edit of the sent order is a change (XO), not a second NW.
  await update(env.server, { ...active, note: [{ text: 'fasting' }] });
  await env.lab.waitFor(3);
  expect(forRequest(draft).map((m) => segmentField(m, 'ORC', 1))).toEqual(['NW', 'XO']);
});

test('an order the bridge wrote from an inbound ORM^O01 is not echoed to the lab', async () => {
  // Every category, so only the origin of the order can keep it from being sent.
  await env.labChannel({ orderCategories: [] });
  const adt = [
    'MSH|^~\\&|ADTSYS|HOSP|HMS|HOSPITAL|20240305090000||ADT^A04^ADT_A01|ECHO-ADT-1|P|2.5.1',
    'EVN|A04|20240305090000',
    'PID|1||ECHO1^^^HOSP^MR||Echo^Eve||19700101|F',
    'PV1|1|O',
  ].join('\r');
  const orm = [
    'MSH|^~\\&|OTHERLIS|HOSP|HMS|HOSPITAL|20240305090100||ORM^O01|ECHO-ORM-1|P|2.3',
    'PID|1||ECHO1^^^HOSP^MR||Echo^Eve||19700101|F',
    'ORC|NW|ECHO-ORD-1^OTHERLIS||||||||20240305090000',
    'OBR|1|ECHO-ORD-1^OTHERLIS||24317-0^Hemogram^LN',
  ].join('\r');
  expect(parseAck(await env.server.send(adt)).code).toBe('AA');
  expect(parseAck(await env.server.send(orm)).code).toBe('AA');
  await env.server.bridge.idle();

  const patients = (await env.server.call('GET', 'Patient?identifier=ECHO1')).body as Bundle<Patient>;
  const patientId = patients.entry?.[0]?.resource?.id;
  expect(patientId).toBeDefined();
  const found = (await env.server.call('GET', `ServiceRequest?subject=Patient/${patientId}`))
    .body as Bundle<ServiceRequest>;
  const written = found.entry?.map((e) => e.resource as ServiceRequest) ?? [];
  expect(written).toHaveLength(1);
  // It would have been sendable: active, with a patient the router can read.
  expect(written[0]).toMatchObject({ status: 'active', subject: { reference: `Patient/${patientId}` } });
  expect(written[0].meta?.source).toMatch(/^hl7v2:/);

  const marker = await sentinel(env.server, env.lab, env.parties);
  expect(env.lab.received.map((m) => segmentField(m, 'ORC', 2))).toEqual([`${marker.id}^HMS`]);
  expect(await outbound(env.server, env.channel)).toHaveLength(1);
});

test('an order posted in a transaction with its patient, and one with versioned / absolute references, are sent', async () => {
  await env.labChannel();
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:8f3c1a52-1d6e-4d5b-9a43-2f0f3e0c1a01',
        resource: { resourceType: 'Patient', identifier: [{ system: 'urn:hms:v2:HOSP', value: 'TX-1' }] },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: labOrder(env.parties, { subject: { reference: 'urn:uuid:8f3c1a52-1d6e-4d5b-9a43-2f0f3e0c1a01' } }),
        request: { method: 'POST', url: 'ServiceRequest' },
      },
    ],
  };
  const res = await env.server.call('POST', '', bundle);
  expect(res.status).toBe(200);
  const [placed] = await env.lab.waitFor(1);
  expect(segmentField(placed, 'PID', 3)).toMatch(/^TX-1\^\^\^HOSP/);

  const versioned = await create(
    env.server,
    labOrder(env.parties, {
      subject: { reference: `Patient/${env.parties.patient.id}/_history/1` },
      requester: { reference: `${env.server.baseUrl}/Practitioner/${env.parties.practitioner.id}` },
    }),
  );
  const [, second] = await env.lab.waitFor(2);
  expect(segmentField(second, 'ORC', 2)).toBe(`${versioned.id}^HMS`);
  expect(segmentField(second, 'PID', 3)).toContain(`${env.parties.patient.identifier?.[0].value}^^^HOSP^MR`);
  expect(segmentField(second, 'ORC', 12)).toContain('House^Greg');
});

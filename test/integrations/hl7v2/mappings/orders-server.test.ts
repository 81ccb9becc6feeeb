// ORM/OML, SIU and DFT mappings against the real FHIR server: every sample's transaction is accepted once its
// patient (and, for DFT, its visit) exists, replaying it creates no duplicates, a cancel order revokes the same
// ServiceRequest and an S15 cancels the same Appointment.
import type { Appointment, Bundle, ChargeItem, Identifier, ServiceRequest } from '@medplum/fhirtypes';
import { tokenOf } from '../../../../integrations/hl7v2/mappings/bundle';
import { identifier } from '../../../../integrations/hl7v2/mappings/datatypes';
import { dftToBundle } from '../../../../integrations/hl7v2/mappings/dft';
import { ormToBundle } from '../../../../integrations/hl7v2/mappings/orm';
import { patientKey } from '../../../../integrations/hl7v2/mappings/patient-key';
import { siuToBundle } from '../../../../integrations/hl7v2/mappings/siu';
import type { InboundMapping } from '../../../../integrations/hl7v2/mappings/types';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { FHIR_JSON } from '../../../support/app';
import { hl7Fixture, hl7FixtureNames } from '../../../support/hl7';
import { contextOf, useFhirServer } from './helpers';

const MAPPINGS: Record<string, InboundMapping> = {
  ORM: ormToBundle,
  OML: ormToBundle,
  SIU: siuToBundle,
  DFT: dftToBundle,
};
const FIXTURES = hl7FixtureNames().filter((n) => /^(orm|oml|siu|dft)_/.test(n));
const TYPES = [
  'ServiceRequest',
  'Task',
  'Specimen',
  'Observation',
  'Appointment',
  'Location',
  'ChargeItem',
  'Organization',
];

const fhir = useFhirServer();
const { post, search, total } = fhir;

const mapped = (message: V2Message): Bundle => MAPPINGS[message.header.code](message, contextOf(message));

const counts = async () => Object.fromEntries(await Promise.all(TYPES.map(async (type) => [type, await total(type)])));

/** Creates a resource with this identifier unless one exists (several samples share a patient). */
async function ensure(resource: Record<string, unknown>, id: Identifier): Promise<string> {
  const type = resource.resourceType as string;
  const found = await search(`${type}?identifier=${encodeURIComponent(tokenOf(id))}`);
  if (found.entry?.[0]?.resource?.id) return found.entry[0].resource.id;
  const res = await fhir.app.api().post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(resource);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** What a registration (ADT) would have written before the message: the patient and the visit it names. */
async function registerReferenced(message: V2Message): Promise<{ patientId: string; encounterId?: string }> {
  const context = contextOf(message);
  const key = patientKey(message.segment('PID')!, context)!;
  const patientId = await ensure({ resourceType: 'Patient', identifier: [key] }, key);
  const visitField = message.segment('PV1')?.field(19);
  const visit = message.header.code === 'DFT' && visitField ? identifier(visitField, context) : undefined;
  if (!visit) return { patientId };
  const encounter = {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    identifier: [visit],
    subject: { reference: `Patient/${patientId}` },
  };
  return { patientId, encounterId: await ensure(encounter, visit) };
}

/** The conditional-update searches of a Bundle's PUT entries: each must find exactly one resource. */
const upsertQueries = (bundle: Bundle) =>
  (bundle.entry ?? []).filter((e) => e.request?.method === 'PUT').map((e) => e.request?.url ?? '');

describe('order, scheduling and charge samples on the server', () => {
  test.each(FIXTURES)('%s is accepted, and replaying it creates no duplicates', async (name) => {
    const message = V2Message.parse(hl7Fixture(name));
    const { patientId, encounterId } = await registerReferenced(message);
    const first = mapped(message);
    const response = await post(first);
    expect(response.type).toBe('transaction-response');
    for (const entry of response.entry ?? []) expect(entry.response?.status).toMatch(/^20[01]/);
    const before = await counts();

    await post(mapped(message));
    expect(await counts()).toEqual(before);
    const queries = upsertQueries(first);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      const found = await search(query);
      expect(found.total).toBe(1);
      // Conditional references were resolved to the registered patient (and visit).
      const resource = found.entry?.[0]?.resource as { subject?: { reference?: string }; resourceType: string };
      if (resource.subject) expect(resource.subject.reference).toBe(`Patient/${patientId}`);
      if (resource.resourceType === 'ChargeItem' && encounterId) {
        expect((resource as ChargeItem).context?.reference).toBe(`Encounter/${encounterId}`);
      }
    }
  });
});

describe('events on an existing order or appointment', () => {
  test('an ORC-1 CA message revokes the ServiceRequest orm_o01_01 created', async () => {
    const created = V2Message.parse(hl7Fixture('orm_o01_01.hl7'));
    await registerReferenced(created);
    await post(mapped(created));
    const query = `ServiceRequest?identifier=${encodeURIComponent('urn:hms:v2:SomeSystem|88502218')}`;
    const active = await search(query);
    expect(active.total).toBe(1);
    const id = active.entry?.[0]?.resource?.id;
    expect((active.entry?.[0]?.resource as ServiceRequest).status).toBe('active');

    const cancel = V2Message.parse(hl7Fixture('orm_o01_01.hl7').replace('\rORC|NW|', '\rORC|CA|'));
    await post(mapped(cancel));
    const revoked = await search(query);
    expect(revoked.total).toBe(1);
    expect(revoked.entry?.[0]?.resource?.id).toBe(id);
    expect((revoked.entry?.[0]?.resource as ServiceRequest).status).toBe('revoked');
    const task = await search(`Task?identifier=${encodeURIComponent('urn:hms:v2:order-task:SomeSystem|88502218')}`);
    expect(task.total).toBe(1);
    expect(task.entry?.[0]?.resource).toMatchObject({ status: 'cancelled' });
  });

  test('an S15 built from siu_s12_01 cancels the same Appointment', async () => {
    const booked = V2Message.parse(hl7Fixture('siu_s12_01.hl7'));
    await registerReferenced(booked);
    await post(mapped(booked));
    const sender = encodeURIComponent(contextOf(booked).sender);
    const query = `Appointment?identifier=${encodeURIComponent(`urn:hms:v2:${sender}|36996`)}`;
    const before = await search(query);
    expect(before.total).toBe(1);
    expect((before.entry?.[0]?.resource as Appointment).status).toBe('booked');

    const cancel = V2Message.parse(hl7Fixture('siu_s12_01.hl7').replace('|SIU^S12^SIU_S12|', '|SIU^S15^SIU_S15|'));
    await post(mapped(cancel));
    const after = await search(query);
    expect(after.total).toBe(1);
    expect(after.entry?.[0]?.resource?.id).toBe(before.entry?.[0]?.resource?.id);
    expect((after.entry?.[0]?.resource as Appointment).status).toBe('cancelled');
  });

  test('a DFT whose patient is not registered fails as a whole (412), writing nothing', async () => {
    const message = V2Message.parse(hl7Fixture('dft_p03_01.hl7').replace('|10476^^^MR&', '|99999^^^MR&'));
    const before = await total('ChargeItem');
    const res = await fhir.app.api().post('/fhir').set('Content-Type', FHIR_JSON).send(mapped(message));
    expect(res.status).toBe(412);
    expect(await total('ChargeItem')).toBe(before);
  });
});

// Shared pieces of the outbound tests: the real server with an outbound channel saved through the admin API,
// FHIR writes, the outbound message list, and polling with a deadline.
import fs from 'node:fs';
import type { Patient, Practitioner, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { eventually, FakeHl7System } from '../../../support/fake-hl7-system';
import { startHl7Server, type Hl7TestServer } from '../../../support/hl7-server';

export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const LAB_CATEGORY = { coding: [{ system: 'http://snomed.info/sct', code: '108252007' }] };

/** What the admin message list shows of a message. */
export interface OutSummary {
  id: string;
  status: string;
  type: string;
  controlId: string;
  attempts: number;
  error?: { reason: string; code?: string; text: string };
  derivedFrom?: string;
}

/** Outbound channel settings for a fake on this port: short timeouts so retries take milliseconds. */
export const channelSettings = (port: number, overrides: Record<string, unknown> = {}) => ({
  direction: 'outbound',
  host: '127.0.0.1',
  port,
  events: ['lab-order'],
  ackTimeoutMs: 500,
  retryBaseMs: 50,
  retryMaxMs: 200,
  maxAttempts: 3,
  ...overrides,
});

export async function saveChannel(server: Hl7TestServer, id: string, settings: object): Promise<void> {
  const res = await server.call('PUT', `/admin/hl7/channels/${id}`, settings);
  if (res.status !== 200) throw new Error(`PUT channel ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Removes the channel (its dispatcher stops) so later tests' changes are not routed to it. */
export async function removeChannel(server: Hl7TestServer, id: string): Promise<void> {
  const res = await server.call('DELETE', `/admin/hl7/channels/${id}`);
  if (res.status !== 200) throw new Error(`DELETE channel ${id}: ${res.status}`);
}

/** Closes the server and removes its data directory. */
export async function closeServer(server: Hl7TestServer | undefined): Promise<void> {
  if (!server) return;
  await server.close();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

export { startHl7Server };

export async function create<T extends Resource>(server: Hl7TestServer, resource: T): Promise<T> {
  const res = await server.call('POST', resource.resourceType, resource);
  if (res.status !== 201) throw new Error(`POST ${resource.resourceType}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

export async function update<T extends Resource>(server: Hl7TestServer, resource: T): Promise<T> {
  const res = await server.call('PUT', `${resource.resourceType}/${resource.id}`, resource);
  if (res.status !== 200) throw new Error(`PUT ${resource.resourceType}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

let serial = 0;

/** A patient (business identifier MRN in namespace HOSP) and an ordering practitioner. */
export async function orderParties(server: Hl7TestServer): Promise<{ patient: Patient; practitioner: Practitioner }> {
  const mrn = `MRN${Date.now().toString(36)}${++serial}`;
  const patient = await create<Patient>(server, {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hms:v2:HOSP', value: mrn, type: { coding: [{ system: V2_0203, code: 'MR' }] } }],
    name: [{ family: 'Doe', given: ['Jane'] }],
    birthDate: '1980-02-03',
    gender: 'female',
  });
  const practitioner = await create<Practitioner>(server, {
    resourceType: 'Practitioner',
    identifier: [{ system: 'urn:hms:v2:NPI', value: `P${serial}` }],
    name: [{ family: 'House', given: ['Greg'] }],
  });
  return { patient, practitioner };
}

/** An active laboratory order (SNOMED 108252007 category) for the patient, ready to POST. */
export const labOrder = (
  parties: { patient: Patient; practitioner: Practitioner },
  overrides: Partial<ServiceRequest> = {},
): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  category: [LAB_CATEGORY],
  code: { coding: [{ system: 'http://loinc.org', code: '24317-0', display: 'Hemogram' }] },
  subject: { reference: `Patient/${parties.patient.id}` },
  requester: { reference: `Practitioner/${parties.practitioner.id}` },
  authoredOn: '2024-03-05T09:00:00Z',
  ...overrides,
});

/** The channel's outbound messages, oldest first. */
export async function outbound(server: Hl7TestServer, channel: string): Promise<OutSummary[]> {
  const res = await server.call('GET', `/admin/hl7/messages?channel=${channel}&direction=out&count=200`);
  if (res.status !== 200) throw new Error(`GET messages: ${res.status}`);
  return (res.body as OutSummary[]).slice().sort((a, b) => Number(a.id) - Number(b.id));
}

/** The message detail: raw text (segments on lines), ACK, history. */
export async function detail(
  server: Hl7TestServer,
  id: string,
): Promise<OutSummary & { raw: string; ack?: string; history: { status: string; detail?: string }[] }> {
  const res = await server.call('GET', `/admin/hl7/messages/${id}`);
  if (res.status !== 200) throw new Error(`GET message ${id}: ${res.status}`);
  return res.body;
}

/** Waits until the channel's outbound messages satisfy the check; returns them. */
export async function waitForOutbound(
  server: Hl7TestServer,
  channel: string,
  check: (messages: OutSummary[]) => boolean,
  what: string,
  ms = 10_000,
): Promise<OutSummary[]> {
  let last: OutSummary[] = [];
  await eventually(
    async () => check((last = await outbound(server, channel))),
    what,
    ms,
    () => JSON.stringify(last.map((m) => [m.id, m.type, m.status, m.attempts, m.error?.reason])),
  );
  return last;
}

/** The outbound channel's state in GET /admin/hl7/status. */
export async function channelState(server: Hl7TestServer, channel: string): Promise<string | undefined> {
  const res = await server.call('GET', '/admin/hl7/status');
  return (res.body.channels as { id: string; state: string }[]).find((c) => c.id === channel)?.state;
}

/**
 * Creates one more lab order and waits for the lab to get it: the feed and the queue are serial, so whatever an
 * earlier change queued has been delivered by then ("nothing was sent" is then not merely "not yet").
 */
export async function sentinel(
  server: Hl7TestServer,
  lab: FakeHl7System,
  parties: { patient: Patient; practitioner: Practitioner },
): Promise<ServiceRequest> {
  const count = lab.received.length;
  const request = await create(server, labOrder(parties, { note: [{ text: 'sentinel' }] }));
  await lab.waitFor(count + 1);
  return request;
}

/** What a test file of one server and, per test, a fresh fake lab behind its own outbound channel works with. */
export interface LabChannels {
  server: Hl7TestServer;
  lab: FakeHl7System;
  channel: string;
  parties: { patient: Patient; practitioner: Practitioner };
  /** Starts a fake lab and saves an outbound channel (`<prefix>-<n>`) to it with these settings. */
  labChannel(settings?: Record<string, unknown>): Promise<void>;
}

/**
 * Registers the hooks: the server and the order parties once for the file, the test's channel removed and its lab
 * closed after each test. The fields are set by the hooks and by labChannel.
 */
export function useLabChannels(prefix: string): LabChannels {
  let channels = 0;
  const h = {
    async labChannel(settings: Record<string, unknown> = {}): Promise<void> {
      h.lab = await FakeHl7System.start();
      h.channel = `${prefix}-${++channels}`;
      await saveChannel(h.server, h.channel, channelSettings(h.lab.port, settings));
    },
  } as LabChannels;

  beforeAll(async () => {
    h.server = await startHl7Server();
    h.parties = await orderParties(h.server);
  });
  afterAll(() => closeServer(h.server));

  afterEach(async () => {
    await removeChannel(h.server, h.channel);
    await h.lab.close();
  });
  return h;
}

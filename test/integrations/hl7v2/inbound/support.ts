// Shared helpers of the inbound end-to-end tests: the real server on a temp data dir (removed on close),
// messages built from segment strings, the admin API's message browser, and FHIR searches.
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { MllpClient } from '../../../../integrations/hl7v2/mllp/client';
import { tempDir } from '../../../support/app';
import { startHl7Server, type Hl7TestServer } from '../../../support/hl7-server';

export { parseAck } from '../../../support/hl7-server';

/** A message: its segments joined with CR (the standard terminator). */
export const hl7 = (...segments: string[]): string => segments.join('\r');

export interface MshOptions {
  from?: string;
  facility?: string;
  to?: string;
  toFacility?: string;
  type?: string;
  id?: string;
  processing?: string;
  version?: string;
  acceptAck?: string;
  appAck?: string;
  charset?: string;
}

/** An MSH segment: `LAB|LABFAC` to `HMS|HOSP`, ADT^A04, P, 2.5.1 unless told otherwise. */
export function msh(o: MshOptions = {}): string {
  const fields = [
    'MSH',
    '^~\\&',
    o.from ?? 'LAB',
    o.facility ?? 'LABFAC',
    o.to ?? 'HMS',
    o.toFacility ?? 'HOSP',
    '20240301120000+0100',
    '',
    o.type ?? 'ADT^A04^ADT_A01',
    o.id ?? uid(),
    o.processing ?? 'P',
    o.version ?? '2.5.1',
    '',
    '',
    o.acceptAck ?? '',
    o.appAck ?? '',
    '',
    o.charset ?? '',
  ];
  return fields.join('|').replace(/\|+$/, '');
}

/** A short unique value for control ids and MRNs. */
export const uid = (prefix = 'T'): string => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;

/** An ADT^A04 registering the patient `<mrn>` of authority HOSP with this PID-5. */
export function adt(mrn: string, name = 'DOE^JANE', o: MshOptions = {}): string {
  return hl7(msh(o), 'EVN|A04|20240301120000', `PID|1||${mrn}^^^HOSP^MR||${name}||19800101|F`, 'PV1|1|O');
}

/** An ORU^R01 for patient `<mrn>` (authority HOSP) with one glucose result under filler order `<filler>`. */
export function oru(
  mrn: string,
  filler: string,
  value = '5.4',
  o: MshOptions = {},
  obr4 = '2345-7^Glucose^LN',
): string {
  return hl7(
    msh({ type: 'ORU^R01^ORU_R01', ...o }),
    `PID|1||${mrn}^^^HOSP^MR||DOE^JANE`,
    `OBR|1||${filler}^LIS|${obr4}|||20240301080000+0100||||||||||||||||||F`,
    `OBX|1|NM|2345-7^Glucose^LN||${value}|mmol/L^^UCUM|3.9-5.5|N|||F`,
  );
}

export interface InboundServer extends Hl7TestServer {
  /** Stored messages through GET /admin/hl7/messages?<query>. */
  messages(query?: string): Promise<MessageSummary[]>;
  /** GET /admin/hl7/messages/:id (raw, ack, outputs, history). */
  message(id: string): Promise<MessageDetail>;
  /** The one stored message with this control id. */
  byControlId(controlId: string): Promise<MessageSummary>;
  /** FHIR search results of `Type?query`. */
  search<T extends Resource>(query: string): Promise<T[]>;
  count(type: string): Promise<number>;
  /** Saves a channel through PUT /admin/hl7/channels/:id. */
  saveChannel(id: string, channel: Record<string, unknown>): Promise<void>;
  /** Sends and expects no reply within `ms`. */
  expectNoReply(message: string | Buffer, ms?: number): Promise<void>;
  /** An MLLP connection the test sends several messages on. */
  connect(): Promise<MllpClient>;
}

export interface MessageSummary {
  id: string;
  channel: string;
  status: string;
  type: string;
  controlId: string;
  error?: { reason: string; code?: string; location?: string; text: string };
  derivedFrom?: string;
}

export interface MessageDetail extends MessageSummary {
  raw: string;
  ack?: string;
  outputs?: Record<string, unknown>;
  history: { status: string; actor: string; detail?: string }[];
}

export async function startInbound(env: Record<string, string> = {}): Promise<InboundServer> {
  const dataDir = tempDir('hms-hl7-inbound-');
  let server: Hl7TestServer;
  try {
    server = await startHl7Server(env, dataDir);
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await server.call(method, path, body);
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const inbound: InboundServer = {
    ...server,
    messages: async (query = '') => ok('GET', `/admin/hl7/messages?count=200&${query}`),
    message: async (id) => ok('GET', `/admin/hl7/messages/${id}`),
    async byControlId(controlId) {
      const found = (await inbound.messages(`controlId=${encodeURIComponent(controlId)}`)) as MessageSummary[];
      expect(found).toHaveLength(1);
      return found[0];
    },
    async search<T extends Resource>(query: string) {
      const bundle = (await ok('GET', query)) as Bundle;
      return (bundle.entry ?? []).map((e) => e.resource as T);
    },
    async count(type) {
      return ((await ok('GET', `${type}?_summary=count`)) as Bundle).total ?? -1;
    },
    async saveChannel(id, channel) {
      await ok('PUT', `/admin/hl7/channels/${id}`, channel);
    },
    async expectNoReply(message, ms = 1500) {
      await expect(server.send(message, ms)).rejects.toThrow(/No MLLP reply/);
    },
    connect: () =>
      MllpClient.connect({ host: '127.0.0.1', port: server.mllpPort, connectTimeoutMs: 5000, maxFrameBytes: 1 << 24 }),
    async close() {
      try {
        await server.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  return inbound;
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** ERR segments of an ACK as { location, code }. */
export const errOf = (err: string) => {
  const fields = err.split('|');
  return { location: fields[2], code: fields[3]?.split('^')[0], severity: fields[4], text: fields[8] };
};

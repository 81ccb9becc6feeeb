// A real external sender: node-hl7-client 3.2.0 builds an ADT^A04 and an ORU^R01 (v2.5.1) with its own Message
// builder and escaping, and sends them over one connection to the server's MLLP port, one at a time (each ACK is
// awaited in the connection's handler before the next send: the library hangs otherwise, reference §3.3). The
// ACKs must be AA for the right control id, and what the messages carry must be in the FHIR store, unescaped.
import { once } from 'node:events';
import fs from 'node:fs';
import { Client, Message, type Connection, type InboundResponse } from 'node-hl7-client';
import { HL7_2_5_1 } from 'node-hl7-client/hl7';
import { startHl7Server, type Hl7TestServer } from '../../../support/hl7-server';

const FAMILY = 'DOE|X';
const GIVEN = 'JO^ANN&B~C\\D';
const MRN = 'EXT-1001';
const FILLER = 'FILL-EXT-77';

let server: Hl7TestServer;
let client: Client;
let connection: Connection;
/** ACKs the connection's handler received and not yet taken, and the send waiting for the next one. */
const acks: Message[] = [];
let waiting: ((ack: Message) => void) | undefined;

beforeAll(async () => {
  server = await startHl7Server();
  client = new Client({ host: '127.0.0.1' });
  connection = client.createConnection({ port: server.mllpPort, waitAck: true }, (res: InboundResponse) => {
    const ack = res.getMessage();
    if (waiting) waiting(ack);
    else acks.push(ack);
  });
  // A send before the socket is open is queued and opens a second socket: wait for the connection first.
  await once(connection, 'connect');
});

afterAll(async () => {
  await connection?.close();
  client?.closeAll();
  await server?.close();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
});

/** sendMessage resolves on the socket write, not on the ACK: the ACK comes through the handler. */
async function sendAndAwaitAck(message: Message, timeoutMs = 10_000): Promise<Message> {
  if (acks.length > 0) throw new Error(`an unexpected ACK is waiting: ${acks[0].toString()}`);
  let timer: NodeJS.Timeout | undefined;
  const ack = new Promise<Message>((resolve, reject) => {
    waiting = resolve;
    timer = setTimeout(() => reject(new Error(`no ACK within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await connection.sendMessage(message);
    return await ack;
  } finally {
    clearTimeout(timer);
    waiting = undefined;
  }
}

function header(type: string, trigger: string, controlId: string): Message {
  const message = new Message({
    specification: new HL7_2_5_1(),
    messageHeader: { msh_9_1: type, msh_9_2: trigger, msh_10: controlId, msh_11_1: 'P' },
  });
  message.set('MSH.3', 'EXTSYS');
  message.set('MSH.4', 'EXTFAC');
  message.set('MSH.5', 'HMS');
  message.set('MSH.6', 'HOSPITAL');
  return message;
}

function addPatient(message: Message): void {
  const pid = message.addSegment('PID');
  pid.set('1', '1');
  pid.set('3.1', MRN);
  pid.set('3.4', 'EXTFAC');
  pid.set('3.5', 'MR');
  pid.set('5.1', FAMILY);
  pid.set('5.2', GIVEN);
  pid.set('7', '19800101');
  pid.set('8', 'F');
}

function adtA04(controlId: string): Message {
  const message = header('ADT', 'A04', controlId);
  message.addSegment('EVN').set('2', '20260101120000');
  addPatient(message);
  const pv1 = message.addSegment('PV1');
  pv1.set('1', '1');
  pv1.set('2', 'O');
  pv1.set('19', 'VN-EXT-1');
  return message;
}

function oruR01(controlId: string): Message {
  const message = header('ORU', 'R01', controlId);
  addPatient(message);
  const obr = message.addSegment('OBR');
  obr.set('1', '1');
  obr.set('3.1', FILLER);
  obr.set('3.2', 'EXTLAB');
  obr.set('4.1', '2345-7');
  obr.set('4.2', 'Glucose');
  obr.set('4.3', 'LN');
  obr.set('7', '20260101113000');
  obr.set('25', 'F');
  const obx = message.addSegment('OBX');
  obx.set('1', '1');
  obx.set('2', 'NM');
  obx.set('3.1', '2345-7');
  obx.set('3.2', 'Glucose');
  obx.set('3.3', 'LN');
  obx.set('5', '105');
  obx.set('6.1', 'mg/dL');
  obx.set('6.3', 'UCUM');
  obx.set('7', '70-99');
  obx.set('8', 'H');
  obx.set('11', 'F');
  obx.set('14', '20260101113000');
  return message;
}

const field = (message: Message, path: string) => message.get(path).toString();

test('the library writes what a real sender writes: escaped delimiters, v2.5.1, CR-separated', () => {
  const text = adtA04('ext-check-1').toString();
  expect(text.split('\r')[0]).toMatch(/^MSH\|\^~\\&\|EXTSYS\|EXTFAC\|HMS\|HOSPITAL\|\d{14}\|\|ADT\^A04\^ADT_A04\|/);
  expect(text).toContain('|ext-check-1|P|2.5.1');
  expect(text).toContain('|DOE\\F\\X^JO\\S\\ANN\\T\\B\\R\\C\\E\\D|');
});

test('ADT^A04: AA for its control id, and the Patient stored with the delimiters unescaped', async () => {
  const ack = await sendAndAwaitAck(adtA04('ext-adt-1'));
  expect(field(ack, 'MSH.9.1')).toBe('ACK');
  expect(field(ack, 'MSA.1')).toBe('AA');
  expect(field(ack, 'MSA.2')).toBe('ext-adt-1');
  expect(field(ack, 'MSH.10')).not.toBe('ext-adt-1');
  // MSH-3/4 and MSH-5/6 swapped back to the sender.
  expect([field(ack, 'MSH.5'), field(ack, 'MSH.6')]).toEqual(['EXTSYS', 'EXTFAC']);
  await server.bridge.idle();

  const patients = await server.call('GET', `Patient?identifier=${MRN}`);
  expect(patients.status).toBe(200);
  expect(patients.body.entry).toHaveLength(1);
  const patient = patients.body.entry[0].resource;
  expect(patient.name[0].family).toBe(FAMILY);
  expect(patient.name[0].given).toEqual([GIVEN]);
  expect(patient.birthDate).toBe('1980-01-01');
  expect(patient.gender).toBe('female');
  const [stored] = (await server.call('GET', '/admin/hl7/messages?controlId=ext-adt-1')).body;
  expect(stored).toMatchObject({ status: 'processed', type: 'ADT^A04', sendingApplication: 'EXTSYS' });
});

test('ORU^R01: AA for its control id, and the Observation stored on that patient', async () => {
  const ack = await sendAndAwaitAck(oruR01('ext-oru-1'));
  expect(field(ack, 'MSA.1')).toBe('AA');
  expect(field(ack, 'MSA.2')).toBe('ext-oru-1');
  await server.bridge.idle();

  const patient = (await server.call('GET', `Patient?identifier=${MRN}`)).body.entry[0].resource;
  const observations = await server.call('GET', 'Observation?code=http://loinc.org|2345-7');
  expect(observations.body.entry).toHaveLength(1);
  const observation = observations.body.entry[0].resource;
  expect(observation.valueQuantity).toMatchObject({ value: 105, unit: 'mg/dL' });
  expect(observation.status).toBe('final');
  expect(observation.subject.reference).toBe(`Patient/${patient.id}`);
  expect(observation.meta.source).toMatch(/^hl7v2:default#\d+$/);
  const reports = await server.call('GET', `DiagnosticReport?identifier=${FILLER}`);
  expect(reports.body.entry).toHaveLength(1);
  expect(reports.body.entry[0].resource.result).toEqual([{ reference: `Observation/${observation.id}` }]);
});

test('the same message sent again is a duplicate: the stored AA again, nothing written twice', async () => {
  const [first] = (await server.call('GET', '/admin/hl7/messages?controlId=ext-oru-1')).body;
  // MSH-7 is stamped when a message is built: resend the very text the first send carried, as a sender does.
  const stored = (await server.call('GET', `/admin/hl7/messages/${first.id}`)).body;
  const original = new Message({ text: stored.raw.replace(/\n/g, '\r').trimEnd() });
  expect(field(original, 'MSH.10')).toBe('ext-oru-1');
  const ack = await sendAndAwaitAck(original);
  expect([field(ack, 'MSA.1'), field(ack, 'MSA.2')]).toEqual(['AA', 'ext-oru-1']);
  expect(field(ack, 'MSH.10')).toBe(field(new Message({ text: stored.ack }), 'MSH.10'));
  await server.bridge.idle();
  expect((await server.call('GET', '/admin/hl7/messages?controlId=ext-oru-1')).body).toHaveLength(1);
  expect((await server.call('GET', 'Observation?code=http://loinc.org|2345-7')).body.entry).toHaveLength(1);
});

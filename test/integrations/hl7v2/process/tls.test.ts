// MLLP over TLS in the real server: HL7_MLLP_TLS_CERT / _KEY / _CA (PEM files made here by openssl). With a CA
// the listener requires a client certificate signed by it: such a client gets its AA and the message reaches
// the FHIR store; a client without a certificate, one signed by another CA, or plain TCP gets no ACK at all.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MllpClient, MllpClosedError } from '../../../../integrations/hl7v2/mllp/client';
import { ConfigError, loadConfig } from '../../../../server/config';
import { hl7Fixture } from '../../../support/hl7';
import { parseAck, startHl7Server, type Hl7TestServer } from '../../../support/hl7-server';
import { makeCertificates } from '../../../support/tls-certificates';

let dir: string;
let server: Hl7TestServer;
const file = (name: string) => path.join(dir, name);
const read = (name: string) => fs.readFileSync(file(name), 'utf8');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-tls-'));
  makeCertificates(dir, {
    cas: ['hl7-ca', 'other-ca'],
    leaves: [
      { name: 'server', signer: 'hl7-ca', ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost' },
      { name: 'analyser', signer: 'hl7-ca', ext: 'extendedKeyUsage=clientAuth' },
      { name: 'intruder', signer: 'other-ca', ext: 'extendedKeyUsage=clientAuth' },
    ],
  });
  server = await startHl7Server({
    HL7_MLLP_TLS_CERT: file('server.crt'),
    HL7_MLLP_TLS_KEY: file('server.key'),
    HL7_MLLP_TLS_CA: file('hl7-ca.crt'),
  });
});

afterAll(async () => {
  await server?.close();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

const clients: MllpClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.close()));

/** The A04 sample with its own control id (each test's message is a new one, not a duplicate). */
const adt = (controlId: string) => hl7Fixture('adt_a04_01.hl7').replace('|1270326314|', `|${controlId}|`);

async function sendOver(controlId: string, tls?: { cert?: string; key?: string; ca?: string }): Promise<string> {
  const client = await MllpClient.connect({
    host: '127.0.0.1',
    port: server.mllpPort,
    ...(tls ? { tls: { ca: read('hl7-ca.crt'), servername: 'localhost', ...tls } } : {}),
    connectTimeoutMs: 5000,
    maxFrameBytes: 1 << 20,
  });
  clients.push(client);
  return (await client.send(Buffer.from(adt(controlId)), { timeoutMs: 5000 })).toString('utf8');
}

const storedWith = async (controlId: string) =>
  (await server.call('GET', `/admin/hl7/messages?controlId=${controlId}`)).body as { status: string }[];

test('a client with a certificate from the configured CA gets AA, and the patient is stored', async () => {
  const ack = parseAck(await sendOver('tls-ok-1', { cert: read('analyser.crt'), key: read('analyser.key') }));
  expect(ack).toMatchObject({ code: 'AA', controlId: 'tls-ok-1', errors: [] });
  await server.bridge.idle();
  expect((await storedWith('tls-ok-1')).map((m) => m.status)).toEqual(['processed']);
  const patients = await server.call('GET', 'Patient?family=Doe&given=Jane');
  expect(patients.body.total ?? patients.body.entry?.length).toBe(1);
});

test('a TLS client without a certificate gets no ACK: the connection is closed', async () => {
  await expect(sendOver('tls-nocert-1', {})).rejects.toBeInstanceOf(MllpClosedError);
  expect(await storedWith('tls-nocert-1')).toEqual([]);
});

test('a client whose certificate another CA signed gets no ACK', async () => {
  const other = { cert: read('intruder.crt'), key: read('intruder.key') };
  await expect(sendOver('tls-other-1', other)).rejects.toBeInstanceOf(MllpClosedError);
  expect(await storedWith('tls-other-1')).toEqual([]);
});

test('plain TCP to the TLS port gets no ACK: the connection is closed', async () => {
  await expect(sendOver('tls-plain-1')).rejects.toBeInstanceOf(MllpClosedError);
  expect(await storedWith('tls-plain-1')).toEqual([]);
});

test('a server certificate the client does not trust fails the handshake (client side check)', async () => {
  await expect(
    sendOver('tls-untrusted-1', { ca: read('other-ca.crt'), cert: read('analyser.crt'), key: read('analyser.key') }),
  ).rejects.toThrow(/certificate/i);
});

test('a certificate that does not match its key: the server refuses to start', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-tls-bad-'));
  try {
    const mismatched = { HL7_MLLP_TLS_CERT: file('analyser.crt'), HL7_MLLP_TLS_KEY: file('server.key') };
    await expect(startHl7Server(mismatched, dataDir)).rejects.toThrow(/key values mismatch/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('configuration', () => {
  const base = () => ({ DATA_DIR: dir, PORT: '0' });

  test('HL7_MLLP_TLS_CERT without HL7_MLLP_TLS_KEY is a ConfigError naming both', () => {
    const attempt = () => loadConfig({ ...base(), HL7_MLLP_TLS_CERT: file('server.crt') });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/HL7_MLLP_TLS_CERT.*HL7_MLLP_TLS_KEY|HL7_MLLP_TLS_KEY.*HL7_MLLP_TLS_CERT/);
  });

  test('HL7_MLLP_TLS_KEY without HL7_MLLP_TLS_CERT, or a CA alone, is refused the same way', () => {
    expect(() => loadConfig({ ...base(), HL7_MLLP_TLS_KEY: file('server.key') })).toThrow(/HL7_MLLP_TLS_CERT/);
    expect(() => loadConfig({ ...base(), HL7_MLLP_TLS_CA: file('hl7-ca.crt') })).toThrow(ConfigError);
  });

  test('an unreadable certificate file is a ConfigError naming the variable', () => {
    const attempt = () =>
      loadConfig({ ...base(), HL7_MLLP_TLS_CERT: file('missing.crt'), HL7_MLLP_TLS_KEY: file('server.key') });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/HL7_MLLP_TLS_CERT/);
  });

  test('cert, key and CA together: TLS with client certificates required', () => {
    const config = loadConfig({
      ...base(),
      HL7_MLLP_TLS_CERT: file('server.crt'),
      HL7_MLLP_TLS_KEY: file('server.key'),
      HL7_MLLP_TLS_CA: file('hl7-ca.crt'),
    });
    expect(config.hl7.tls).toEqual({
      cert: read('server.crt'),
      key: read('server.key'),
      ca: read('hl7-ca.crt'),
      requestCert: true,
    });
  });
});

// Character sets, escapes and segment terminators over the socket, read back through the FHIR API: MSH-18
// 8859/1 and UNICODE UTF-8, undeclared text per the channel's default, HL7 escapes in stored values, and LF or
// CRLF between segments.
import type { Patient } from '@medplum/fhirtypes';
import { adt, hl7, msh, parseAck, startInbound, uid, type InboundServer } from './support';

let server: InboundServer;

beforeAll(async () => {
  server = await startInbound();
  await server.saveChannel('latin', { sendingApplication: 'LATIN', charset: 'iso-8859-1' });
  await server.saveChannel('default', {});
});
afterAll(() => server.close());

const patientByMrn = async (mrn: string) => {
  await server.bridge.idle();
  const found = await server.search<Patient>(`Patient?identifier=urn:hms:v2:HOSP|${mrn}`);
  expect(found).toHaveLength(1);
  return found[0];
};

/** Sends the bytes, expects AA for this control id, returns the stored Patient's first name. */
async function registered(bytes: Buffer, mrn: string) {
  const id = /^MSH(?:\|[^|]*){8}\|([^|\r\n]*)/.exec(bytes.toString('latin1'))?.[1];
  const ack = parseAck(await server.send(bytes));
  expect(ack).toMatchObject({ code: 'AA', controlId: id, errors: [] });
  const patient = await patientByMrn(mrn);
  return patient.name?.[0];
}

describe('MSH-18', () => {
  test('8859/1 with Latin-1 bytes', async () => {
    const mrn = uid('MRN');
    const bytes = Buffer.from(adt(mrn, 'Müller^Jürgen', { charset: '8859/1' }), 'latin1');
    expect(bytes.includes(Buffer.from([0xfc]))).toBe(true);
    expect(await registered(bytes, mrn)).toMatchObject({ family: 'Müller', given: ['Jürgen'] });
    const [stored] = await server.messages(`patient=${mrn}`);
    expect((await server.message(stored.id)).raw).toContain('Müller^Jürgen');
  });

  test('UNICODE UTF-8 with UTF-8 bytes', async () => {
    const mrn = uid('MRN');
    const bytes = Buffer.from(adt(mrn, 'Ødegård^Zoë', { charset: 'UNICODE UTF-8' }), 'utf8');
    expect(await registered(bytes, mrn)).toMatchObject({ family: 'Ødegård', given: ['Zoë'] });
  });

  test('the ACK of a Latin-1 message is Latin-1 too', async () => {
    const client = await server.connect();
    try {
      const text = adt(uid('MRN'), 'Müller^Jürgen', { charset: '8859/1', facility: 'Zürich' });
      const reply = await client.send(Buffer.from(text, 'latin1'), { timeoutMs: 5000 });
      // MSH-6 of the ACK is the sender's MSH-4, byte for byte.
      expect(reply.includes(Buffer.from('|Zürich|', 'latin1'))).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe('undeclared charset (empty MSH-18)', () => {
  test("Latin-1 bytes on a channel whose charset is 'iso-8859-1'", async () => {
    const mrn = uid('MRN');
    const bytes = Buffer.from(adt(mrn, 'Müller^Zoë', { from: 'LATIN' }), 'latin1');
    expect(await registered(bytes, mrn)).toMatchObject({ family: 'Müller', given: ['Zoë'] });
    expect((await server.messages(`patient=${mrn}`))[0].channel).toBe('latin');
  });

  test('UTF-8 bytes on the default (UTF-8) channel', async () => {
    const mrn = uid('MRN');
    const bytes = Buffer.from(adt(mrn, 'Ødegård^Zoë'), 'utf8');
    expect(await registered(bytes, mrn)).toMatchObject({ family: 'Ødegård', given: ['Zoë'] });
  });

  test('bytes that are not UTF-8 on the UTF-8 channel are read as Latin-1, not dropped', async () => {
    const mrn = uid('MRN');
    const bytes = Buffer.from(adt(mrn, 'Müller^Zoë'), 'latin1');
    expect(await registered(bytes, mrn)).toMatchObject({ family: 'Müller', given: ['Zoë'] });
  });
});

test('escape sequences are decoded in stored values', async () => {
  const mrn = uid('MRN');
  const name = 'O\\T\\Brien^A\\F\\B\\S\\C^D\\R\\E\\E\\F\\X41\\';
  expect(await registered(Buffer.from(adt(mrn, name)), mrn)).toMatchObject({
    family: 'O&Brien',
    given: ['A|B^C', 'D~E\\FA'],
  });
});

test('an identifier with an escaped delimiter is stored and matched unescaped', async () => {
  const mrn = `${uid('MRN')}&X`;
  const bytes = Buffer.from(adt(mrn.replace('&', '\\T\\'), 'DOE^JANE'));
  expect(parseAck(await server.send(bytes)).code).toBe('AA');
  await server.bridge.idle();
  const found = await server.search<Patient>(`Patient?identifier=${encodeURIComponent(`urn:hms:v2:HOSP|${mrn}`)}`);
  expect(found.map((p) => p.identifier?.[0].value)).toEqual([mrn]);
});

describe('segment terminators', () => {
  test.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('%s parses like CR', async (_name, terminator) => {
    const mrn = uid('MRN');
    const text = adt(mrn, 'Ødegård^Zoë', { charset: 'UNICODE UTF-8' }).split('\r').join(terminator) + terminator;
    expect(await registered(Buffer.from(text, 'utf8'), mrn)).toMatchObject({ family: 'Ødegård', given: ['Zoë'] });
    const patient = await patientByMrn(mrn);
    expect(patient).toMatchObject({ birthDate: '1980-01-01', gender: 'female' });
  });
});

describe('edit and resend keeps the charset', () => {
  test('a Latin-1 message fixed through the admin API is stored with the right name', async () => {
    const mrn = uid('MRN');
    const broken = hl7(msh({ charset: '8859/1' }), 'EVN|A04', 'PID|1||||Müller^Jürgen||19800101|F', 'PV1|1|O');
    expect(parseAck(await server.send(Buffer.from(broken, 'latin1'))).code).toBe('AA');
    await server.bridge.idle();
    const [failed] = await server.messages('status=error');
    const detail = await server.message(failed.id);
    expect(detail.error).toMatchObject({ reason: 'map', location: 'PID^1^3' });
    const fixed = detail.raw.replace('PID|1||||', `PID|1||${mrn}^^^HOSP^MR||`);
    expect(fixed).toContain('Müller^Jürgen');
    const res = await server.call('POST', `/admin/hl7/messages/${failed.id}/resend`, { message: fixed });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed', derivedFrom: failed.id });
    expect((await patientByMrn(mrn)).name?.[0]).toMatchObject({ family: 'Müller', given: ['Jürgen'] });
    expect((await server.message(res.body.id)).raw).toContain('Müller^Jürgen');
    // The copy is found by the patient its fixed PID-3 names.
    expect((await server.messages(`patient=${mrn}`)).map((m) => m.id)).toEqual([res.body.id]);
  });

  test('on a Latin-1 channel with no MSH-18 as well', async () => {
    const mrn = uid('MRN');
    const broken = hl7(msh({ from: 'LATIN' }), 'EVN|A04', 'PID|1||||Größe^Zoë||19800101|F', 'PV1|1|O');
    expect(parseAck(await server.send(Buffer.from(broken, 'latin1'))).code).toBe('AA');
    await server.bridge.idle();
    const [failed] = await server.messages('status=error&channel=latin');
    const fixed = (await server.message(failed.id)).raw.replace('PID|1||||', `PID|1||${mrn}^^^HOSP^MR||`);
    const res = await server.call('POST', `/admin/hl7/messages/${failed.id}/resend`, { message: fixed });
    expect(res.body).toMatchObject({ status: 'processed', channel: 'latin' });
    expect((await patientByMrn(mrn)).name?.[0]).toMatchObject({ family: 'Größe', given: ['Zoë'] });
  });

  test('a fix with characters Latin-1 cannot hold is sent as UTF-8, saying so in MSH-18', async () => {
    const mrn = uid('MRN');
    const broken = hl7(msh({ charset: '8859/1' }), 'EVN|A04', 'PID|1||||Lodz^Lukasz||19800101|M', 'PV1|1|O');
    expect(parseAck(await server.send(Buffer.from(broken, 'latin1'))).code).toBe('AA');
    await server.bridge.idle();
    const [failed] = await server.messages('status=error');
    const fixed = (await server.message(failed.id)).raw
      .replace('PID|1||||Lodz^Lukasz', `PID|1||${mrn}^^^HOSP^MR||Łódź^Łukasz`)
      .replace(/\n/g, '\r');
    const res = await server.call('POST', `/admin/hl7/messages/${failed.id}/resend`, { message: fixed });
    expect(res.body).toMatchObject({ status: 'processed', derivedFrom: failed.id });
    expect((await patientByMrn(mrn)).name?.[0]).toMatchObject({ family: 'Łódź', given: ['Łukasz'] });
    const copy = await server.message(res.body.id);
    expect(copy.raw.split('\n')[0].split('|')[17]).toBe('UNICODE UTF-8');
  });
});

test('a UTF-8 byte-order mark before MSH is not part of the message', async () => {
  const mrn = uid('BOM');
  const text = Buffer.from(adt(mrn, 'Zoë^Ann', { charset: 'UNICODE UTF-8' }), 'utf8');
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]);
  expect(parseAck(await server.send(bytes)).code).toBe('AA');
  expect((await patientByMrn(mrn)).name?.[0]).toMatchObject({ family: 'Zoë', given: ['Ann'] });
});

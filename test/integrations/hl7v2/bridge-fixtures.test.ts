// Every sample message through the MLLP listener of the real server: acknowledged (AA, or CA when the
// message asks for enhanced mode), stored, and mapped into the FHIR store. Several samples reuse a control
// id from the same sender, which the bridge rightly holds as a conflict; here each gets its own so that every
// one is also applied (the conflict itself is tested in the receiver's tests).
import { hl7FixtureBytes, hl7FixtureNames } from '../../support/hl7';
import { parseAck, startHl7Server, type Hl7TestServer } from '../../support/hl7-server';

let server: Hl7TestServer;

beforeAll(async () => {
  server = await startHl7Server();
});
afterAll(() => server.close());

/** The fixture with `<name>-` before each MSH-10, byte for byte otherwise. */
function withOwnControlIds(name: string): Buffer {
  const text = hl7FixtureBytes(name).toString('latin1');
  const renamed = text.replace(
    /(^|\r)(MSH\|(?:[^|\r]*\|){8})([^|\r]*)/g,
    (_m, start: string, head: string, id: string) => `${start}${head}${name.slice(0, 10)}-${id}`,
  );
  return Buffer.from(renamed, 'latin1');
}

/** Fields of the first MSH segment, numbered as the standard does (MSH-n is [n - 1]). */
const msh = (bytes: Buffer) =>
  (/(?:^|\r)(MSH\|[^\r]*)/.exec(bytes.toString('latin1'))?.[1] ?? '').split('|').map((f) => f.trim());

test.each(hl7FixtureNames())('%s is acknowledged and processed', async (name) => {
  const bytes = withOwnControlIds(name);
  if (msh(bytes)[14] === 'NE' && !name.includes('batch')) {
    // The sender asked never to get an accept acknowledgment.
    await expect(server.send(bytes, 1500)).rejects.toThrow(/No MLLP reply/);
  } else {
    const ack = parseAck(await server.send(bytes));
    const enhanced = msh(bytes)[14] || msh(bytes)[15];
    const expected = enhanced && !name.includes('batch') ? 'CA' : 'AA';
    expect({ code: ack.code, errors: ack.errors }).toEqual({ code: expected, errors: [] });
  }
  await server.bridge.idle();
  const { body: messages } = await server.call('GET', `/admin/hl7/messages?count=20`);
  const mine = (messages as { controlId: string; status: string; error?: unknown; type: string }[]).filter((m) =>
    m.controlId.startsWith(`${name.slice(0, 10)}-`),
  );
  expect(mine.length).toBeGreaterThan(0);
  for (const message of mine)
    expect({ type: message.type, status: message.status, error: message.error }).toEqual({
      type: message.type,
      status: 'processed',
      error: undefined,
    });
});

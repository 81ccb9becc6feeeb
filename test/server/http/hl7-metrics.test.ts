// /metrics on the real server with its HL7 bridge: a message received over MLLP shows in the channel's
// counters, labelled by channel and direction only (never a control id or a patient's data).
import { hl7Fixture } from '../../support/hl7';
import { startHl7Server, type Hl7TestServer } from '../../support/hl7-server';

let server: Hl7TestServer;

beforeAll(async () => {
  server = await startHl7Server();
});

afterAll(async () => {
  await server?.close();
});

test('HL7 channel counters and queue gauges appear, one status read per scrape', async () => {
  const message = hl7Fixture('adt_a01_01.hl7');
  const ack = await server.send(message);
  expect(ack).toMatch(/MSA\|A[AE]\|/);
  const origin = new URL(server.baseUrl).origin;
  const text = await (await fetch(`${origin}/metrics`)).text();
  const received = /^hms_hl7_messages\{channel="([^"]+)",direction="inbound",outcome="received"\} (\d+)$/m.exec(text);
  expect(received).not.toBeNull();
  expect(Number(received?.[2])).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^hms_hl7_queue_depth\{channel="[^"]+",direction="inbound"\} \d+$/m);
  expect(text).toContain('# TYPE hms_hl7_oldest_queued_age_seconds gauge');
  const controlId = message.split('\r')[0].split('|')[9];
  expect(text).not.toContain(controlId);
});

// The bridge's periodic housekeeping: a queue waiting too long raises an alert (without message content) and
// messages past the channels' retention are purged, while those still waiting are kept.
import fs from 'node:fs';
import { Hl7Bridge } from '../../../integrations/hl7v2/bridge';
import { closeServices, openServices } from '../../../server/services';
import type { RepositoryServices } from '../../../resources/repository';
import { tempDir } from '../../support/app';

const DAY = 86_400_000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

let dataDir: string;
let services: RepositoryServices;
let bridge: Hl7Bridge;

beforeAll(async () => {
  dataDir = tempDir('hms-hl7-housekeeping-');
  services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL', baseUrl: 'http://localhost/fhir' });
  bridge = await Hl7Bridge.start(
    services,
    {
      dataDir,
      baseUrl: 'http://localhost/fhir',
      mllp: { host: '127.0.0.1', port: 0, maxFrameBytes: 1 << 20, idleTimeoutMs: 60_000 },
      alerts: { queueAgeMinutes: 1, silentMinutes: 0, quietMinutes: 60 },
      checkIntervalMs: 50,
    },
    silent,
  );
});

afterAll(async () => {
  await bridge.stop();
  await closeServices(services);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const message = (controlId: string, receivedAt: number, status: 'received' | 'processed') => ({
  channel: 'default',
  direction: 'in' as const,
  receivedAt,
  status,
  raw: Buffer.from(`MSH|^~\\&|LAB|FAC|HMS|HOSP|20240101||ADT^A04|${controlId}|P|2.5.1\rPID|1||SECRET-MRN^^^H^MR`),
  sendingApplication: 'LAB',
  sendingFacility: 'FAC',
  controlId,
  type: 'ADT^A04',
  contentHash: controlId,
  patientId: 'SECRET-MRN',
});

test('a message waiting too long raises queue-age; old finished messages are purged, waiting ones kept', async () => {
  const now = Date.now();
  const old = await bridge.store.receive(message('old', now - 200 * DAY, 'processed'), 0);
  const waiting = await bridge.store.receive(message('waiting', now - 10 * 60_000, 'received'), 0);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await bridge.store.get(old.message.id))) await new Promise((r) => setTimeout(r, 50));
  expect(await bridge.store.get(old.message.id)).toBeUndefined();
  expect(await bridge.store.get(waiting.message.id)).toBeDefined();
  const alert = bridge.alerts.sent.find((a) => a.kind === 'queue-age');
  expect(alert).toMatchObject({ channel: 'default', count: 1 });
  expect(alert?.minutes).toBeGreaterThanOrEqual(10);
  expect(JSON.stringify(bridge.alerts.sent)).not.toContain('SECRET-MRN');
});

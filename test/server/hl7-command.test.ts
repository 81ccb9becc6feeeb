// `hms hl7 status` and `hms hl7 errors` read the message store under DATA_DIR: counters per channel, the
// error queue, usage errors.
import fs from 'node:fs';
import path from 'node:path';
import { HL7_FILE_NAME } from '../../integrations/hl7v2/message-store/index';
import { SqliteMessageStore } from '../../integrations/hl7v2/message-store/sqlite-messages';
import { main } from '../../server/cli';
import { tempDir } from '../support/app';
import { capture } from '../support/cli-io';

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir('hms-hl7-cli-');
  process.env.DATA_DIR = dataDir;
});
afterEach(() => {
  delete process.env.DATA_DIR;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function seed(): Promise<void> {
  const store = new SqliteMessageStore(path.join(dataDir, HL7_FILE_NAME));
  const base = {
    channel: 'default',
    direction: 'in' as const,
    raw: Buffer.from('MSH|^~\\&|LAB'),
    sendingApplication: 'LAB',
    sendingFacility: 'H',
    type: 'ORU^R01',
    contentHash: 'h',
  };
  const ok = await store.receive(
    { ...base, controlId: '1', status: 'received', receivedAt: 1000, contentHash: 'a' },
    0,
  );
  await store.update(ok.message.id, { status: 'processed' }, { at: 1001, status: 'processed', actor: 'test' });
  const bad = await store.receive(
    { ...base, controlId: '2', status: 'received', receivedAt: 2000, contentHash: 'b' },
    0,
  );
  await store.update(
    bad.message.id,
    { status: 'error', error: { reason: 'map', code: '101', location: 'OBR^1^4', text: 'OBR-4 is empty' } },
    { at: 2001, status: 'error', actor: 'test' },
  );
  await store.close();
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('status prints each channel with its counters; errors prints the error queue without content', async () => {
  await seed();
  const status = capture();
  expect(await main(['hl7', 'status'], status)).toBe(0);
  expect(lines(status.stdout)).toEqual([
    expect.objectContaining({
      id: 'default',
      direction: 'inbound',
      received: 2,
      processed: 1,
      errored: 1,
      queued: 0,
      lastMessageAt: new Date(2000).toISOString(),
    }),
  ]);
  const errors = capture();
  expect(await main(['hl7', 'errors', '--channel', 'default'], errors)).toBe(0);
  const [only, ...rest] = lines(errors.stdout);
  expect(rest).toEqual([]);
  expect(only).toMatchObject({ channel: 'default', controlId: '2', error: { reason: 'map', location: 'OBR^1^4' } });
  expect(errors.stdout).not.toContain('MSH|');
});

test('usage errors exit 2', async () => {
  for (const args of [['hl7'], ['hl7', 'status', 'extra'], ['hl7', 'errors', '--channel'], ['hl7', 'purge']]) {
    const io = capture();
    expect(await main(args, io)).toBe(2);
    expect(io.stderr).toMatch(/Usage: hms hl7/);
  }
});

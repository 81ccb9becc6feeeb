// `hms audit verify` on the configured store: a whole chain, an edited record, usage errors.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { auditEvents } from '../../resources/audit/balp';
import { auditRecordOf } from '../../resources/audit/record';
import { SQLITE_FILE_NAME } from '../../resources/store';
import { SqliteStore } from '../../resources/store/sqlite/sqlite-store';
import { main } from '../../server/cli';
import { tempDir } from '../support/app';
import { capture } from '../support/cli-io';

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir('hms-audit-cli-');
  process.env.DATA_DIR = dataDir;
});
afterEach(() => {
  delete process.env.DATA_DIR;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function audited(count: number): Promise<void> {
  const store = SqliteStore.open(path.join(dataDir, SQLITE_FILE_NAME));
  const access = { actor: 'user/u1', userId: 'u1', fhirUser: 'Practitioner/7', clientId: 'app', ip: '10.0.0.1' };
  for (let i = 0; i < count; i++) {
    const events = auditEvents(access, { subtype: 'read', outcome: '0', patients: [`p${i}`] }, new Date());
    await store.transaction((tx) => tx.appendAudit(events.map(auditRecordOf)));
  }
  await store.close();
}

async function verify(): Promise<{ code: number; report: unknown }> {
  const io = capture();
  const code = await main(['audit', 'verify'], io);
  return { code, report: JSON.parse(io.stdout) };
}

test('an empty log and a whole chain verify: exit 0', async () => {
  expect(await verify()).toEqual({ code: 0, report: { checked: 0, ok: true } });
  await audited(3);
  expect(await verify()).toEqual({ code: 0, report: { checked: 3, ok: true } });
});

test('an edited record is reported with its seq and id: exit 1', async () => {
  await audited(4);
  const db = new Database(path.join(dataDir, SQLITE_FILE_NAME));
  const { id, json } = db.prepare('SELECT id, json FROM audit WHERE seq = 2').get() as { id: string; json: string };
  db.prepare('UPDATE audit SET json = ? WHERE seq = 2').run(json.replace('"outcome":"0"', '"outcome":"8"'));
  db.close();
  expect(await verify()).toEqual({
    code: 1,
    report: { checked: 2, ok: false, broken: { seq: 2, id, reason: expect.stringMatching(/hash mismatch/) } },
  });
});

test('anything but `verify` is a usage error: exit 2', async () => {
  for (const args of [['audit'], ['audit', 'check'], ['audit', 'verify', 'extra']]) {
    const io = capture();
    expect(await main(args, io)).toBe(2);
    expect(io.stderr).toMatch(/Usage: hms audit verify/);
  }
});

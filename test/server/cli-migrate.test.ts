// `hms migrate`: a SQLite store written by the repository copied to another SQLite file (verified, resumable,
// runtime SearchParameters honoured in the target's index), and the command's usage and failure reports.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { main } from '../../server/cli';
import { Repository } from '../../resources/repository';
import { SQLITE_FILE_NAME } from '../../resources/store';
import { SqliteStore } from '../../resources/store/sqlite/sqlite-store';
import { closeServices, openServices } from '../../server/services';
import { nicknameSearchParameter, observation, patient, tempDir } from '../support/app';
import { capture } from '../support/cli-io';
import { auditRecord } from '../resources/store/audit-contract';
import { query, version } from '../resources/store/contract';

let dir: string;
let from: string;
let to: string;
beforeEach(() => {
  dir = tempDir('hms-cli-migrate-');
  from = path.join(dir, 'old', SQLITE_FILE_NAME);
  to = path.join(dir, 'new', SQLITE_FILE_NAME);
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const asResource = (fields: Record<string, unknown>) => fields as unknown as Resource;

/** A source written through the repository: a runtime SearchParameter, updates, a deletion. */
async function fillSource(): Promise<void> {
  const services = await openServices({ dataDir: path.dirname(from), sqliteSynchronous: 'NORMAL' });
  try {
    const repo = new Repository(services, { actor: 'test' });
    await repo.create('SearchParameter', asResource(nicknameSearchParameter()));
    const nicknamed = patient({ name: [{ use: 'nickname', given: ['Annie'] }] });
    await repo.update('Patient', 'pat1', asResource({ ...nicknamed, id: 'pat1' }));
    await repo.update('Patient', 'pat1', asResource({ ...nicknamed, id: 'pat1', gender: 'other' }));
    await repo.update('Patient', 'pat2', asResource({ ...patient(), id: 'pat2' }));
    await repo.create('Observation', asResource(observation('Patient/pat1')));
    await repo.delete('Patient', 'pat2');
  } finally {
    await closeServices(services);
  }
}

test('SQLite to SQLite: every version copied, the verification table printed, exit 0; a re-run copies nothing', async () => {
  await fillSource();
  const io = capture();
  expect(await main(['migrate', '--from', from, '--to', to], io)).toBe(0);
  expect(io.stderr).toMatch(/migrate: copied 6 versions, 0 already in the target, \d+\/s/);
  const lines = io.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^Resource type\s+Versions\s+Current\s+Checksum \(sha256\)\s+Verified$/);
  expect(lines.slice(1, 4).map((l) => l.split(/\s+/))).toEqual([
    ['Observation', '1', '1', expect.stringMatching(/^[0-9a-f]{16}$/), 'ok'],
    ['Patient', '4', '1', expect.stringMatching(/^[0-9a-f]{16}$/), 'ok'],
    ['SearchParameter', '1', '1', expect.stringMatching(/^[0-9a-f]{16}$/), 'ok'],
  ]);
  expect(lines[4]).toBe('all 3 resource types match');
  expect(lines[5]).toMatch(/^Audit log: 0 records, head 0{16}, ok$/);
  expect(io.stdout + io.stderr).not.toContain('Annie');

  const target = SqliteStore.open(to);
  try {
    const byNickname = query('Patient', [{ kind: 'string', param: 'nickname', match: 'start', values: ['annie'] }]);
    expect((await target.search(byNickname)).entries.map((e) => e.id)).toEqual(['pat1']);
    expect((await target.readCurrent('Patient', 'pat2'))?.deleted).toBe(true);
  } finally {
    await target.close();
  }

  const again = capture();
  expect(await main(['migrate', '--from', from, '--to', to, '--batch', '2'], again)).toBe(0);
  expect(again.stderr).toMatch(/copied 0 versions, 6 already in the target/);
});

test('a long copy reports its progress on stderr', async () => {
  await fillSource();
  let now = Date.UTC(2026, 0, 1);
  jest.spyOn(Date, 'now').mockImplementation(() => (now += 1500));
  const io = capture();
  expect(await main(['migrate', '--from', from, '--to', to, '--batch', '2'], io)).toBe(0);
  expect(io.stderr).toMatch(/migrate: \d+ versions copied, 0 already in the target \(\d+\/s\)/);
  expect(io.stderr).toMatch(/migrate: verifying, \d+ versions checked/);
});

test('usage errors exit 2 and say what is wrong', async () => {
  await fillSource();
  const cases: [string[], RegExp][] = [
    [['--from', from], /give both --from and --to/],
    [['--to', to], /give both --from and --to/],
    [['--from', from, '--to'], /--to needs a value/],
    [['--from', '--to', to], /--from needs a value/],
    [['--from', from, '--to', to, '--force', 'yes'], /unknown argument --force/],
    [['--from', from, '--to', to, '--batch', '0'], /--batch must be a positive integer/],
    [['--from', from, '--to', to, '--batch', 'ten'], /--batch must be a positive integer/],
    [['--from', from, '--to', path.join(dir, 'old', '.', SQLITE_FILE_NAME)], /the same store/],
    [['--from', 'mongodb://h/db', '--to', 'mongodb://h/db'], /the same store/],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    expect(await main(['migrate', ...args], io)).toBe(2);
    expect(io.stderr).toMatch(message);
    expect(io.stderr).toMatch(/Usage: hms migrate --from/);
  }
  expect(fs.existsSync(to)).toBe(false);
});

test('a source file that does not exist is refused and nothing is created', async () => {
  const io = capture();
  expect(await main(['migrate', '--from', path.join(dir, 'missing.sqlite'), '--to', to], io)).toBe(2);
  expect(io.stderr).toMatch(/hms migrate: no such file: .*missing\.sqlite/);
  expect(fs.existsSync(path.join(dir, 'missing.sqlite'))).toBe(false);
  expect(fs.existsSync(to)).toBe(false);
});

test('a source that is not a SQLite store fails with a clear message', async () => {
  const bogus = path.join(dir, 'notes.txt');
  fs.writeFileSync(bogus, 'x'.repeat(4096));
  const io = capture();
  expect(await main(['migrate', '--from', bogus, '--to', to], io)).toBe(1);
  expect(io.stderr).toMatch(/hms migrate: cannot open the source .*notes\.txt: .*not a SQLite database/);
});

test('a MongoDB location goes to the MongoDB store; its password is never printed', async () => {
  await fillSource();
  const io = capture();
  const url = 'mongodb://admin:s3cret@127.0.0.1:1/hms?serverSelectionTimeoutMS=500';
  expect(await main(['migrate', '--from', from, '--to', url], io)).toBe(1);
  expect(io.stderr).toMatch(/^hms migrate: /);
  expect(io.stderr).not.toContain('s3cret');
});

test('a target that is not a copy of the source: a conflict, or a failed verification naming the type', async () => {
  await fillSource();
  const target = SqliteStore.open(to);
  await target.transaction((tx) => tx.writeVersion(version('Device', 'stranger', 1)));
  await target.close();
  const io = capture();
  expect(await main(['migrate', '--from', from, '--to', to], io)).toBe(1);
  expect(io.stdout).toMatch(/^Device\s+0 \/ 1\s+0 \/ 1\s+[0-9a-f]{16} \/ [0-9a-f]{16}\s+MISMATCH$/m);
  expect(io.stdout).toMatch(/1 of 4 resource types differ/);
  expect(io.stderr).toMatch(/verification failed for Device: the target differs from the source/);
  expect(io.stderr).not.toMatch(/audit log differs/);

  const other = path.join(dir, 'other.sqlite');
  const conflicting = SqliteStore.open(other);
  await conflicting.transaction((tx) => tx.writeVersion(version('Patient', 'pat1', 1)));
  await conflicting.close();
  const conflict = capture();
  expect(await main(['migrate', '--from', from, '--to', other], conflict)).toBe(1);
  expect(conflict.stderr).toMatch(/hms migrate: Patient\/pat1 version 1 is in the target with other content/);
  expect(conflict.stdout).toBe('');
});

test('the audit log is copied; a target with a log of its own fails the check, exit 1', async () => {
  const source = SqliteStore.open(from);
  await source.transaction((tx) => tx.appendAudit([auditRecord(), auditRecord()]));
  await source.close();
  const target = SqliteStore.open(to);
  await target.transaction((tx) => tx.appendAudit([auditRecord()]));
  await target.close();
  const io = capture();
  expect(await main(['migrate', '--from', from, '--to', to], io)).toBe(1);
  expect(io.stderr).toMatch(/migrate: copied 2 audit records, 0 already in the target/);
  expect(io.stdout).toMatch(/^Audit log: 2 \/ 3 records, head [0-9a-f]{16} \/ [0-9a-f]{16}, MISMATCH$/m);
  expect(io.stderr).toMatch(/hms migrate: the audit log differs from the source/);
  expect(io.stderr).not.toMatch(/verification failed for/);
});

test('a stored version that is not JSON stops the copy without quoting it', async () => {
  const source = SqliteStore.open(from);
  await source.transaction((tx) => tx.writeVersion(version('Patient', 'bad', 1, [], { json: '{"secret": tru' })));
  await source.close();
  const io = capture();
  expect(await main(['migrate', '--from', from, '--to', to], io)).toBe(1);
  expect(io.stderr).toMatch(/hms migrate: Patient\/bad version 1 is not valid JSON in the source/);
  expect(io.stderr).not.toContain('secret');
});

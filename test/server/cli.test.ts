// The `hms` command: import (NDJSON and Bundle, validated, ids kept), export, usage errors.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../server/cli';
import { tempDir } from '../support/app';
import { capture } from '../support/cli-io';

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir('hms-cli-');
  process.env.DATA_DIR = dataDir;
});
afterEach(() => {
  delete process.env.DATA_DIR;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('import NDJSON: valid lines load with their ids, bad lines are reported, exit 1', async () => {
  const file = path.join(dataDir, 'in.ndjson');
  fs.writeFileSync(
    file,
    [
      '{"resourceType":"Patient","id":"p1","gender":"male"}',
      '{not json',
      '',
      '{"resourceType":"Observation","status":"final","code":{"text":"x"}}',
      '{"resourceType":"Patient","gender":"bogus"}',
      '{"noType":true}',
    ].join('\n'),
  );
  const io = capture();
  expect(await main(['import', file], io)).toBe(1);
  expect(io.stderr).toMatch(/line 2: not valid JSON/);
  expect(io.stderr).toMatch(/line 5: Patient.gender: Invalid code/);
  expect(io.stderr).toMatch(/line 6: not a FHIR resource/);
  expect(io.stderr).toMatch(/imported 2 resources, 3 failed/);

  const out = capture();
  expect(await main(['export'], out)).toBe(0);
  const exported = out.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(exported.map((r) => r.resourceType).sort()).toEqual(['Observation', 'Patient']);
  expect(exported.find((r) => r.resourceType === 'Patient').id).toBe('p1');
});

test('import a Bundle, export one type to a file, import the export again (no new versions)', async () => {
  const file = path.join(dataDir, 'bundle.json');
  const entries = Array.from({ length: 150 }, (_, i) => ({
    resource: { resourceType: 'Patient', id: `b${i}`, active: true },
  }));
  fs.writeFileSync(file, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries }));
  const io = capture();
  expect(await main(['import', file], io)).toBe(0);
  expect(io.stderr).toMatch(/imported 150 resources, 0 failed/);
  const output = path.join(dataDir, 'out.ndjson');
  expect(await main(['export', '--type', 'Patient', '--output', output], capture())).toBe(0);
  const lines = fs.readFileSync(output, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(150);
  expect(await main(['import', output], capture())).toBe(0);
  const again = capture();
  await main(['export', '--type', 'Patient'], again);
  expect(
    again.stdout
      .split('\n')
      .filter(Boolean)
      .every((l) => JSON.parse(l).meta.versionId === '1'),
  ).toBe(true);
});

test('a single resource file imports too', async () => {
  const file = path.join(dataDir, 'one.json');
  fs.writeFileSync(file, JSON.stringify({ resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Who' }] }));
  expect(await main(['import', file], capture())).toBe(0);
});

test('usage errors exit 2', async () => {
  const io = capture();
  expect(await main([], io)).toBe(2);
  expect(io.stderr).toMatch(/Usage: hms/);
  expect(await main(['frobnicate'], capture())).toBe(2);
  expect(await main(['import'], capture())).toBe(2);
  expect(await main(['import', '/no/such/file.ndjson'], capture())).toBe(2);
  expect(await main(['export', '--type', 'Nope'], capture())).toBe(2);
  expect(await main(['export', '--type', 'Patient,Nope'], capture())).toBe(2);
  // One NDJSON stream holds no deletions: --since writes a directory.
  const both = capture();
  expect(await main(['export', '--output', 'x.ndjson', '--since', '2026-01-01T00:00:00Z'], both)).toBe(2);
  expect(both.stderr).toMatch(/Usage: hms export/);
});

test('the bin script runs the compiled CLI', () => {
  const bin = path.resolve(__dirname, '../../bin/hms.js');
  const result = spawnSync(process.execPath, [bin, 'export'], {
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  expect(result.stderr).toMatch(/exported 0 resources/);
});

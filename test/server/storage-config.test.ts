// HMS_DATA_KEY: read from the variable or a file, refused when short; set for the store layer at start-up, with a
// warning (no secret in it) when unencrypted files are served beyond loopback; and the CLI's one-line errors.
import fs from 'node:fs';
import path from 'node:path';
import { StoreConfigError } from '../../resources/store';
import { dataKey, useDataKey } from '../../resources/store/sqlite/data-key';
import { ConfigError, loadConfig } from '../../server/config';
import { applyStorageConfig, readKey, withDataKey } from '../../server/storage-config';
import { tempDir } from '../support/app';
import { capture } from '../support/cli-io';

const KEY = 'a passphrase of some length';

let dir: string;
beforeEach(() => {
  dir = tempDir('hms-keycfg-');
});
afterEach(() => {
  useDataKey(undefined);
  delete process.env.HMS_DATA_KEY;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the key comes from the variable, or from a file with file:, without its trailing newline', () => {
  expect(loadConfig({}).storage).toEqual({ dataKey: undefined });
  expect(loadConfig({ HMS_DATA_KEY: KEY }).storage).toEqual({ dataKey: KEY });
  const file = path.join(dir, 'key');
  fs.writeFileSync(file, `${KEY}\n`);
  expect(readKey({ K: `file:${file}` }, 'K')).toBe(KEY);
  fs.writeFileSync(file, `${KEY}\r\n`);
  expect(readKey({ K: `file:${file}` }, 'K')).toBe(KEY);
});

test('a short key or an unreadable key file is a configuration error naming the variable', () => {
  expect(() => loadConfig({ HMS_DATA_KEY: 'short' })).toThrow(ConfigError);
  expect(() => loadConfig({ HMS_DATA_KEY: 'short' })).toThrow('HMS_DATA_KEY must have at least 16 characters');
  const missing = path.join(dir, 'missing');
  expect(() => loadConfig({ HMS_DATA_KEY: `file:${missing}` })).toThrow(
    `HMS_DATA_KEY: cannot read the key file ${missing}`,
  );
});

describe('at start-up', () => {
  const run = (env: Record<string, string>) => {
    const lines: string[] = [];
    const config = loadConfig({ HMS_SECRET: 'x'.repeat(32), DATA_DIR: dir, ...env });
    applyStorageConfig(config, { warn: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })) });
    return lines;
  };

  test('unencrypted files served beyond loopback: one warning, without any secret', () => {
    const lines = run({ HOST: '0.0.0.0' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/not encrypted: set HMS_DATA_KEY/);
    expect(lines[0]).toContain('"host":"0.0.0.0"');
    expect(lines[0]).not.toContain('x'.repeat(32));
    expect(dataKey()).toBeUndefined();
  });

  test('no warning on loopback, with a key, or on MongoDB; the key is set for the store layer', () => {
    expect(run({ HOST: '127.0.0.1' })).toEqual([]);
    expect(run({ HOST: '::1' })).toEqual([]);
    expect(run({ HOST: '0.0.0.0', MONGODB_URL: 'mongodb://db.example/hms' })).toEqual([]);
    expect(run({ HOST: '0.0.0.0', HMS_DATA_KEY: KEY })).toEqual([]);
    expect(dataKey()).toBe(KEY);
  });
});

describe('hms commands', () => {
  test('run with HMS_DATA_KEY set for the store layer', async () => {
    process.env.HMS_DATA_KEY = KEY;
    const io = capture();
    expect(await withDataKey(io, async () => (dataKey() === KEY ? 0 : 1))).toBe(0);
  });

  test('a bad key setting: exit 2 and one line', async () => {
    process.env.HMS_DATA_KEY = 'short';
    const io = capture();
    expect(await withDataKey(io, async () => 0)).toBe(2);
    expect(io.stderr).toBe('Configuration error: HMS_DATA_KEY must have at least 16 characters\n');
  });

  test('a store the key does not open: exit 3 and one line; other errors go on up', async () => {
    const io = capture();
    const refused = async () => {
      throw new StoreConfigError('HMS_DATA_KEY does not open x');
    };
    expect(await withDataKey(io, refused)).toBe(3);
    expect(io.stderr).toBe('Store error: HMS_DATA_KEY does not open x\n');
    await expect(withDataKey(io, () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
  });
});

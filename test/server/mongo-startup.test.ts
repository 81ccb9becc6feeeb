// Start-up on MongoDB: the real server process, given a MONGODB_URL whose server cannot be reached, exits after
// the server-selection timeout with the store's exit code and one clear line on stderr (never the password),
// instead of hanging.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { tempDir } from '../support/app';
import { closedPort } from '../support/fake-mongod';

const MAIN = path.resolve(__dirname, '../../dist/server/main.js');
const EXIT_STORE_ERROR = 3;

test('an unreachable MongoDB stops start-up with exit code 3 and one clear line instead of hanging', async () => {
  const dataDir = tempDir('hms-mongo-startup-');
  const env = {
    ...process.env,
    MONGODB_URL: `mongodb://hms:secret@127.0.0.1:${await closedPort()}/hms`,
    MONGODB_SERVER_SELECTION_MS: '500',
    DATA_DIR: dataDir,
    PORT: '0',
    HL7_MLLP_PORT: '0',
    VALIDATION_WORKERS: '0',
  };
  // A process that hangs on the unreachable server is killed at the timeout (a signal instead of an exit code);
  // no wall-clock bound beyond that, as start-up alone can take seconds on a busy machine.
  const result = spawnSync(process.execPath, [MAIN], { env, encoding: 'utf8', timeout: 60_000 });
  fs.rmSync(dataDir, { recursive: true, force: true });
  expect(result.signal).toBeNull();
  expect(result.status).toBe(EXIT_STORE_ERROR);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Store error: .*MongoDB/)]);
  expect(result.stderr + result.stdout).not.toMatch(/secret/);
});

test('the MongoDB settings have safe defaults and clear errors', () => {
  expect(loadConfig({})).toMatchObject({ mongodbServerSelectionMs: 5000, mongodbAllowStandalone: false });
  const set = loadConfig({ MONGODB_SERVER_SELECTION_MS: '300', MONGODB_ALLOW_STANDALONE: 'TRUE' });
  expect(set).toMatchObject({ mongodbServerSelectionMs: 300, mongodbAllowStandalone: true });
  expect(loadConfig({ MONGODB_ALLOW_STANDALONE: '0' }).mongodbAllowStandalone).toBe(false);
  expect(() => loadConfig({ MONGODB_ALLOW_STANDALONE: 'maybe' })).toThrow(
    new ConfigError('MONGODB_ALLOW_STANDALONE must be true or false, got "maybe"'),
  );
  expect(() => loadConfig({ MONGODB_SERVER_SELECTION_MS: '0' })).toThrow(
    /MONGODB_SERVER_SELECTION_MS must be an integer/,
  );
});

// Settings from the environment: defaults, parsing, and clear errors.
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { createLogger } from '../../server/log';

test('defaults are safe and local', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    port: 8080,
    host: '127.0.0.1',
    baseUrl: 'http://127.0.0.1:8080/fhir',
    dataDir: path.resolve('./data'),
    mongodbUrl: undefined,
    logLevel: 'info',
    maxBodyBytes: 16 * 1024 * 1024,
    sqliteSynchronous: 'FULL',
    shutdownTimeoutMs: 10_000,
    searchWorkers: Math.max(1, os.availableParallelism()),
    searchTimeoutMs: 10_000,
    readCacheBytes: 64 * 1024 * 1024,
    hmsSecret: undefined,
    authDisabled: false,
    accessTokenMinutes: 10,
    sessionIdleMinutes: 15,
    corsOrigins: [],
  });
});

test('values are parsed and normalized', () => {
  const config = loadConfig({
    PORT: '9000',
    HOST: '0.0.0.0',
    HMS_SECRET: 'x'.repeat(32),
    BASE_URL: 'https://fhir.example.org/fhir/',
    MAX_BODY_SIZE: '2mb',
    SQLITE_SYNCHRONOUS: 'normal',
    LOG_LEVEL: 'WARN',
  });
  expect(config.port).toBe(9000);
  expect(config.baseUrl).toBe('https://fhir.example.org/fhir');
  expect(config.maxBodyBytes).toBe(2 * 1024 * 1024);
  expect(config.sqliteSynchronous).toBe('NORMAL');
  expect(config.logLevel).toBe('warn');
  expect(loadConfig({ HOST: '0.0.0.0', HMS_SECRET: 'x'.repeat(32) }).baseUrl).toBe('http://localhost:8080/fhir');
  expect(loadConfig({ MAX_BODY_SIZE: '512k' }).maxBodyBytes).toBe(512 * 1024);
  expect(loadConfig({ MAX_BODY_SIZE: '1000' }).maxBodyBytes).toBe(1000);
  expect(loadConfig({ READ_CACHE_SIZE: '0' }).readCacheBytes).toBe(0);
  expect(loadConfig({ READ_CACHE_SIZE: '256mb' }).readCacheBytes).toBe(256 * 1024 * 1024);
  expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
    'https://a.example',
    'http://localhost:3000',
  ]);
  expect(loadConfig({ AUTH_DISABLED: 'true', SESSION_IDLE_MINUTES: '5' })).toMatchObject({
    authDisabled: true,
    sessionIdleMinutes: 5,
  });
});

test.each([
  [{ PORT: 'x' }, /PORT must be an integer/],
  [{ PORT: '70000' }, /PORT must be an integer between 0 and 65535/],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  [{ MAX_BODY_SIZE: 'big' }, /MAX_BODY_SIZE must be a size/],
  [{ READ_CACHE_SIZE: '-1' }, /READ_CACHE_SIZE must be a size/],
  [{ SQLITE_SYNCHRONOUS: 'OFF' }, /SQLITE_SYNCHRONOUS must be one of FULL, NORMAL/],
  [{ SEARCH_TIMEOUT_MS: '0' }, /SEARCH_TIMEOUT_MS must be an integer between 1 and/],
  [{ SEARCH_WORKERS: '-1' }, /SEARCH_WORKERS must be an integer between 0 and 64/],
  [{ HOST: '0.0.0.0' }, /HMS_SECRET is required when the server listens on 0.0.0.0/],
  [{ HMS_SECRET: 'short' }, /HMS_SECRET must have at least 32 characters/],
  [
    { HOST: '0.0.0.0', HMS_SECRET: 'x'.repeat(32), AUTH_DISABLED: 'true' },
    /AUTH_DISABLED is allowed only on a loopback/,
  ],
  [{ ACCESS_TOKEN_MINUTES: '120' }, /ACCESS_TOKEN_MINUTES must be an integer between 1 and 60/],
  [{ CORS_ORIGINS: 'https://a.example/path' }, /CORS_ORIGINS must list origins/],
  [{ CORS_ORIGINS: '*' }, /CORS_ORIGINS must list origins/],
])('%j is refused', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('the logger writes one JSON line per event and respects the level', () => {
  const lines: string[] = [];
  const logger = createLogger('warn', (line) => lines.push(line));
  logger.info('hidden');
  logger.debug('hidden');
  logger.warn('shown', { status: 500 });
  logger.error('also');
  expect(lines).toHaveLength(2);
  expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', msg: 'shown', status: 500 });
  expect([logger.writes('info'), logger.writes('warn'), logger.writes('error')]).toEqual([false, true, true]);
  expect(lines[0].endsWith('\n')).toBe(true);
});

test('validation workers default to the cores beyond the event loop, and can be turned off', () => {
  expect(loadConfig({}).validationWorkers).toBeGreaterThanOrEqual(1);
  expect(loadConfig({ VALIDATION_WORKERS: '0' }).validationWorkers).toBe(0);
  expect(() => loadConfig({ VALIDATION_WORKERS: '-1' })).toThrow(/VALIDATION_WORKERS/);
});

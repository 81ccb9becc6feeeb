// HL7 v2 bridge settings read through loadConfig: defaults, the MLLP port (off, 0), TLS files, the channels
// file, the alert webhook and sizes, each refusal naming its variable.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { tempDir } from '../support/app';

let dir: string;
beforeAll(() => {
  dir = tempDir('hms-hl7-config-');
  for (const name of ['cert.pem', 'key.pem', 'ca.pem']) fs.writeFileSync(path.join(dir, name), `PEM ${name}`);
  fs.writeFileSync(path.join(dir, 'channels.json'), '{"channels":[]}');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string) => path.join(dir, name);
const hl7 = (env: Record<string, string>) => loadConfig(env).hl7;
const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

test('defaults: port 2575 on HOST, enabled, no TLS, no channels file, no webhook', () => {
  expect(hl7({})).toEqual({
    enabled: true,
    port: 2575,
    host: '127.0.0.1',
    maxFrameBytes: 10 * 1024 * 1024,
    idleTimeoutMs: 3_600_000,
    alertQueueMinutes: 15,
    alertSilentMinutes: 0,
  });
  expect(hl7({ HOST: '::1' }).host).toBe('::1');
});

test('HL7_MLLP_HOST overrides HOST', () => {
  expect(hl7({ HL7_MLLP_HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
});

test.each(['off', 'OFF', ' Off '])('HL7_MLLP_PORT=%j disables the bridge', (value) => {
  expect(hl7({ HL7_MLLP_PORT: value })).toMatchObject({ enabled: false });
});

test('HL7_MLLP_PORT: 0 (a free port) and other ports are allowed', () => {
  expect(hl7({ HL7_MLLP_PORT: '0' })).toMatchObject({ enabled: true, port: 0 });
  expect(hl7({ HL7_MLLP_PORT: '6661' })).toMatchObject({ enabled: true, port: 6661 });
  expect(hl7({ HL7_MLLP_PORT: '' }).port).toBe(2575);
});

test.each(['65536', '-1', 'abc', '25.75', 'on'])('HL7_MLLP_PORT=%j is refused, naming the variable', (value) => {
  expect(refusal({ HL7_MLLP_PORT: value })).toMatch(/^HL7_MLLP_PORT must be an integer between 0 and 65535/);
});

describe('TLS', () => {
  test('cert and key are read; without a CA no client certificate is asked for', () => {
    expect(hl7({ HL7_MLLP_TLS_CERT: file('cert.pem'), HL7_MLLP_TLS_KEY: file('key.pem') }).tls).toEqual({
      cert: 'PEM cert.pem',
      key: 'PEM key.pem',
      requestCert: false,
    });
  });

  test('a CA file requires client certificates', () => {
    const env = { HL7_MLLP_TLS_CERT: file('cert.pem'), HL7_MLLP_TLS_KEY: file('key.pem') };
    expect(hl7({ ...env, HL7_MLLP_TLS_CA: file('ca.pem') }).tls).toEqual({
      cert: 'PEM cert.pem',
      key: 'PEM key.pem',
      ca: 'PEM ca.pem',
      requestCert: true,
    });
  });

  test.each([
    [{ HL7_MLLP_TLS_CERT: 'cert.pem' }],
    [{ HL7_MLLP_TLS_KEY: 'key.pem' }],
    [{ HL7_MLLP_TLS_CA: 'ca.pem' }],
    [{ HL7_MLLP_TLS_CA: 'ca.pem', HL7_MLLP_TLS_KEY: 'key.pem' }],
  ])('a certificate needs its key (and a CA both): %j', (env) => {
    const named = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, file(v)]));
    expect(refusal(named)).toBe('HL7_MLLP_TLS_CERT and HL7_MLLP_TLS_KEY are needed together');
  });

  test.each(['HL7_MLLP_TLS_CERT', 'HL7_MLLP_TLS_KEY', 'HL7_MLLP_TLS_CA'])('unreadable %s is refused', (name) => {
    const env: Record<string, string> = {
      HL7_MLLP_TLS_CERT: file('cert.pem'),
      HL7_MLLP_TLS_KEY: file('key.pem'),
      [name]: file('missing.pem'),
    };
    expect(refusal(env)).toBe(`${name} ${file('missing.pem')} cannot be read`);
    expect(refusal({ ...env, [name]: dir })).toBe(`${name} ${dir} cannot be read`);
  });
});

describe('channels file', () => {
  test('an existing file is taken', () => {
    expect(hl7({ HL7_CHANNELS_FILE: file('channels.json') }).channelsFile).toBe(file('channels.json'));
  });

  test('a missing file is refused', () => {
    expect(refusal({ HL7_CHANNELS_FILE: file('nope.json') })).toBe(
      `HL7_CHANNELS_FILE ${file('nope.json')} does not exist`,
    );
  });

  test('a folder is refused', () => {
    expect(refusal({ HL7_CHANNELS_FILE: dir })).toBe(`HL7_CHANNELS_FILE ${dir} is not a file`);
  });
});

describe('alert webhook', () => {
  test.each(['http://hooks.local/hl7', 'https://hooks.example.org/x?token=1', 'HTTPS://hooks.example.org/'])(
    '%s is taken',
    (url) => {
      expect(hl7({ HL7_ALERT_WEBHOOK: url }).alertWebhook).toBe(url);
    },
  );

  test.each(['ftp://hooks.local/', 'hooks.local/hl7', 'mailto:ops@example.org', 'http://', 'https:// bad host/'])(
    '%s is refused',
    (url) => {
      expect(refusal({ HL7_ALERT_WEBHOOK: url })).toBe('HL7_ALERT_WEBHOOK must be an http(s) URL');
    },
  );

  test('thresholds', () => {
    expect(hl7({ HL7_ALERT_QUEUE_MINUTES: '5', HL7_ALERT_SILENT_MINUTES: '120' })).toMatchObject({
      alertQueueMinutes: 5,
      alertSilentMinutes: 120,
    });
    expect(refusal({ HL7_ALERT_QUEUE_MINUTES: '0' })).toMatch(/^HL7_ALERT_QUEUE_MINUTES must be an integer/);
    expect(refusal({ HL7_ALERT_SILENT_MINUTES: '-5' })).toMatch(/^HL7_ALERT_SILENT_MINUTES must be an integer/);
  });
});

describe('sizes and timeouts', () => {
  test.each([
    ['1048576', 1_048_576],
    ['64kb', 64 * 1024],
    ['2m', 2 * 1024 * 1024],
    ['16MB', 16 * 1024 * 1024],
    [' 512 k ', 512 * 1024],
  ])('HL7_MAX_MESSAGE_SIZE=%j', (value, bytes) => {
    expect(hl7({ HL7_MAX_MESSAGE_SIZE: value }).maxFrameBytes).toBe(bytes);
  });

  test.each(['lots', '1.5mb', '-1', '10 tb'])('HL7_MAX_MESSAGE_SIZE=%j is refused', (value) => {
    expect(refusal({ HL7_MAX_MESSAGE_SIZE: value })).toMatch(/^HL7_MAX_MESSAGE_SIZE must be a size such as 16mb/);
  });

  test.each(['0', '0kb', '1gb'])(
    'HL7_MAX_MESSAGE_SIZE=%j (no frame could pass, or beyond a string) is refused',
    (v) => {
      expect(refusal({ HL7_MAX_MESSAGE_SIZE: v })).toMatch(/^HL7_MAX_MESSAGE_SIZE must be between 1 byte and 256mb/);
    },
  );

  test('HL7_IDLE_TIMEOUT_SECONDS', () => {
    expect(hl7({ HL7_IDLE_TIMEOUT_SECONDS: '90' }).idleTimeoutMs).toBe(90_000);
    expect(refusal({ HL7_IDLE_TIMEOUT_SECONDS: '0' })).toMatch(/^HL7_IDLE_TIMEOUT_SECONDS must be an integer/);
  });
});

// HTTPS on the HTTP listener from TLS_CERT / TLS_KEY: a real TLS connection to 127.0.0.1 with a certificate
// made for the test, HSTS on every answer, https in the default BASE_URL; and the settings' refusals (one file
// without the other, an unreadable file, a key that does not match) as configuration errors.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../../server/config';
import { createLogger } from '../../../server/log';
import { startServer, type RunningServer } from '../../../server/main';
import { tempDir } from '../../support/app';
import { makeCertificates } from '../../support/tls-certificates';

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(() => {
  dir = tempDir('hms-https-');
  makeCertificates(dir, {
    cas: ['test-ca', 'other-ca'],
    leaves: [
      { name: 'server', signer: 'test-ca', ext: 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth' },
      { name: 'stranger', signer: 'other-ca', ext: 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth' },
    ],
  });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('settings', () => {
  test('without TLS_CERT and TLS_KEY the listener is plain HTTP', () => {
    const config = loadConfig({});
    expect(config.http.tls).toBeUndefined();
    expect(config.baseUrl).toBe('http://127.0.0.1:8080/fhir');
  });

  test('with both, the PEM files are read and the default BASE_URL is https', () => {
    const config = loadConfig({ TLS_CERT: file('server.crt'), TLS_KEY: file('server.key') });
    expect(config.http.tls?.cert).toContain('BEGIN CERTIFICATE');
    expect(config.http.tls?.key).toContain('PRIVATE KEY');
    expect(config.baseUrl).toBe('https://127.0.0.1:8080/fhir');
    expect(
      loadConfig({ TLS_CERT: file('server.crt'), TLS_KEY: file('server.key'), BASE_URL: 'https://x.org/fhir' }).baseUrl,
    ).toBe('https://x.org/fhir');
  });

  test('one without the other is refused', () => {
    expect(refusal({ TLS_CERT: file('server.crt') })).toBe('TLS_CERT and TLS_KEY are needed together (or neither)');
    expect(refusal({ TLS_KEY: file('server.key') })).toBe('TLS_CERT and TLS_KEY are needed together (or neither)');
  });

  test('an unreadable file is refused by name', () => {
    const missing = file('missing.crt');
    expect(refusal({ TLS_CERT: missing, TLS_KEY: file('server.key') })).toBe(`TLS_CERT ${missing} cannot be read`);
    expect(refusal({ TLS_CERT: file('server.crt'), TLS_KEY: dir })).toBe(`TLS_KEY ${dir} cannot be read`);
  });

  test('a key that does not belong to the certificate, or a file that is not PEM, is refused', () => {
    expect(refusal({ TLS_CERT: file('server.crt'), TLS_KEY: file('stranger.key') })).toMatch(
      /^TLS_CERT and TLS_KEY are not a PEM certificate and its private key \(.+\)$/,
    );
    fs.writeFileSync(file('garbage.pem'), 'not a certificate');
    expect(refusal({ TLS_CERT: file('garbage.pem'), TLS_KEY: file('server.key') })).toMatch(
      /^TLS_CERT and TLS_KEY are not a PEM certificate/,
    );
  });
});

test('the server process refuses to start on a half TLS setting: exit code 2, the variables named', () => {
  const main = path.resolve(__dirname, '../../../dist/server/main.js');
  const result = spawnSync(process.execPath, [main], {
    env: { ...process.env, DATA_DIR: tempDir('hms-https-exit-'), TLS_CERT: file('server.crt') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('Configuration error: TLS_CERT and TLS_KEY are needed together');
});

describe('a server with TLS', () => {
  let running: RunningServer;
  let port: number;
  const ca = () => fs.readFileSync(file('test-ca.crt'));

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: tempDir('hms-https-data-'),
      HL7_MLLP_PORT: 'off',
      VALIDATION_WORKERS: '0',
      SEARCH_WORKERS: '0',
      SQLITE_SYNCHRONOUS: 'NORMAL',
      TLS_CERT: file('server.crt'),
      TLS_KEY: file('server.key'),
    });
    running = await startServer(config, createLogger('silent'));
    port = (running.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await running.stop();
  });

  function get(pathname: string, options: https.RequestOptions = {}) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: pathname, ca: ca(), ...options }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
    });
  }

  test('answers over HTTPS with HSTS on the FHIR API, the pages and the probes', async () => {
    expect(running.baseUrl).toBe(`https://127.0.0.1:${port}/fhir`);
    for (const [pathname, status] of [
      ['/fhir/metadata', 200],
      ['/fhir/Patient', 401],
      ['/auth/login', 200],
      ['/healthz', 200],
      ['/readyz', 200],
    ] as const) {
      const res = await get(pathname);
      expect(res.status).toBe(status);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    }
    // The default BASE_URL names https (with PORT=0 the app keeps the configured port 0 in it).
    const metadata = JSON.parse((await get('/fhir/metadata')).body);
    expect(metadata.implementation.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/fhir$/);
  });

  test('a client that does not trust the certificate fails the handshake', async () => {
    await expect(get('/healthz', { ca: fs.readFileSync(file('other-ca.crt')) })).rejects.toThrow(/certificate/i);
  });

  test('plain HTTP on the TLS port gets no HTTP answer', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    });
    expect(outcome).toMatch(/^error/);
  });

  test('TLS below 1.2 is refused', async () => {
    await expect(get('/healthz', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).rejects.toThrow();
  });
});

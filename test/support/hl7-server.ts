// The real server in-process with its HL7 bridge on free ports (HTTP and MLLP): messages go over a real
// socket, results are read back through the FHIR API with a full-access token.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/log';
import { startServer, type RunningServer } from '../../server/main';
import { encodeFrame } from '../../integrations/hl7v2/mllp/framer';
import { MllpClient } from '../../integrations/hl7v2/mllp/client';
import type { Hl7Bridge } from '../../integrations/hl7v2/bridge';
import { tempDir } from './app';
import { findFreePort } from './ports';
import { SYSTEM_SCOPE, backendKey, clientCredentialsForm, registerBackendClient } from './tokens';

export interface Hl7TestServer {
  running: RunningServer;
  bridge: Hl7Bridge;
  dataDir: string;
  baseUrl: string;
  mllpPort: number;
  /** GET/POST/PUT on the FHIR API (or /admin when the path starts with /admin) with the system token. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Sends one message over a fresh MLLP connection and returns the ACK text. */
  send(message: string | Buffer, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startHl7Server(
  env: Record<string, string> = {},
  dataDir = tempDir('hms-hl7-'),
): Promise<Hl7TestServer> {
  const port = await findFreePort();
  const config = loadConfig({
    PORT: String(port),
    HL7_MLLP_PORT: '0',
    DATA_DIR: dataDir,
    SQLITE_SYNCHRONOUS: 'NORMAL',
    VALIDATION_WORKERS: '0',
    SEARCH_WORKERS: '0',
    ...env,
  });
  const running = await startServer(config, createLogger('silent'));
  const bridge = running.hl7 as Hl7Bridge;
  const key = await backendKey();
  const clientId = `hl7-test-${randomUUID()}`;
  await registerBackendClient(running.auth, clientId, key, SYSTEM_SCOPE);
  const tokenResponse = await fetch(running.auth.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(await clientCredentialsForm(running.auth, clientId, key, SYSTEM_SCOPE)),
  });
  const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
  const origin = new URL(running.baseUrl).origin;
  return {
    running,
    bridge,
    dataDir,
    baseUrl: running.baseUrl,
    mllpPort: bridge.port,
    async call(method, path, body) {
      const url = path.startsWith('/admin') ? `${origin}${path}` : `${running.baseUrl}/${path.replace(/^\//, '')}`;
      const res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': path.startsWith('/admin') ? 'application/json' : 'application/fhir+json',
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async send(message, timeoutMs = 20_000) {
      const client = await MllpClient.connect({
        host: '127.0.0.1',
        port: bridge.port,
        connectTimeoutMs: 5000,
        maxFrameBytes: 1 << 24,
      });
      try {
        const payload = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
        return (await client.send(payload, { timeoutMs })).toString('utf8');
      } finally {
        client.close();
      }
    },
    close: () => running.stop(),
  };
}

export { encodeFrame };

/** MSA-1 and MSA-2 of an ACK, and its ERR segments. */
export function parseAck(ack: string): { code: string; controlId: string; errors: string[]; msh: string[] } {
  const segments = ack.split('\r');
  const msa = (segments.find((s) => s.startsWith('MSA|')) ?? '').split('|');
  return {
    code: msa[1] ?? '',
    controlId: msa[2] ?? '',
    errors: segments.filter((s) => s.startsWith('ERR|')),
    msh: segments[0].split('|'),
  };
}

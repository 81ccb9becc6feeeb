// The compiled server (dist/server/main.js) as a child process on a DATA_DIR, for tests that kill and restart it.
import path from 'node:path';
import { ChildServer } from '../bench/server-process';

export const MAIN = path.resolve(__dirname, '../../dist/server/main.js');
export const HOST = '127.0.0.1';

/**
 * Starts the compiled server on HOST:port with this DATA_DIR, SQLite writes synced (SQLITE_SYNCHRONOUS=FULL) and
 * warnings-only logs; resolves once /fhir/metadata answers. The MLLP listener takes options.mllpPort (0, the default: any free port; 'off').
 */
export function startMainServer(
  dataDir: string,
  port: number,
  options: { mllpPort?: number | 'off'; env?: Record<string, string>; startTimeoutMs?: number } = {},
): Promise<ChildServer> {
  return ChildServer.start({
    script: MAIN,
    host: HOST,
    port,
    env: {
      PORT: String(port),
      HOST,
      DATA_DIR: dataDir,
      HL7_MLLP_PORT: String(options.mllpPort ?? 0),
      // Load from one address and one client is the point here, not abuse.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_CLIENT_PER_MINUTE: '0',
      SQLITE_SYNCHRONOUS: 'FULL',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    readyPath: '/fhir/metadata',
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
  });
}

// The HTTP listener: plain HTTP, or HTTPS from TLS_CERT / TLS_KEY (read and checked in http-config.ts).
// Both are the same kind of server to main.ts: keep-alive settings, graceful close and connection cleanup.
import http from 'node:http';
import https from 'node:https';
import type { HttpConfig } from './http-config';

/** TLS 1.2 is the floor (RFC 9325); Node's defaults pick the ciphers. */
const MIN_TLS_VERSION = 'TLSv1.2';

export function createHttpServer(listener: http.RequestListener, tls: HttpConfig['tls']): http.Server {
  if (!tls) return http.createServer(listener);
  return https.createServer({ cert: tls.cert, key: tls.key, minVersion: MIN_TLS_VERSION }, listener);
}

// Every setting of the server, read once from the environment and typed. The README's configuration table
// lists the same names and defaults; keep the two in step.
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_READ_CACHE_BYTES } from '../resources/store/sqlite/current-cache';
import { ConfigError, byteSize, flag, integer, oneOf, type Env } from './env';
import { loadHl7Config, type Hl7Config } from './hl7-config';
import { loadProxyConfig, type ProxyConfig } from './proxy-config';
import { loadBinaryConfig, type BinaryConfig } from './binary-config';
import { loadExportConfig, type ExportConfig } from './export-config';
import { loadHttpConfig, wantsTls, type HttpConfig } from './http/http-config';
import { loadStorageConfig, type StorageConfig } from './storage-config';
import { loadSubscriptionConfig, type SubscriptionConfig } from './subscription-config';

export { ConfigError };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface Config {
  port: number;
  host: string;
  /** Public base URL of the FHIR API, used in Location headers, links and fullUrls. */
  baseUrl: string;
  dataDir: string;
  mongodbUrl: string | undefined;
  /** How long start-up waits for a reachable MongoDB server before it fails. */
  mongodbServerSelectionMs: number;
  /** Development only: accept a standalone MongoDB server (no multi-document transactions). */
  mongodbAllowStandalone: boolean;
  logLevel: LogLevel;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** SQLite `synchronous` pragma: FULL survives power loss, NORMAL only a process crash. */
  sqliteSynchronous: SqliteSynchronous;
  /** Grace period for in-flight requests on SIGTERM/SIGINT. */
  shutdownTimeoutMs: number;
  /** Worker threads that validate and index writes; 0 does it on the event loop. */
  validationWorkers: number;
  /** Worker threads that run searches off the event loop; 0 runs them on it (and without a timeout). */
  searchWorkers: number;
  /** A search running longer is refused with 400 too-costly. */
  searchTimeoutMs: number;
  /** Embedded store: memory for current versions kept for reads by id; 0 keeps none. */
  readCacheBytes: number;
  /** Seals stored secrets (signing keys, TOTP secrets); required unless the server listens on loopback only. */
  hmsSecret: string | undefined;
  /** Development only, loopback only: the FHIR API needs no token. */
  authDisabled: boolean;
  accessTokenMinutes: number;
  sessionIdleMinutes: number;
  /** Browser origins allowed to call the API besides those of registered apps. */
  corsOrigins: string[];
  hl7: Hl7Config;
  /** TRUST_PROXY: whether FHIR links follow a reverse proxy's forwarding headers. */
  proxy: ProxyConfig;
  binary: BinaryConfig;
  /** The HTTP front: TLS, rate limits, /metrics access. */
  http: HttpConfig;
  /** Encryption at rest of the SQLite files (HMS_DATA_KEY). */
  storage: StorageConfig;
  /** Where rest-hook notifications may go (SUBSCRIPTION_ENDPOINT_HOSTS). */
  subscriptions: SubscriptionConfig;
  /** Bulk export: exports per client in progress at once (EXPORT_MAX_CONCURRENT); openServices passes it on. */
  export: ExportConfig;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const MIN_SECRET_LENGTH = 32;

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const scheme = wantsTls(env) ? 'https' : 'http';
  const baseUrl = (env.BASE_URL || `${scheme}://${publicHost}:${port}/fhir`).replace(/\/+$/, '');
  const loopback = LOOPBACK_HOSTS.has(host);
  const hmsSecret = env.HMS_SECRET || undefined;
  if (!hmsSecret && !loopback) {
    throw new ConfigError(`HMS_SECRET is required when the server listens on ${host} (anything but loopback)`);
  }
  if (hmsSecret && hmsSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`HMS_SECRET must have at least ${MIN_SECRET_LENGTH} characters`);
  }
  const authDisabled = flag(env, 'AUTH_DISABLED', false);
  if (authDisabled && !loopback) throw new ConfigError('AUTH_DISABLED is allowed only on a loopback HOST');
  return {
    port,
    host,
    baseUrl,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    mongodbUrl: env.MONGODB_URL || undefined,
    mongodbServerSelectionMs: integer(env, 'MONGODB_SERVER_SELECTION_MS', 5000, 1, 600_000),
    mongodbAllowStandalone: flag(env, 'MONGODB_ALLOW_STANDALONE', false),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    maxBodyBytes: byteSize(env, 'MAX_BODY_SIZE', 16 * 1024 * 1024),
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, 'FULL'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    // One core stays with the event loop (HTTP and SQLite); the others validate.
    validationWorkers: integer(env, 'VALIDATION_WORKERS', Math.max(1, os.availableParallelism() - 1), 0, 64),
    // One per core: searches are read-only and SQLite serves concurrent readers, so each core can run one.
    searchWorkers: integer(env, 'SEARCH_WORKERS', Math.max(1, os.availableParallelism()), 0, 64),
    searchTimeoutMs: integer(env, 'SEARCH_TIMEOUT_MS', 10_000, 1, 3_600_000),
    readCacheBytes: byteSize(env, 'READ_CACHE_SIZE', DEFAULT_READ_CACHE_BYTES),
    hmsSecret,
    authDisabled,
    accessTokenMinutes: integer(env, 'ACCESS_TOKEN_MINUTES', 10, 1, 60),
    sessionIdleMinutes: integer(env, 'SESSION_IDLE_MINUTES', 15, 1, 24 * 60),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    hl7: loadHl7Config(env, host),
    proxy: loadProxyConfig(env),
    binary: loadBinaryConfig(env),
    http: loadHttpConfig(env),
    storage: loadStorageConfig(env),
    subscriptions: loadSubscriptionConfig(env, host),
    export: loadExportConfig(env),
  };
}

function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
    .map((o) => {
      // An origin is exactly what URL parses back to `origin`: scheme, host and port, nothing more.
      const origin = URL.canParse(o) ? new URL(o).origin : undefined;
      if (origin === undefined || origin !== o.replace(/\/$/, '')) {
        throw new ConfigError(`${name} must list origins such as https://app.example.org, got "${o}"`);
      }
      return origin;
    });
}

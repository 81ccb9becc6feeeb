// Settings of the HTTP front: TLS for the listener, per-IP and per-client rate limits, and who may read
// /metrics. Refusals name the variable; the TLS files are read (and checked to be a matching pair) here, so
// a bad file stops start-up with a configuration error instead of a stack trace.
import fs from 'node:fs';
import tls from 'node:tls';
import { ConfigError, integer, type Env } from '../env';

export interface HttpConfig {
  /** PEM certificate (chain) and private key: the listener speaks HTTPS and every answer carries HSTS. */
  tls?: { cert: string; key: string };
  /** Requests per minute from one IP address (IPv6: one /56); 0 = no limit. */
  rateLimitPerMinute: number;
  /** FHIR API requests per minute with the tokens of one client (OAuth client id); 0 = no limit. */
  rateLimitClientPerMinute: number;
  /** Bearer token /metrics requires; without one, /metrics answers loopback callers only. */
  metricsToken?: string;
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000;
const MAX_RATE_LIMIT = 10_000_000;
const MIN_METRICS_TOKEN_LENGTH = 16;

export function loadHttpConfig(env: Env): HttpConfig {
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < MIN_METRICS_TOKEN_LENGTH) {
    throw new ConfigError(`METRICS_TOKEN must have at least ${MIN_METRICS_TOKEN_LENGTH} characters`);
  }
  if (metricsToken !== undefined && !/^[A-Za-z0-9._~+/-]+=*$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN may contain only letters, digits and . _ ~ + / - (a bearer token)');
  }
  return {
    ...tlsFiles(env),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMIT_PER_MINUTE, 0, MAX_RATE_LIMIT),
    rateLimitClientPerMinute: integer(
      env,
      'RATE_LIMIT_CLIENT_PER_MINUTE',
      DEFAULT_RATE_LIMIT_PER_MINUTE,
      0,
      MAX_RATE_LIMIT,
    ),
    ...(metricsToken ? { metricsToken } : {}),
  };
}

/** True when the listener is to speak HTTPS (for the default BASE_URL's scheme). */
export const wantsTls = (env: Env): boolean => Boolean(env.TLS_CERT || env.TLS_KEY);

function tlsFiles(env: Env): Pick<HttpConfig, 'tls'> {
  const [certFile, keyFile] = [env.TLS_CERT, env.TLS_KEY];
  if (!certFile && !keyFile) return {};
  if (!certFile || !keyFile) throw new ConfigError('TLS_CERT and TLS_KEY are needed together (or neither)');
  const pair = { cert: readPem('TLS_CERT', certFile), key: readPem('TLS_KEY', keyFile) };
  try {
    tls.createSecureContext(pair);
  } catch (error) {
    // OpenSSL's reason (e.g. "key values mismatch") names no secret.
    const reason = (error as Error).message;
    throw new ConfigError(`TLS_CERT and TLS_KEY are not a PEM certificate and its private key (${reason})`);
  }
  return { tls: pair };
}

function readPem(name: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${name} ${file} cannot be read`);
  }
}

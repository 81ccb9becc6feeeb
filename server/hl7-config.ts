// Settings of the HL7 v2 bridge: the MLLP listener (port, interface, TLS), the channels file and alerts.
import fs from 'node:fs';
import { ConfigError, byteSize, integer, type Env } from './env';

export interface Hl7Config {
  /** Off: no MLLP listener and no outbound queues. */
  enabled: boolean;
  /** 0 picks a free port (logged). */
  port: number;
  host: string;
  tls?: { cert: string; key: string; ca?: string; requestCert: boolean };
  channelsFile?: string;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  alertWebhook?: string;
  alertQueueMinutes: number;
  alertSilentMinutes: number;
}

export const DEFAULT_MLLP_PORT = 2575;

/** Largest HL7_MAX_MESSAGE_SIZE: a frame is decoded to one string, and V8 strings stop near 512M characters. */
const MAX_FRAME_LIMIT = 256 * 1024 * 1024;

export function loadHl7Config(env: Env, host: string): Hl7Config {
  const off = (env.HL7_MLLP_PORT ?? '').trim().toLowerCase() === 'off';
  const port = off ? 0 : integer(env, 'HL7_MLLP_PORT', DEFAULT_MLLP_PORT, 0, 65535);
  const channelsFile = env.HL7_CHANNELS_FILE || undefined;
  if (channelsFile && !fs.existsSync(channelsFile))
    throw new ConfigError(`HL7_CHANNELS_FILE ${channelsFile} does not exist`);
  if (channelsFile && !fs.statSync(channelsFile).isFile())
    throw new ConfigError(`HL7_CHANNELS_FILE ${channelsFile} is not a file`);
  const webhook = env.HL7_ALERT_WEBHOOK || undefined;
  if (webhook && !isHttpUrl(webhook)) throw new ConfigError('HL7_ALERT_WEBHOOK must be an http(s) URL');
  const maxFrameBytes = byteSize(env, 'HL7_MAX_MESSAGE_SIZE', 10 * 1024 * 1024);
  if (maxFrameBytes < 1 || maxFrameBytes > MAX_FRAME_LIMIT) {
    throw new ConfigError(`HL7_MAX_MESSAGE_SIZE must be between 1 byte and 256mb, got "${env.HL7_MAX_MESSAGE_SIZE}"`);
  }
  return {
    enabled: !off,
    port,
    host: env.HL7_MLLP_HOST || host,
    ...tlsFiles(env),
    ...(channelsFile ? { channelsFile } : {}),
    maxFrameBytes,
    idleTimeoutMs: integer(env, 'HL7_IDLE_TIMEOUT_SECONDS', 3600, 1, 86_400) * 1000,
    ...(webhook ? { alertWebhook: webhook } : {}),
    alertQueueMinutes: integer(env, 'HL7_ALERT_QUEUE_MINUTES', 15, 1, 10_080),
    alertSilentMinutes: integer(env, 'HL7_ALERT_SILENT_MINUTES', 0, 0, 10_080),
  };
}

/** An absolute http: or https: URL with a host (the scheme in any case, as URLs allow). */
function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/** MLLP over TLS from PEM files; a CA file also requires client certificates signed by it (mutual TLS). */
function tlsFiles(env: Env): Pick<Hl7Config, 'tls'> {
  const [certFile, keyFile, caFile] = [env.HL7_MLLP_TLS_CERT, env.HL7_MLLP_TLS_KEY, env.HL7_MLLP_TLS_CA];
  if (!certFile && !keyFile && !caFile) return {};
  if (!certFile || !keyFile) throw new ConfigError('HL7_MLLP_TLS_CERT and HL7_MLLP_TLS_KEY are needed together');
  const read = (name: string, file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`${name} ${file} cannot be read`);
    }
  };
  return {
    tls: {
      cert: read('HL7_MLLP_TLS_CERT', certFile),
      key: read('HL7_MLLP_TLS_KEY', keyFile),
      ...(caFile ? { ca: read('HL7_MLLP_TLS_CA', caFile) } : {}),
      requestCert: Boolean(caFile),
    },
  };
}

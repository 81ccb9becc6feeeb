// Settings of the Binary endpoint: the largest content a client may upload (raw bytes, or decoded `data`).
import { ConfigError, byteSize, type Env } from './env';

export interface BinaryConfig {
  /** Largest Binary content in bytes; larger uploads are refused with 413 before anything is written. */
  maxBytes: number;
}

export const DEFAULT_BINARY_MAX_BYTES = 50 * 1024 * 1024;

/** A Binary is base64-encoded once in memory (4/3 of its size) and V8 strings stop near 512M characters. */
const MAX_BINARY_LIMIT = 256 * 1024 * 1024;

export function loadBinaryConfig(env: Env): BinaryConfig {
  const maxBytes = byteSize(env, 'BINARY_MAX_BYTES', DEFAULT_BINARY_MAX_BYTES);
  if (maxBytes < 1 || maxBytes > MAX_BINARY_LIMIT) {
    throw new ConfigError(`BINARY_MAX_BYTES must be between 1 byte and 256mb, got "${env.BINARY_MAX_BYTES}"`);
  }
  return { maxBytes };
}

// Encryption at rest of the SQLite files under DATA_DIR: HMS_DATA_KEY, a passphrase given in the variable or, as
// `file:/path`, in a file (a mounted secret). Every entry point hands the key to the store layer (data-key.ts) before
// it opens a file; the server warns when it listens beyond loopback with unencrypted files.
import fs from 'node:fs';
import { StoreConfigError } from '../resources/store/config-error';
import { useDataKey } from '../resources/store/sqlite/data-key';
import type { CliIo } from './cli-io';
import { ConfigError, type Env } from './env';

export interface StorageConfig {
  /** Passphrase of hms.sqlite, auth.sqlite and hl7.sqlite; undefined: the files are not encrypted. */
  dataKey: string | undefined;
}

/** A passphrase shorter than this is refused: the key derivation cannot make a guessable passphrase strong. */
export const MIN_KEY_LENGTH = 16;

const KEY_FILE_PREFIX = 'file:';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** Exit code of a command that could not open the store (as the server's start-up). */
const EXIT_STORE_ERROR = 3;

export function loadStorageConfig(env: Env): StorageConfig {
  return { dataKey: readKey(env, 'HMS_DATA_KEY') };
}

/** A key from the variable `name`: the passphrase itself, or `file:/path` to read it (one trailing newline dropped). */
export function readKey(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const key = raw.startsWith(KEY_FILE_PREFIX) ? readKeyFile(raw.slice(KEY_FILE_PREFIX.length), name) : raw;
  if (key.length < MIN_KEY_LENGTH) throw new ConfigError(`${name} must have at least ${MIN_KEY_LENGTH} characters`);
  return key;
}

export function readKeyFile(file: string, name: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new ConfigError(`${name}: cannot read the key file ${file}`);
  }
}

/** What the server needs of its configuration here (config.ts imports this module, so not Config itself). */
export interface ServedStorage {
  host: string;
  dataDir: string;
  mongodbUrl: string | undefined;
  storage: StorageConfig;
}

/** At server start: sets the key, and warns (without secrets) when unencrypted files are served beyond loopback. */
export function applyStorageConfig(
  config: ServedStorage,
  logger: { warn(msg: string, fields?: Record<string, string>): void },
): void {
  useDataKey(config.storage.dataKey);
  if (config.storage.dataKey || config.mongodbUrl || LOOPBACK_HOSTS.has(config.host)) return;
  logger.warn('the data files are not encrypted: set HMS_DATA_KEY (README: Encryption at rest)', {
    host: config.host,
    dataDir: config.dataDir,
  });
}

/**
 * Runs an `hms` command with the key of HMS_DATA_KEY set; a bad key setting, or a store the key does not open, is
 * reported in one line with the server's exit codes instead of a stack trace.
 */
export async function withDataKey(io: CliIo, run: () => Promise<number>): Promise<number> {
  try {
    useDataKey(loadStorageConfig(process.env).dataKey);
    return await run();
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`Configuration error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof StoreConfigError) {
      io.err(`Store error: ${error.message}\n`);
      return EXIT_STORE_ERROR;
    }
    throw error;
  }
}

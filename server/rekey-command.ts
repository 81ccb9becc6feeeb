// `hms rekey`: encrypts the embedded store's files, changes their key, or decrypts them, with the server stopped.
// The current key is HMS_DATA_KEY; the new one comes from --new-key-file or HMS_NEW_DATA_KEY, or --decrypt removes
// it; with neither, files still unencrypted are encrypted with HMS_DATA_KEY (the way to start encrypting).
import path from 'node:path';
import { DatabaseInUseError, isInUse } from '../resources/store/sqlite/open-database';
import { rekeyFile } from '../resources/store/sqlite/rekey';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';
import { existingDataFiles } from './data-files';
import { ConfigError } from './env';
import { MIN_KEY_LENGTH, readKey, readKeyFile } from './storage-config';

const USAGE = `Usage: hms rekey [--new-key-file FILE | --decrypt]   (the server must be stopped)
  current key: HMS_DATA_KEY (unset: the files are not encrypted)
  new key:     --new-key-file FILE, or HMS_NEW_DATA_KEY (a passphrase, or file:/path)
  neither:     encrypts the files not encrypted yet with HMS_DATA_KEY
  --decrypt:   removes the encryption`;

export async function rekeyCommand(args: string[], io: CliIo): Promise<number> {
  const target = newKey(args);
  if (target === 'usage') {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const current = config.storage.dataKey;
  const wanted = target === 'same' ? current : target.key;
  if (target === 'same' && current === undefined) {
    io.err(`hms rekey: no key given\n${USAGE}\n`);
    return 2;
  }
  const files = existingDataFiles(config.dataDir);
  for (const file of files) if (isInUse(file)) throw new DatabaseInUseError(file);
  for (const file of files) io.err(`${path.basename(file)}: ${rekeyFile(file, current, wanted)}\n`);
  if (wanted !== current) io.err(`done: ${wanted ? 'set HMS_DATA_KEY to the new key' : 'unset HMS_DATA_KEY'}\n`);
  return 0;
}

/** 'same': keep HMS_DATA_KEY; a key object: change to it (undefined: decrypt). */
function newKey(args: string[]): 'usage' | 'same' | { key: string | undefined } {
  const [flag, value, ...rest] = args;
  const fromEnv = readKey(process.env, 'HMS_NEW_DATA_KEY');
  if (rest.length > 0) return 'usage';
  if (flag === undefined) return fromEnv === undefined ? 'same' : { key: fromEnv };
  if (fromEnv !== undefined)
    throw new ConfigError('give the new key either in HMS_NEW_DATA_KEY or as a flag, not both');
  if (flag === '--decrypt' && value === undefined) return { key: undefined };
  if (flag !== '--new-key-file' || value === undefined) return 'usage';
  const key = readKeyFile(value, '--new-key-file');
  if (key.length < MIN_KEY_LENGTH) throw new ConfigError(`the new key must have at least ${MIN_KEY_LENGTH} characters`);
  return { key };
}

// `hms backup DIR` and `hms restore DIR`: the embedded store's files (hms.sqlite, auth.sqlite, hl7.sqlite) copied
// into a new directory while the server runs, each a consistent snapshot, encrypted with HMS_DATA_KEY when set;
// and put back with the server stopped, after the backup has been checked.
import { backupDataDir, restoreDataDir } from '../resources/store/sqlite/backup';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';
import { DATA_FILES } from './data-files';

const MONGO_HINT = 'the store is MongoDB (MONGODB_URL): back it up with mongodump/mongorestore (README)';

export async function backupCommand(args: string[], io: CliIo): Promise<number> {
  const target = onlyArgument(args);
  if (!target) {
    io.err('Usage: hms backup DIR   (DIR: a new or empty directory)\n');
    return 2;
  }
  const config = loadConfig();
  if (config.mongodbUrl) {
    io.err(`hms backup: ${MONGO_HINT}\n`);
    return 2;
  }
  const manifest = backupDataDir(config.dataDir, target, DATA_FILES, config.storage.dataKey);
  for (const file of manifest.files) io.err(`backed up ${file.name} (${file.bytes} bytes)\n`);
  io.err(`backup complete in ${target}${manifest.encrypted ? ' (encrypted with HMS_DATA_KEY)' : ''}\n`);
  return 0;
}

export async function restoreCommand(args: string[], io: CliIo): Promise<number> {
  const source = onlyArgument(args);
  if (!source) {
    io.err('Usage: hms restore DIR   (DIR: a backup made by hms backup; the server must be stopped)\n');
    return 2;
  }
  const config = loadConfig();
  if (config.mongodbUrl) {
    io.err(`hms restore: ${MONGO_HINT}\n`);
    return 2;
  }
  const restored = restoreDataDir(source, config.dataDir, DATA_FILES, config.storage.dataKey);
  io.err(`restored ${restored.join(', ')} into ${config.dataDir} (the files replaced end in .before-restore)\n`);
  return 0;
}

function onlyArgument(args: string[]): string | undefined {
  return args.length === 1 && !args[0].startsWith('-') ? args[0] : undefined;
}

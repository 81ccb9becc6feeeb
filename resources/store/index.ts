// Chooses the storage adapter from the configuration: the embedded SQLite file under DATA_DIR by default.
import path from 'node:path';
import type { ResourceStore } from './port';
import { SqliteStore } from './sqlite/sqlite-store';

export interface StoreSettings {
  dataDir: string;
  mongodbUrl?: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /** Worker threads that run searches; 0 or absent runs them on the event loop. */
  searchWorkers?: number;
  /** A search through the workers that takes longer is refused with 400 too-costly. */
  searchTimeoutMs?: number;
}

export class StoreConfigError extends Error {}

export const SQLITE_FILE_NAME = 'hms.sqlite';

export async function openStore(settings: StoreSettings): Promise<ResourceStore> {
  if (settings.mongodbUrl) {
    throw new StoreConfigError('MONGODB_URL is set, but this build has no MongoDB adapter yet; unset it to use SQLite');
  }
  return SqliteStore.openWithCheckpointer(path.join(settings.dataDir, SQLITE_FILE_NAME), {
    synchronous: settings.sqliteSynchronous,
    searchWorkers: settings.searchWorkers,
    searchTimeoutMs: settings.searchTimeoutMs,
  });
}

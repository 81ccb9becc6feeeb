// Chooses the storage adapter from the configuration: the embedded SQLite file under DATA_DIR by default,
// MongoDB when MONGODB_URL is set.
import path from 'node:path';
import type { ResourceStore } from './port';
import { connectMongo } from './mongo/driver-database';
import { ensureIndexes } from './mongo/indexes';
import { MongoStore } from './mongo/mongo-store';
import { GridFsBlobs } from './mongo/blobs';
import { SqliteStore } from './sqlite/sqlite-store';
import { StoreConfigError } from './config-error';

export { StoreConfigError };

export interface StoreSettings {
  dataDir: string;
  mongodbUrl?: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /** Worker threads that run searches; 0 or absent runs them on the event loop. */
  searchWorkers?: number;
  /** A search through the workers that takes longer is refused with 400 too-costly. */
  searchTimeoutMs?: number;
  /** How long MongoDB start-up waits for a reachable server before it fails. */
  mongodbServerSelectionMs?: number;
  /** Development only: accept a standalone MongoDB server, whose writes are not atomic across documents. */
  mongodbAllowStandalone?: boolean;
  /** SQLite: memory for current versions kept for reads by id; 0 keeps none (default DEFAULT_READ_CACHE_BYTES). */
  readCacheBytes?: number;
}

export const SQLITE_FILE_NAME = 'hms.sqlite';

export async function openStore(settings: StoreSettings): Promise<ResourceStore> {
  if (settings.mongodbUrl) {
    const database = await connectMongo(settings.mongodbUrl, {
      serverSelectionTimeoutMs: settings.mongodbServerSelectionMs,
      allowStandalone: settings.mongodbAllowStandalone,
      searchTimeoutMs: settings.searchTimeoutMs,
    });
    try {
      await ensureIndexes(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
    return new MongoStore(database, new GridFsBlobs(database.db));
  }
  return SqliteStore.openWithCheckpointer(path.join(settings.dataDir, SQLITE_FILE_NAME), {
    synchronous: settings.sqliteSynchronous,
    searchWorkers: settings.searchWorkers,
    searchTimeoutMs: settings.searchTimeoutMs,
    readCacheBytes: settings.readCacheBytes,
  });
}

// Opens the AuthRecords of the configured store: a SQLite file beside the embedded store, or a collection in
// the MongoDB database.
import path from 'node:path';
import type { ResourceStore } from '../../../resources/store/port';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { DriverDatabase } from '../../../resources/store/mongo/driver-database';
import { MongoAuthRecords, driverRecordCollection } from './mongo-records';
import type { AuthRecords } from './port';
import { SqliteAuthRecords } from './sqlite-records';

export const AUTH_FILE_NAME = 'auth.sqlite';

/** `store` absent: the embedded store's file under dataDir (a command that has no store open). */
export function openAuthRecords(store: ResourceStore | undefined, dataDir: string): AuthRecords {
  if (store instanceof MongoStore && store.database instanceof DriverDatabase) {
    return new MongoAuthRecords(driverRecordCollection(store.database.db));
  }
  return new SqliteAuthRecords(path.join(dataDir, AUTH_FILE_NAME));
}

// Opens the HL7 message store of the configured resource store: a SQLite file beside the embedded store, or
// collections in the MongoDB database (shared by stateless app nodes).
import path from 'node:path';
import type { ResourceStore } from '../../../resources/store/port';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { DriverDatabase } from '../../../resources/store/mongo/driver-database';
import { MongoMessageStore, driverMessageCollections } from './mongo-messages';
import type { MessageStore } from './port';
import { SqliteMessageStore } from './sqlite-messages';

export const HL7_FILE_NAME = 'hl7.sqlite';

export async function openMessageStore(store: ResourceStore | undefined, dataDir: string): Promise<MessageStore> {
  if (store instanceof MongoStore && store.database instanceof DriverDatabase) {
    return MongoMessageStore.open(driverMessageCollections(store.database.db));
  }
  return new SqliteMessageStore(path.join(dataDir, HL7_FILE_NAME));
}

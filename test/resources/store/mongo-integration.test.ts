// The store contract and the indexes against a real MongoDB, where MONGODB_URL names one (a replica set):
// each test gets a fresh database, dropped afterwards. Without MONGODB_URL the suite is reported as skipped,
// with a line in the log that says so.
import { MongoClient } from 'mongodb';
import { openStore } from '../../../resources/store';
import { connectMongo } from '../../../resources/store/mongo/driver-database';
import { INDEXES, ensureIndexes } from '../../../resources/store/mongo/indexes';
import { describeStoreContract } from './contract';

const url = process.env.MONGODB_URL;

/** The same connection string naming another database (the path), so tests never touch the real one. */
function withDatabase(connectionString: string, name: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/.exec(connectionString);
  if (!match) throw new Error('MONGODB_URL is not a mongodb:// or mongodb+srv:// URL');
  return `${match[1]}/${name}${match[2] ?? ''}`;
}

let databases = 0;
const uniqueName = () => `hms_test_${process.pid}_${Date.now().toString(36)}_${++databases}`;

if (url) {
  const admin = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  afterAll(() => admin.close());

  describeStoreContract('MongoDB', async () => {
    const name = uniqueName();
    const store = await openStore({ dataDir: '', mongodbUrl: withDatabase(url, name) });
    const cleanup = async () => {
      await store.close();
      await admin.db(name).dropDatabase();
    };
    return { store, cleanup };
  });

  test('ensureIndexes creates every index and runs again without error', async () => {
    const database = await connectMongo(withDatabase(url, uniqueName()));
    try {
      await ensureIndexes(database.db);
      await ensureIndexes(database.db);
      for (const collection of ['resources', 'versions']) {
        const names = (await database.db.collection(collection).listIndexes().toArray()).map((index) => index.name);
        const expected = INDEXES.filter((index) => index.collection === collection).map((index) => index.name);
        expect(names).toEqual(expect.arrayContaining(expected));
      }
    } finally {
      await database.db.dropDatabase();
      await database.close();
    }
  });
} else {
  // Written straight to stdout at load: Jest's console capture would wrap it in a stack trace.
  process.stdout.write('MongoDB integration suite: skipped (MONGODB_URL not set)\n');
  describe.skip('MongoDB integration (needs MONGODB_URL)', () => {
    test('store contract and indexes against a real MongoDB', () => undefined);
  });
}

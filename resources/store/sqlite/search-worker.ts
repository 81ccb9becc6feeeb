// Worker-thread side of the search pool: a read-only connection of its own on the store file and a reader
// over it. Errors go back as data, so a client's 400 stays a 400 on the other side.
import { parentPort, workerData } from 'node:worker_threads';
import type { SearchQuery } from '../../search/query';
import type { ThreadReply } from '../../thread-pool';
import { ParamIds } from './param-ids';
import { SqliteReader } from './reader';
import { errorData, type SearchWorkerData } from './search-pool';
import { openReadConnection } from './read-connection';

const { file, key } = workerData as SearchWorkerData;
const db = openReadConnection(file, key);
// The writer adds parameter ids in another thread, so every miss looks at the table again.
const reader = new SqliteReader(db, new ParamIds(db, 0));

parentPort?.on('message', (request: { id: number; query: SearchQuery }) => {
  const reply = (message: ThreadReply) => parentPort?.postMessage(message);
  reader.search(request.query).then(
    (result) => reply({ id: request.id, result }),
    (error: unknown) => reply({ id: request.id, error: errorData(error) }),
  );
});
parentPort?.postMessage({ ready: true });

// SearchParameter changes reach every preparation worker, and a worker that replaces a dead one catches up
// before it prepares anything. It runs the compiled worker (npm test builds before Jest).
import type { SearchParameter } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../../resources/definitions';
import { WorkerPreparer, workerScript } from '../../../resources/prepare/worker-pool';
import { nicknameSearchParameter, patient } from '../../support/app';

let pool: WorkerPreparer;

beforeAll(async () => {
  loadFhirDefinitions();
  pool = await WorkerPreparer.start(2, workerScript() as string);
});
afterAll(() => pool.close());

const NICKNAME = nicknameSearchParameter() as unknown as SearchParameter;

const nicknamed = patient({ name: [{ use: 'nickname', given: ['Bob'] }] }) as never;

/** Whether every worker (several requests in flight spread over the pool) indexes `nickname`. */
async function everyWorkerIndexesNickname(): Promise<boolean[]> {
  const results = await Promise.all(Array.from({ length: 8 }, () => pool.prepare(nicknamed)));
  return results.map((r) => r.index.some((e) => e.param === 'nickname'));
}

test('an added parameter is indexed by every worker, a removed one by none', async () => {
  expect(new Set(await everyWorkerIndexesNickname())).toEqual(new Set([false]));
  await pool.changeSearchParameters({ remove: [], add: [NICKNAME] });
  expect(new Set(await everyWorkerIndexesNickname())).toEqual(new Set([true]));
  await pool.changeSearchParameters({ remove: [NICKNAME.url], add: [] });
  expect(new Set(await everyWorkerIndexesNickname())).toEqual(new Set([false]));
});

test('a replacement worker gets the parameters added so far', async () => {
  await pool.changeSearchParameters({ remove: [], add: [NICKNAME] });
  const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
  await workers[0].worker.terminate();
  // A worker loads every FHIR definition on start: slow when the machine is busy with other suites.
  for (let i = 0; i < 500 && workers.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  expect(workers).toHaveLength(2);
  expect(new Set(await everyWorkerIndexesNickname())).toEqual(new Set([true]));
}, 60_000);

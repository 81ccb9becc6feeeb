// Several app nodes on one store: every job runs exactly once, whichever node claims it (the claim is an
// If-Match update of the job's Task; the node that loses the race gets a 412 and leaves the job alone). Runs
// on the MongoDB adapter (two stores over one database, as two nodes over one MongoDB) and on one SQLite file.
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import {
  countInput,
  countingHandler,
  freshDir,
  newLog,
  openNode,
  readTask,
  removeDir,
  waitForTask,
  waitUntil,
  type Node,
} from './jobs-harness';

let dir: string;
const open: Node[] = [];
beforeEach(() => {
  dir = freshDir();
});
afterEach(async () => {
  for (const node of open.splice(0)) await node.close();
  removeDir(dir);
});

async function twoNodes(makeStore: () => MongoStore | undefined): Promise<[Node, Node]> {
  const a = await openNode(dir, { concurrency: 3 }, makeStore());
  const b = await openNode(dir, { concurrency: 3 }, makeStore());
  open.push(a, b);
  return [a, b];
}

const stores: [string, () => () => MongoStore | undefined][] = [
  [
    'MongoDB adapter',
    () => {
      // One database and one blob bucket (GridFS on a server), as nodes over one MongoDB share them.
      const database = new MingoDatabase();
      const bucket = new MemoryBucket();
      return () => new MongoStore(database, bucket);
    },
  ],
  ['SQLite', () => () => undefined],
];

test.each(stores)('on the %s, two runners run each of 12 jobs exactly once', async (_, storeFactory) => {
  const [a, b] = await twoNodes(storeFactory());
  const log = newLog();
  // Jobs queued while no node runs the kind: both nodes then race for every one of them.
  const ids: string[] = [];
  for (let i = 0; i < 12; i++)
    ids.push((await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(2) })).id);
  a.jobs.register(countingHandler(log, { stepMs: 10 }));
  b.jobs.register(countingHandler(log, { stepMs: 10 }));

  const owners = new Set<string>();
  for (const id of ids) {
    const { job } = await waitForTask(a.repo, id, (t) => t.status === 'completed');
    expect(job.attempts).toBe(1);
    owners.add(log.starts.filter(([t]) => t === id).length === 1 ? 'once' : 'more');
  }
  expect(owners).toEqual(new Set(['once']));
  expect([...log.completions].sort()).toEqual([...ids].sort());
  expect(log.processed).toHaveLength(24);
  // The other node sees the same Tasks.
  const { job } = await waitForTask(b.repo, ids[0], (t) => t.status === 'completed');
  expect(job.status).toBe('completed');
});

test('on the MongoDB adapter, a job whose node hangs is taken over by the other node once its lease expires', async () => {
  const [a, b] = await twoNodes(stores[0][1]());
  const log = newLog();
  let resume!: () => void;
  const hung = new Promise<void>((resolve) => (resume = resolve));
  a.jobs.register({
    kind: 'count',
    run: async (context) => {
      await hung;
      await context.save({ next: 0 });
      log.completions.push('node a');
      return [];
    },
  });
  const { id } = await a.jobs.enqueue({ kind: 'count', label: 'Count', input: countInput(3) });
  // Node a hangs: its handler waits and its heartbeat writes go nowhere, so its lease runs out.
  const attempt = a.jobs['running'].get(id)?.attempt as object;
  const silenced = jest.spyOn(attempt as { write: () => Promise<void> }, 'write').mockResolvedValue(undefined);
  b.jobs.register(countingHandler(log, { stepMs: 1 }));

  const done = await waitForTask(b.repo, id, (t) => t.status === 'completed');
  expect(done.job.attempts).toBe(2);
  expect(done.job.owner).toBeUndefined();
  expect(log.completions).toEqual([id]);

  // Node a wakes up: its next write meets node b's versions (a 412), so it stops without touching the Task.
  silenced.mockRestore();
  resume();
  await waitUntil(() => a.jobs['running'].size === 0);
  expect(log.completions).toEqual([id]);
  expect((await readTask(a.repo, id)).task.status).toBe('completed');
});

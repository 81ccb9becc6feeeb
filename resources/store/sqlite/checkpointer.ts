// WAL checkpoints on a thread and connection of their own: copying WAL pages into the database file and
// its fsync never block the event loop. The writer's automatic checkpoints are turned off while it runs.
//
// Copying frames is not enough to bound the WAL: SQLite rewinds it to the start only when a write transaction
// begins after a checkpoint has copied every frame. Under steady writes the next group has always committed
// before a checkpoint ends, so the file grew without limit (1.7 GB in 40 s of creates). Once the WAL passes
// its limit and a checkpoint has caught up, this worker asks the store to hold new write groups (`pause`),
// copies the few frames committed since (`paused`), and lets writes go on (`resume`); the first write after
// that rewinds the WAL. The hold lasts one short checkpoint, not the whole copy: before asking, the worker
// runs catch-up rounds, each copying what came in during the last, until one copies only a few frames.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './open-database';

export interface CheckpointerData {
  file: string;
  /** The store's key (HMS_DATA_KEY): checkpoints copy encrypted pages, so the connection needs it. */
  key: string | undefined;
  intervalMs: number;
  /** Past this many bytes of WAL the writer is held briefly so that the WAL can be rewound. */
  walLimitBytes: number;
}

/** Messages from the checkpointer to the store. */
export type CheckpointerEvent = 'ready' | 'pause' | 'resume' | 'stopped';
/** Messages from the store to the checkpointer. */
export type CheckpointerCommand = 'paused' | 'stop';

interface CheckpointStatus {
  busy: number;
  log: number;
  checkpointed: number;
}

const { file, key, intervalMs, walLimitBytes } = workerData as CheckpointerData;
const db = openDatabase(file, { key });
const walLimitFrames = Math.max(1, Math.floor(walLimitBytes / (db.pragma('page_size', { simple: true }) as number)));
let waitingForPause = false;

/** A catch-up round that copied at most this many frames (1 MiB) leaves little for the hold to copy. */
const SMALL_CATCH_UP_FRAMES = 256;
/** Catch-up rounds before a hold is asked for anyway (each takes a few ms under steady writes). */
const MAX_CATCH_UP_ROUNDS = 6;

function post(event: CheckpointerEvent): void {
  parentPort?.postMessage(event);
}

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): CheckpointStatus | undefined {
  try {
    return (db.pragma(`wal_checkpoint(${mode})`) as CheckpointStatus[])[0];
  } catch {
    // A busy database: the next round catches up.
    return undefined;
  }
}

function round(): void {
  if (waitingForPause) return;
  let status = checkpoint('PASSIVE');
  // Behind a reader's snapshot a hold would not let the WAL rewind; wait for a round that copies everything.
  if (!caughtUp(status) || status.log < walLimitFrames) return;
  // Under the hold the checkpoint copies what was committed since the last round, and writes wait for it.
  for (let i = 0; i < MAX_CATCH_UP_ROUNDS; i++) {
    const next = checkpoint('PASSIVE');
    // Not caught up, or a write found this round complete and rewound the WAL by itself.
    if (!caughtUp(next) || next.log < status.log) return;
    const copied = next.checkpointed - status.checkpointed;
    status = next;
    if (copied <= SMALL_CATCH_UP_FRAMES) break;
  }
  waitingForPause = true;
  post('pause');
}

function caughtUp(status: CheckpointStatus | undefined): status is CheckpointStatus {
  return status !== undefined && status.checkpointed === status.log;
}

const timer = setInterval(round, intervalMs);

parentPort?.on('message', (command: CheckpointerCommand) => {
  if (command === 'paused') {
    checkpoint('PASSIVE');
    waitingForPause = false;
    post('resume');
    return;
  }
  clearInterval(timer);
  checkpoint('TRUNCATE');
  db.close();
  post('stopped');
});
post('ready');

// WAL checkpoints on a thread and connection of their own: copying WAL pages into the database file and
// its fsync never block the event loop. The writer's automatic checkpoints are turned off while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
}

const { file, intervalMs } = workerData as CheckpointerData;
const db = new Database(file);
db.pragma('busy_timeout = 5000');

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
  } catch {
    // A busy database: the next round catches up.
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), intervalMs);

parentPort?.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint('TRUNCATE');
  db.close();
  parentPort?.postMessage('stopped');
});
parentPort?.postMessage('ready');

// What a store may tell whoever watches it (the server's /metrics and /readyz): how long its commits, WAL
// syncs and checkpoint holds take, and how busy its search workers are. Optional, so a store without these
// (MongoDB) is watched only through the port.
import type { WorkerLoad } from '../thread-pool';

export interface StoreTimings {
  /** A group of transactions committed: seconds from BEGIN to COMMIT, and how many it held. */
  committed(seconds: number, transactions: number): void;
  /** The WAL was flushed to disk after a commit (synchronous FULL). */
  walSynced(seconds: number): void;
  /** Writes were held while a checkpoint rewound the WAL. */
  checkpointHeld(seconds: number): void;
}

export type { WorkerLoad };

export interface MonitoredStore {
  /** Set by the watcher; the store calls it when set. */
  timings?: StoreTimings;
  /** The search worker pool; undefined when searches run on the event loop. */
  searchWorkerLoad?(): WorkerLoad | undefined;
}

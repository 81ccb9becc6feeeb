// The store's side of the checkpointer worker (checkpointer.ts): starts it, holds writes when it asks so
// that the WAL can be rewound, and stops it with a final TRUNCATE checkpoint.
import { Worker } from 'node:worker_threads';
import { builtScript } from '../../built-script';
import type { CheckpointerCommand, CheckpointerData, CheckpointerEvent } from './checkpointer';

/** The store, as the checkpointer sees it. */
export interface CheckpointedStore {
  /** Starts no new write group until `release`; resolves once none is running. */
  hold(): Promise<void>;
  release(): void;
  /** The worker is gone: the writer has to checkpoint by itself again. */
  checkpointerStopped(): void;
}

/** A hold never outlasts this, even if the worker stops answering. */
const MAX_HOLD_MS = 1000;

export class CheckpointerThread {
  private holdTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    private readonly store: CheckpointedStore,
  ) {
    worker.on('message', (event: CheckpointerEvent) => {
      if (event === 'pause') this.hold();
      else if (event === 'resume') this.release();
    });
    // A worker that dies must neither take the server down nor leave the WAL without checkpoints.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      if (this.stopping) return;
      this.release();
      store.checkpointerStopped();
    });
  }

  /** Undefined when the compiled worker script is missing (then the writer checkpoints by itself). */
  static async start(data: CheckpointerData, store: CheckpointedStore): Promise<CheckpointerThread | undefined> {
    const script = builtScript(__dirname, 'resources/store/sqlite/checkpointer');
    if (!script) return undefined;
    const worker = new Worker(script, { workerData: data });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new CheckpointerThread(worker, store);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.release();
    await new Promise<void>((resolve) => {
      this.worker.on('message', (event: CheckpointerEvent) => event === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
      this.send('stop');
    });
    await this.worker.terminate();
  }

  private hold(): void {
    this.holdTimer = setTimeout(() => this.release(), MAX_HOLD_MS);
    // Answered even after a hold that timed out, so the worker never waits for an answer that does not come.
    void this.store.hold().then(() => this.send('paused'));
  }

  private release(): void {
    if (!this.holdTimer) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.store.release();
  }

  private send(command: CheckpointerCommand): void {
    this.worker.postMessage(command);
  }
}

// Runs searches on worker threads, each with its own read-only connection on the store file: better-sqlite3
// is synchronous, so a slow search there holds one worker, not the event loop. A search that outlives the
// timeout is refused with 400 too-costly, and its worker is replaced.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, tooCostly } from '../../errors';
import type { SearchQuery } from '../../search/query';
import { ThreadPool, WorkerPoolError, type WorkerLoad } from '../../thread-pool';
import { builtScript } from '../../built-script';
import type { Page, StoredVersion } from '../port';

export interface SearchWorkerData {
  file: string;
  /** The store's key (HMS_DATA_KEY): each worker opens the file with it. */
  key: string | undefined;
}

export interface SearchPoolOptions {
  size: number;
  /** The store's key (HMS_DATA_KEY); absent for a file that is not encrypted. */
  key?: string;
  timeoutMs: number;
}

/** A FhirError crosses the thread boundary as its parts (structured clone keeps no class); anything else as its stack. */
export type SearchErrorData =
  { status: number; outcome: OperationOutcome; headers: Record<string, string> } | { stack: string };

export class SearchPool {
  private constructor(private readonly pool: ThreadPool) {}

  /** Starts the workers on `file`; undefined when there is no compiled worker script (the caller searches inline). */
  static async start(file: string, options: SearchPoolOptions): Promise<SearchPool | undefined> {
    const script = builtScript(__dirname, 'resources/store/sqlite/search-worker');
    if (!script) return undefined;
    const message = `The search did not finish within ${options.timeoutMs} ms: narrow it with more selective parameters`;
    const pool = await ThreadPool.start(options.size, {
      script,
      workerData: { file, key: options.key } satisfies SearchWorkerData,
      name: 'search',
      toError: (data) => errorFrom(data as SearchErrorData),
      timeout: { ms: options.timeoutMs, error: () => tooCostly(message) },
    });
    return new SearchPool(pool);
  }

  search(query: SearchQuery): Promise<Page<StoredVersion>> {
    return this.pool.send({ query }) as Promise<Page<StoredVersion>>;
  }

  load(): WorkerLoad {
    return this.pool.load();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function errorData(error: unknown): SearchErrorData {
  if (error instanceof FhirError) return { status: error.status, outcome: error.outcome, headers: error.headers };
  return { stack: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

export function errorFrom(data: SearchErrorData): Error {
  if ('stack' in data) return new WorkerPoolError(data.stack);
  return new FhirError(data.status, data.outcome, data.headers);
}

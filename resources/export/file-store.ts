// Where export files live: the store's blob storage for Binary bytes (SQLite `binary_data` rows, GridFS on
// MongoDB), under keys no Binary can have (`bulk:` + Task id + part; a colon is not allowed in FHIR ids), so
// every app node reads the same files and no FHIR read can reach them: only the export file route serves them.
// Blobs are written whole (the store takes a Buffer), which is why files are split into bounded parts.
import type { ResourceStore } from '../store/port';
import { PermanentJobError } from '../jobs/handler';

const VERSION = 1;

const keyOf = (taskId: string, part: number) => `bulk:${taskId}:${part}`;

export class ExportFileStore {
  constructor(private readonly store: ResourceStore) {}

  /** Writes (or, for a retried part, rewrites) a file; durable when this resolves. */
  async write(taskId: string, part: number, bytes: Buffer): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!tx.writeBinaryData) throw new PermanentJobError('This store keeps no blobs: it cannot hold export files');
      await tx.writeBinaryData(keyOf(taskId, part), VERSION, bytes);
    });
  }

  async read(taskId: string, part: number): Promise<Buffer | undefined> {
    return this.store.readBinaryData?.(keyOf(taskId, part), VERSION);
  }

  /**
   * Empties a file. The store port has no blob delete: on SQLite the emptied row frees the space, on MongoDB an
   * empty GridFS file shadows the old one (whose chunks stay until a store-level purge).
   */
  async erase(taskId: string, part: number): Promise<void> {
    await this.write(taskId, part, Buffer.alloc(0));
  }
}

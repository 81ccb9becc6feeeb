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
   * Deletes files (the space is freed, GridFS chunks included); parts that were never written are no error. A
   * store without blob deletes has no blob writes either, so it holds no files to delete.
   */
  async remove(taskId: string, parts: number[]): Promise<void> {
    if (parts.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const part of parts) await tx.deleteBinaryData?.(keyOf(taskId, part), VERSION);
    });
  }
}

// Binary content on MongoDB: one GridFS file per Binary version, named `Binary/id/version` (binary-data.ts),
// in the `binary` bucket. GridFS cannot write inside a multi-document transaction, so the file is uploaded
// (majority-acknowledged) before the transaction that writes the version commits: a committed version always
// finds its file. A transaction that aborts or is retried leaves a file nothing refers to, and the retry
// uploads again; reads take the newest file of a name, which is the committed one. A delete removes every file
// of a name (each upload of it) with its chunks.
import { GridFSBucket, MongoRuntimeError, type Db } from 'mongodb';

/** Where the MongoDB store keeps Binary bytes; GridFS on a server, a map in tests. */
export interface BlobBucket {
  put(key: string, bytes: Buffer): Promise<void>;
  /** The newest content stored under `key`, undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes every content stored under `key`; nothing when there is none. */
  delete(key: string): Promise<void>;
}

export const BINARY_BUCKET = 'binary';

export class GridFsBlobs implements BlobBucket {
  private readonly bucket: GridFSBucket;

  constructor(db: Db) {
    this.bucket = new GridFSBucket(db, { bucketName: BINARY_BUCKET });
  }

  put(key: string, bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const upload = this.bucket.openUploadStream(key);
      upload.once('error', reject);
      upload.once('finish', () => resolve());
      upload.end(bytes);
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const [file] = await this.bucket.find({ filename: key }, { sort: { uploadDate: -1 }, limit: 1 }).toArray();
    if (!file) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of this.bucket.openDownloadStream(file._id)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async delete(key: string): Promise<void> {
    for (const file of await this.bucket.find({ filename: key }).toArray()) {
      try {
        await this.bucket.delete(file._id);
      } catch (error) {
        // Another node deleted the same file meanwhile (the driver has removed any chunks left before throwing).
        if (!(error instanceof MongoRuntimeError && /File not found/.test(error.message))) throw error;
      }
    }
  }
}

/** The bucket of a store opened without one: a Binary with content is refused rather than stored half. */
export const NO_BLOBS: BlobBucket = {
  put: () => Promise.reject(new Error('this MongoDB store has no bucket for Binary content')),
  get: async () => undefined,
  delete: async () => undefined,
};

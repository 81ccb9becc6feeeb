// GridFS as the MongoDB store relies on it, in memory: the newest file of a name wins. Stands in for the
// bucket when the store runs on mingo (GridFS itself is tested against fake-mongod in mongo-blobs.test.ts).
import type { BlobBucket } from '../../resources/store/mongo/blobs';

export class MemoryBucket implements BlobBucket {
  readonly files = new Map<string, Buffer>();
  async put(key: string, bytes: Buffer): Promise<void> {
    this.files.set(key, Buffer.from(bytes));
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.files.get(key);
  }
  async delete(key: string): Promise<void> {
    this.files.delete(key);
  }
}

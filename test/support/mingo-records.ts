// A RecordCollection in memory whose filters are evaluated by mingo, so the MongoDB AuthRecords adapter's own
// logic (insert-if-absent, expiry, single use) runs where no MongoDB server exists.
import { Query } from 'mingo';
import type { RecordCollection, RecordDocument } from '../../server/auth/records/mongo-records';

export class MingoRecordCollection implements RecordCollection {
  readonly docs = new Map<string, RecordDocument>();

  async insertOne(doc: RecordDocument): Promise<void> {
    if (this.docs.has(doc._id))
      throw Object.assign(new Error(`E11000 duplicate key error: _id ${doc._id}`), { code: 11000 });
    this.docs.set(doc._id, structuredClone(doc));
  }

  async findOne(filter: Record<string, unknown>): Promise<RecordDocument | undefined> {
    return structuredClone(this.matching(filter)[0]);
  }

  async find(filter: Record<string, unknown>): Promise<RecordDocument[]> {
    return this.matching(filter).map((d) => structuredClone(d));
  }

  async replaceOne(filter: Record<string, unknown>, doc: RecordDocument, upsert: boolean): Promise<boolean> {
    const [found] = this.matching(filter);
    if (!found && !upsert) return false;
    this.docs.set(found?._id ?? doc._id, structuredClone(doc));
    return true;
  }

  async updateOne(filter: Record<string, unknown>, set: Partial<RecordDocument>): Promise<boolean> {
    const [found] = this.matching(filter);
    if (!found) return false;
    this.docs.set(found._id, { ...found, ...structuredClone(set) });
    return true;
  }

  async deleteOne(filter: Record<string, unknown>): Promise<boolean> {
    const [found] = this.matching(filter);
    return found ? this.docs.delete(found._id) : false;
  }

  async deleteMany(filter: Record<string, unknown>): Promise<number> {
    const found = this.matching(filter);
    for (const doc of found) this.docs.delete(doc._id);
    return found.length;
  }

  private matching(filter: Record<string, unknown>): RecordDocument[] {
    return new Query(filter).find<RecordDocument>([...this.docs.values()]).all();
  }
}

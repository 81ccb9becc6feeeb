// The slice of MongoDB the adapter uses, as an interface: the official driver implements it for a server
// (driver-database.ts), and the test suite implements it with mingo, so the adapter's own logic (documents,
// query compilation, paging, transactions) runs and is checked where no MongoDB server exists.
import type { AuditDocument, AuditHeadDocument, GuardDocument, ResourceDocument, VersionDocument } from './documents';

export type Filter = Record<string, unknown>;
export type SortSpec = Record<string, 1 | -1>;
export type PipelineStage = Record<string, unknown>;

export interface FindOptions {
  sort?: SortSpec;
  limit?: number;
}

export interface DocumentCollection<T> {
  findOne(filter: Filter): Promise<T | undefined>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  /** Stages are $match, $addFields, $sort, $limit and $project only. */
  aggregate(pipeline: PipelineStage[]): Promise<T[]>;
  countDocuments(filter: Filter): Promise<number>;
  /** Fails (rejects) when a document with the same _id exists. */
  insertOne(doc: T): Promise<void>;
  /** Replaces the one document matching `filter`; false when none matched. */
  replaceOne(filter: Filter, doc: T): Promise<boolean>;
  /** Sets fields on the one document matching `filter`; false when none matched. */
  updateOne(filter: Filter, set: Partial<T>): Promise<boolean>;
  /** Sets fields on the document with this `_id`, creating it when there is none. */
  upsertOne(id: string, set: Partial<T>): Promise<void>;
}

export interface Collections {
  resources: DocumentCollection<ResourceDocument>;
  versions: DocumentCollection<VersionDocument>;
  guards: DocumentCollection<GuardDocument>;
  audit: DocumentCollection<AuditDocument>;
  auditHead: DocumentCollection<AuditHeadDocument>;
}

export interface DocumentDatabase {
  /** Committed data, outside any transaction. */
  readonly collections: Collections;
  /**
   * Runs `work` atomically: its collections see its own writes, and either all its writes commit (durably,
   * before the promise resolves) or none does. `work` may run again after a transient conflict, so it must
   * only read and write through the collections it is given.
   */
  transaction<T>(work: (collections: Collections) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

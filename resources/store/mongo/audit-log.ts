// The MongoDB audit log: records in `audit`, the chain head in `auditHead`, both written in the caller's
// transaction (documents.ts AuditHeadDocument says why racing appends cannot fork the chain).
import { chainHash, GENESIS_HASH } from '../../audit/chain';
import type { AuditQuery, AuditRecord, StoredAuditRecord } from '../../audit/record';
import { decodeAuditCursor, encodeAuditCursor } from '../audit-cursor';
import type { Page } from '../port';
import type { Collections, DocumentCollection, Filter } from './collections';
import type { AuditDocument } from './documents';

const HEAD = 'head';

/** Records per query while walking the whole log. */
const WALK_BATCH = 1000;

export async function appendAudit({ audit, auditHead }: Collections, records: AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  let head = (await auditHead.findOne({ _id: HEAD })) ?? { seq: 0, hash: GENESIS_HASH };
  for (const { id, ...record } of records) {
    const next = { seq: head.seq + 1, hash: chainHash(head.hash, record.json) };
    await audit.insertOne({ _id: id, ...record, seq: next.seq, prevHash: head.hash, hash: next.hash });
    head = next;
  }
  await auditHead.upsertOne(HEAD, { seq: head.seq, hash: head.hash });
}

export async function readAudit(
  audit: DocumentCollection<AuditDocument>,
  id: string,
): Promise<StoredAuditRecord | undefined> {
  const doc = await audit.findOne({ _id: id });
  return doc && storedAuditRecord(doc);
}

export async function searchAudit(
  audit: DocumentCollection<AuditDocument>,
  query: AuditQuery,
): Promise<Page<StoredAuditRecord>> {
  const filter: Filter = {};
  if (query.patient !== undefined) filter.patients = query.patient;
  if (query.agent !== undefined) filter.agent = query.agent;
  if (query.subtype) filter.subtype = { $in: query.subtype };
  if (query.outcome) filter.outcome = { $in: query.outcome };
  const recorded: Filter = {};
  if (query.since !== undefined) recorded.$gte = query.since;
  if (query.until !== undefined) recorded.$lte = query.until;
  if (Object.keys(recorded).length > 0) filter.recorded = recorded;
  if (query.cursor !== undefined) filter.seq = { $lt: decodeAuditCursor(query.cursor) };
  const docs = await audit.find(filter, { sort: { seq: -1 }, limit: query.count + 1 });
  const entries = docs.slice(0, query.count).map(storedAuditRecord);
  const page: Page<StoredAuditRecord> = { entries };
  if (docs.length > query.count) page.next = encodeAuditCursor(entries[entries.length - 1].seq);
  return page;
}

export async function* auditRecords(
  audit: DocumentCollection<AuditDocument>,
  after = 0,
): AsyncGenerator<StoredAuditRecord> {
  let last = after;
  for (;;) {
    const docs = await audit.find({ seq: { $gt: last } }, { sort: { seq: 1 }, limit: WALK_BATCH });
    for (const doc of docs) yield storedAuditRecord(doc);
    if (docs.length < WALK_BATCH) return;
    last = docs[docs.length - 1].seq;
  }
}

function storedAuditRecord({ _id, ...doc }: AuditDocument): StoredAuditRecord {
  return { id: _id, ...doc };
}

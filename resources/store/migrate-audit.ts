// The audit log's part of `hms migrate`: records copied in chain order, a batch per target transaction. The
// target chains them from its own head, so a target that started without audit records rebuilds the source's
// chain exactly (same JSON from the same genesis, same hashes): comparing the two heads verifies the copy.
import { GENESIS_HASH } from '../audit/chain';
import type { AuditRecord, StoredAuditRecord } from '../audit/record';
import type { ResourceStore } from './port';

export interface AuditSummary {
  records: number;
  /** Hash of the last record; the genesis hash for an empty log. */
  head: string;
}

export interface AuditMigration {
  copied: number;
  /** Records the target already held (from an earlier, interrupted run). */
  skipped: number;
  source: AuditSummary;
  target: AuditSummary;
  match: boolean;
}

export async function migrateAudit(
  source: ResourceStore,
  target: ResourceStore,
  batchSize: number,
): Promise<AuditMigration> {
  let copied = 0;
  let skipped = 0;
  for await (const batch of batches(source.auditRecords(), batchSize)) {
    const missing = await missingFrom(target, batch);
    if (missing.length > 0) await target.transaction((tx) => tx.appendAudit(missing.map(auditRecord)));
    copied += missing.length;
    skipped += batch.length - missing.length;
  }
  const [sourceSummary, targetSummary] = [await summarize(source), await summarize(target)];
  const match = sourceSummary.records === targetSummary.records && sourceSummary.head === targetSummary.head;
  return { copied, skipped, source: sourceSummary, target: targetSummary, match };
}

/**
 * Batches commit atomically and in chain order, so the target holds a prefix of the source's log: a batch whose
 * last record is there was copied whole, one whose first is missing was not copied at all. Only a batch that
 * straddles an earlier run's end (a different batch size) is checked record by record.
 */
async function missingFrom(target: ResourceStore, batch: StoredAuditRecord[]): Promise<StoredAuditRecord[]> {
  if (await target.readAudit(batch[batch.length - 1].id)) return [];
  if (!(await target.readAudit(batch[0].id))) return batch;
  const present = await Promise.all(batch.map((record) => target.readAudit(record.id)));
  return batch.filter((_, i) => !present[i]);
}

async function* batches(records: AsyncIterable<StoredAuditRecord>, size: number): AsyncGenerator<StoredAuditRecord[]> {
  let batch: StoredAuditRecord[] = [];
  for await (const record of records) {
    batch.push(record);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function auditRecord({ id, recorded, patients, agent, subtype, outcome, json }: StoredAuditRecord): AuditRecord {
  return { id, recorded, patients, agent, subtype, outcome, json };
}

async function summarize(store: ResourceStore): Promise<AuditSummary> {
  const summary: AuditSummary = { records: 0, head: GENESIS_HASH };
  for await (const record of store.auditRecords()) {
    summary.records++;
    summary.head = record.hash;
  }
  return summary;
}

// The audit log's SHA-256 hash chain: each record hashes the previous record's hash with its own JSON, so an
// edited, removed or reordered record breaks every link after it; verifyChain names the first broken one.
import { createHash } from 'node:crypto';
import type { StoredAuditRecord } from './record';

/** The prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export function chainHash(prevHash: string, json: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(json).digest('hex');
}

export interface ChainVerification {
  /** Records walked, the broken one included. */
  checked: number;
  broken?: { seq: number; id: string; reason: string };
}

/**
 * Walks records in seq order from the first. A removal shows at the record after it (a seq gap), unless it
 * removed the last records: only a copy of the head kept elsewhere can tell a truncated log from a short one.
 */
export async function verifyChain(records: AsyncIterable<StoredAuditRecord>): Promise<ChainVerification> {
  let checked = 0;
  let previous = { seq: 0, hash: GENESIS_HASH };
  for await (const record of records) {
    checked++;
    const reason = brokenLink(record, previous);
    if (reason) return { checked, broken: { seq: record.seq, id: record.id, reason } };
    previous = record;
  }
  return { checked };
}

function brokenLink(record: StoredAuditRecord, previous: { seq: number; hash: string }): string | undefined {
  if (record.seq !== previous.seq + 1) {
    return `seq gap: expected ${previous.seq + 1} (records removed or reordered)`;
  }
  if (record.prevHash !== previous.hash) {
    return "prevHash is not the previous record's hash (a record removed, reordered or rewritten)";
  }
  if (chainHash(record.prevHash, record.json) !== record.hash) return 'hash mismatch (the content was changed)';
  return undefined;
}

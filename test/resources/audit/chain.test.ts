// The hash chain: sha256 over the previous hash and the JSON, and verification of records in seq order.
import { createHash } from 'node:crypto';
import { chainHash, GENESIS_HASH, verifyChain } from '../../../resources/audit/chain';
import type { StoredAuditRecord } from '../../../resources/audit/record';

function chain(count: number): StoredAuditRecord[] {
  const records: StoredAuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const json = JSON.stringify({ resourceType: 'AuditEvent', id: `a${seq}` });
    const hash = chainHash(prevHash, json);
    records.push({
      seq,
      id: `a${seq}`,
      recorded: seq,
      patients: [],
      agent: 'x',
      subtype: 'read',
      outcome: '0',
      json,
      prevHash,
      hash,
    });
    prevHash = hash;
  }
  return records;
}

async function* each(records: StoredAuditRecord[]): AsyncGenerator<StoredAuditRecord> {
  yield* records;
}

test('the hash is hex sha256 of the previous hash, a newline and the JSON; genesis is 64 zeros', () => {
  expect(GENESIS_HASH).toBe('0'.repeat(64));
  expect(chainHash('ab', '{}')).toBe(createHash('sha256').update('ab\n{}').digest('hex'));
});

test('a whole chain verifies, and an empty one', async () => {
  expect(await verifyChain(each(chain(5)))).toEqual({ checked: 5 });
  expect(await verifyChain(each([]))).toEqual({ checked: 0 });
});

test.each([
  ['changed content', (r: StoredAuditRecord[]) => (r[2].json = r[2].json.replace('a3', 'a9')), 3, /hash mismatch/],
  ['a removed record', (r: StoredAuditRecord[]) => r.splice(1, 1), 3, /seq gap: expected 2/],
  ['a removed first record', (r: StoredAuditRecord[]) => r.shift(), 2, /seq gap: expected 1/],
  ['swapped records', (r: StoredAuditRecord[]) => ([r[1].seq, r[2].seq] = [r[2].seq, r[1].seq]), 3, /seq gap/],
  [
    'a removed record, renumbered',
    (r: StoredAuditRecord[]) => r.splice(1, 1).forEach(() => r.slice(1).forEach((x) => x.seq--)),
    2,
    /prevHash/,
  ],
] as const)('%s is found at the first broken link', async (_name, tamper, seq, reason) => {
  const records = chain(5);
  tamper(records);
  const { broken } = await verifyChain(each(records));
  expect(broken?.seq).toBe(seq);
  expect(broken?.reason).toMatch(reason);
});

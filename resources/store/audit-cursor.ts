// The paging cursor of audit searches, shared by the adapters: the seq a page ends at, opaque to clients; a
// tampered cursor is a 400.
import { badRequest } from '../errors';

export function encodeAuditCursor(seq: number): string {
  return Buffer.from(`a${seq}`).toString('base64url');
}

/** The seq the next page starts below. */
export function decodeAuditCursor(cursor: string): number {
  const match = /^a([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const seq = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(seq)) throw badRequest('Invalid paging cursor', '_cursor');
  return seq;
}

// Keyset paging cursors: the sort-key values and row id of the row a page starts after (or before), so a
// page stays correct while others write. Opaque to clients; a tampered cursor is a 400, never a SQL error.
import { badRequest } from '../../errors';

export type CursorKey = string | number;

export interface Cursor {
  direction: 'next' | 'previous';
  keys: CursorKey[];
  rid: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.direction === 'next' ? 'n' : 'p', cursor.keys, cursor.rid])).toString(
    'base64url',
  );
}

export function decodeCursor(text: string, keyCount: number): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid paging cursor', '_cursor');
  }
  if (!isCursorTuple(parsed, keyCount)) throw badRequest('Invalid paging cursor', '_cursor');
  const [direction, keys, rid] = parsed;
  return { direction: direction === 'n' ? 'next' : 'previous', keys, rid };
}

function isCursorTuple(value: unknown, keyCount: number): value is ['n' | 'p', CursorKey[], number] {
  if (!Array.isArray(value) || value.length !== 3) return false;
  const [direction, keys, rid] = value;
  return (
    (direction === 'n' || direction === 'p') &&
    Array.isArray(keys) &&
    keys.length === keyCount &&
    keys.every((k) => typeof k === 'string' || (typeof k === 'number' && !Number.isNaN(k))) &&
    Number.isSafeInteger(rid)
  );
}

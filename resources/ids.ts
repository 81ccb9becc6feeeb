// Resource ids: the R4 id pattern, and server-assigned ids for creates.
import { randomFillSync } from 'node:crypto';
import { badRequest } from './errors';

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function assertValidId(id: string, expression = 'id'): void {
  if (!isValidId(id)) {
    throw badRequest(`Invalid resource id: ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`, expression);
  }
}

// Random bytes are drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id.
const randomPool = Buffer.alloc(4096);
let poolOffset = randomPool.length;

function randomBlock(): Buffer {
  if (poolOffset === randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  poolOffset += 16;
  return Buffer.from(randomPool.subarray(poolOffset - 16, poolOffset));
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of milliseconds, then random bits. Ids made later sort later, so the
 * store's id index grows at its end instead of at random pages, and `_sort=_id` follows creation order.
 */
export function newId(now: number = Date.now()): string {
  const bytes = randomBlock();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Parses a version id from a URL or ETag; versions are positive integers here. */
export function parseVersionId(text: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : undefined;
}

// The paging cursor of an $everything: where the walk stands (anchor, segment, the store's own cursor inside
// the segment) and which supporting resources earlier pages returned, so that none is returned twice. Opaque
// to clients, bound to the query it was issued for; a tampered or foreign cursor is a 400.
import { createHash } from 'node:crypto';
import { badRequest } from '../errors';

export interface WalkPosition {
  /** The Patient or Encounter being walked. */
  anchorId: string;
  /** Type-level walks: the store cursor of the Patient search after this anchor (absent: it was the last). */
  anchorNext?: string;
  /** Index of the segment (plan.ts) the page starts in. */
  segment: number;
  /** The store's cursor inside that segment; absent to start the segment. */
  store?: string;
}

/**
 * Supporting resources returned so far, as short hashes. Past MAX_SEEN the set stops growing (the cursor
 * would outgrow a URL): later pages may then repeat a supporting resource, never leave one out.
 */
export const MAX_SEEN = 512;
const HASH_CHARS = 8;

export class SeenSet {
  private readonly hashes: Set<string>;

  constructor(hashes: Iterable<string> = []) {
    this.hashes = new Set(hashes);
  }

  has(key: string): boolean {
    return this.hashes.has(shortHash(key));
  }

  add(key: string): void {
    if (this.hashes.size < MAX_SEEN) this.hashes.add(shortHash(key));
  }

  serialize(): string {
    return [...this.hashes].join('');
  }

  static parse(text: string): SeenSet {
    if (text.length % HASH_CHARS !== 0 || !/^[A-Za-z0-9_-]*$/.test(text)) throw invalidCursor();
    const hashes: string[] = [];
    for (let i = 0; i < text.length; i += HASH_CHARS) hashes.push(text.slice(i, i + HASH_CHARS));
    return new SeenSet(hashes);
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, HASH_CHARS);
}

/**
 * What the cursor is valid for: the operation's path, the client's parameters and the walk's plan (which
 * depends on the caller's grants), so a cursor never continues another query.
 */
export function queryFingerprint(path: string, pairs: [string, string][], plan: unknown = []): string {
  return shortHash(JSON.stringify([path, pairs, plan]));
}

export interface EverythingCursor {
  position: WalkPosition;
  seen: SeenSet;
}

interface CursorJson {
  f: string;
  a: string;
  n?: string;
  s: number;
  c?: string;
  h: string;
}

export function encodeEverythingCursor(cursor: EverythingCursor, fingerprint: string): string {
  const { anchorId, anchorNext, segment, store } = cursor.position;
  const json: CursorJson = { f: fingerprint, a: anchorId, s: segment, h: cursor.seen.serialize() };
  if (anchorNext !== undefined) json.n = anchorNext;
  if (store !== undefined) json.c = store;
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

export function decodeEverythingCursor(text: string, fingerprint: string): EverythingCursor {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isCursorJson(json)) throw invalidCursor();
  if (json.f !== fingerprint) {
    throw badRequest('This _cursor belongs to another $everything query: page with the links as given', '_cursor');
  }
  return {
    position: { anchorId: json.a, anchorNext: json.n, segment: json.s, store: json.c },
    seen: SeenSet.parse(json.h),
  };
}

function isCursorJson(value: unknown): value is CursorJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const optionalString = (x: unknown) => x === undefined || typeof x === 'string';
  return (
    typeof v.f === 'string' &&
    typeof v.a === 'string' &&
    typeof v.h === 'string' &&
    Number.isSafeInteger(v.s) &&
    (v.s as number) >= 0 &&
    optionalString(v.n) &&
    optionalString(v.c)
  );
}

function invalidCursor() {
  return badRequest('Invalid $everything paging cursor', '_cursor');
}

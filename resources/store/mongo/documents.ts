// The MongoDB document model: what the adapter stores for a version write, derived from the port's
// VersionWrite only. Field names are ours; values from clients never become field names except parameter
// codes in `sort`, which sortKeyField escapes.
import type { IndexEntry } from '../../search/index-entry';
import { CONTAINS_MAX } from '../../search/parse-values';
import type { StoredVersion, VersionWrite, WriteMethod } from '../port';

/** Collection names. */
export const RESOURCES = 'resources';
export const VERSIONS = 'versions';
export const GUARDS = 'guards';
export const AUDIT = 'audit';
export const AUDIT_HEAD = 'auditHead';

/** A string entry with every suffix of its value (each cut to CONTAINS_MAX): `:contains` is a prefix match. */
export type StringDocEntry = Extract<IndexEntry, { type: 'string' }> & { suffixes: string[] };
/** A reference entry with `Type/id` in one field, so a chain is one `$in` over the target keys. */
export type ReferenceDocEntry = Extract<IndexEntry, { type: 'reference' }> & { target: string | null };
export type DocEntry = Exclude<IndexEntry, { type: 'string' | 'reference' }> | StringDocEntry | ReferenceDocEntry;

/** The components of one repetition of a composite's root: one element, so `$elemMatch` keeps them together. */
export interface CompositeGroup {
  /** The composite parameter's code (component entries are `param$i`). */
  param: string;
  group: number;
  parts: DocEntry[];
}

/** Per parameter: the lowest value (ascending sorts) and the highest (descending), as SQL's MIN and MAX. */
export interface SortKey {
  low: string | number;
  high: string | number;
}

/** `resources`: one document per resource, its current version (a deletion is a version without json). */
export interface ResourceDocument {
  /** `Type/id`. */
  _id: string;
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
  deleted: boolean;
  method: WriteMethod;
  json?: string;
  /** Creation order, fixed by version 1: the last sort key, so pages and ties are stable. */
  order: string;
  /** Index entries of the current version; empty when deleted. Composite components are in `composites`. */
  index: DocEntry[];
  composites: CompositeGroup[];
  /** sortKeyField(param) -> the parameter's sort key, for parameters with entries. */
  sort: Record<string, SortKey>;
}

/** `versions`: every version, the current one included. */
export interface VersionDocument {
  /** `Type/id/version`. */
  _id: string;
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
  method: WriteMethod;
  json?: string;
  /** Write order across the store: system and type history follow it. */
  seq: string;
  /** lastUpdated of the next version, once there is one: `_at` asks which version was current when. */
  replacedAt?: number;
}

/**
 * `guards`: one document per search criteria a transaction has evaluated (a conditional create, update,
 * patch or delete, a conditional reference). MongoDB transactions run on a snapshot, so two transactions that
 * find no match for the same criteria would both create one; each also writes the criteria's guard, so the
 * second one conflicts, is retried, and then finds the first one's resource.
 */
export interface GuardDocument {
  /** sha256 of the criteria (types and conditions). */
  _id: string;
  /** When a transaction last evaluated it (epoch ms). */
  at: number;
}

/** `audit`: the audit log, one document per AuditEvent (`_id` is its id), in chain order by `seq`. */
export interface AuditDocument {
  _id: string;
  seq: number;
  recorded: number;
  patients: string[];
  agent: string;
  subtype: string;
  outcome: string;
  prevHash: string;
  hash: string;
  json: string;
}

/**
 * `auditHead`: one document, the chain's last seq and hash. Every append reads and rewrites it in its
 * transaction, so two racing appends conflict and MongoDB retries one, which then chains after the other.
 */
export interface AuditHeadDocument {
  _id: string;
  seq: number;
  hash: string;
}

/** `Type/id` of a resource document. */
export const resourceKey = (type: string, id: string): string => `${type}/${id}`;
export const versionKey = (type: string, id: string, version: number): string => `${type}/${id}/${version}`;

/**
 * The field under `sort` for a parameter code. Codes are data (SearchParameters created at run time), so any
 * character outside [A-Za-z0-9_-] is written as `~` and its code point in hex: no `$`, `.` or empty name.
 */
export function sortKeyField(param: string): string {
  return `_${param.replace(/[^A-Za-z0-9_-]/g, (c) => `~${c.codePointAt(0)!.toString(16)}~`)}`;
}

/**
 * A sortable, unique, increasing key from a time and a counter: `order` and `seq` compare as strings, and
 * within one node they follow the order of the writes.
 */
export class OrderKeys {
  private counter = 0;
  private latest = 0;
  private readonly node: string;

  constructor(node = Math.floor(Math.random() * 0xffffff)) {
    this.node = node.toString(16).padStart(6, '0');
  }

  /** Never behind the previous key, even when the time given is (a clock step back, a copied history). */
  next(epochMs: number): string {
    this.latest = Math.max(this.latest, epochMs, 0);
    this.counter = (this.counter + 1) % 0x100000000;
    return `${orderKeyTime(this.latest)}${this.counter.toString(16).padStart(8, '0')}${this.node}`;
  }
}

/** The time part of an order key: alone, it sorts before every key of that time and after every earlier one. */
export function orderKeyTime(epochMs: number): string {
  return Math.max(0, epochMs).toString(16).padStart(12, '0');
}

/** Every suffix of a normalized string value, each cut to CONTAINS_MAX characters. */
export function suffixesOf(value: string): string[] {
  const chars = [...value];
  return chars.map((_, i) => chars.slice(i, i + CONTAINS_MAX).join(''));
}

function docEntry(entry: IndexEntry): DocEntry {
  if (entry.type === 'string') return { ...entry, suffixes: suffixesOf(entry.value) };
  if (entry.type === 'reference') {
    const target = entry.targetType && entry.targetId ? resourceKey(entry.targetType, entry.targetId) : null;
    return { ...entry, target };
  }
  return entry;
}

/** What an entry sorts by (as search-sql.ts SORT_COLUMN): a text, or the range ends; none for a null. */
function sortValues(entry: IndexEntry): SortKey | undefined {
  const text = (value: string | null) => (value === null ? undefined : { low: value, high: value });
  switch (entry.type) {
    case 'string':
    case 'uri':
      return text(entry.value);
    case 'token':
      return text(entry.code);
    case 'reference':
      return text(entry.targetId);
    default:
      return { low: entry.low, high: entry.high };
  }
}

/**
 * Orders sort values as MongoDB and SQLite do: numbers by value, text by code point (UTF-8 bytes). JavaScript's
 * `<` compares UTF-16 units, which puts U+E000-U+FFFF after supplementary characters.
 */
function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' || typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Splits a write's entries into plain entries, composite groups and per-parameter sort keys. */
export function indexFields(entries: IndexEntry[]): Pick<ResourceDocument, 'index' | 'composites' | 'sort'> {
  const index: DocEntry[] = [];
  const groups = new Map<string, CompositeGroup>();
  const sort: Record<string, SortKey> = {};
  for (const entry of entries) {
    const split = entry.param.indexOf('$');
    if (split > 0 && entry.group !== undefined) {
      const param = entry.param.slice(0, split);
      const key = `${param}\u0000${entry.group}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { param, group: entry.group, parts: [] }));
      group.parts.push(docEntry(entry));
      continue;
    }
    index.push(docEntry(entry));
    const values = sortValues(entry);
    if (!values) continue;
    const field = sortKeyField(entry.param);
    const known = sort[field];
    sort[field] = known
      ? {
          low: compareKeys(values.low, known.low) < 0 ? values.low : known.low,
          high: compareKeys(values.high, known.high) > 0 ? values.high : known.high,
        }
      : values;
  }
  return { index, composites: [...groups.values()], sort };
}

/** The `resources` document of a write; `order` is the existing one for a later version. */
export function resourceDocument(write: VersionWrite, order: string): ResourceDocument {
  const doc: ResourceDocument = {
    _id: resourceKey(write.resourceType, write.id),
    type: write.resourceType,
    id: write.id,
    version: write.versionId,
    lastUpdated: write.lastUpdated,
    deleted: write.deleted,
    method: write.method,
    order,
    ...indexFields(write.deleted ? [] : write.index),
  };
  if (write.json !== undefined) doc.json = write.json;
  return doc;
}

export function versionDocument(write: VersionWrite, seq: string): VersionDocument {
  const doc: VersionDocument = {
    _id: versionKey(write.resourceType, write.id, write.versionId),
    type: write.resourceType,
    id: write.id,
    version: write.versionId,
    lastUpdated: write.lastUpdated,
    method: write.method,
    seq,
  };
  if (write.json !== undefined) doc.json = write.json;
  return doc;
}

export function storedVersion(doc: ResourceDocument | VersionDocument): StoredVersion {
  return {
    resourceType: doc.type,
    id: doc.id,
    versionId: doc.version,
    lastUpdated: doc.lastUpdated,
    deleted: doc.json === undefined,
    method: doc.method,
    json: doc.json,
  };
}

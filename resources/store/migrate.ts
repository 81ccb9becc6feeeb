// Copies every version of every resource, then the audit log, from one store to another (`hms migrate`) through
// the port only, so either side may be SQLite or MongoDB; a re-run resumes an interrupted copy, and the result
// is verified per resource type by counts and a checksum computed the same way on both sides.
import { createHash } from 'node:crypto';
import type { IndexEntry } from '../search/index-entry';
import { migrateAudit, type AuditMigration } from './migrate-audit';
import type { ResourceStore, StoreTransaction, StoredVersion, VersionWrite } from './port';

export interface MigrationProgress {
  phase: 'copy' | 'verify';
  /** Versions read so far in this phase (verify reads the source, then the target). */
  walked: number;
  copied: number;
  /** Versions the target already held (from an earlier, interrupted run). */
  skipped: number;
}

export interface MigrationOptions {
  /** The search-index entries of a version as the target's server will extract them. */
  entriesFor: (stored: StoredVersion) => IndexEntry[];
  /** Versions per target transaction. */
  batchSize?: number;
  onProgress?: (progress: MigrationProgress) => void;
}

export interface TypeSummary {
  versions: number;
  /** Resources whose last version is not a deletion. */
  current: number;
  /** sha256 (hex) over every version of the type in (id, versionId) order; see `summarize`. */
  checksum: string;
}

export interface TypeVerification {
  resourceType: string;
  source: TypeSummary;
  target: TypeSummary;
  match: boolean;
}

export interface MigrationReport {
  copied: number;
  skipped: number;
  /** Every type found in the source or the target, by name. */
  types: TypeVerification[];
  audit: AuditMigration;
  /** Every type and the audit log match. */
  match: boolean;
}

/** The target holds a version under the same type, id and versionId with other content. */
export class MigrationConflictError extends Error {}

export const DEFAULT_MIGRATION_BATCH = 500;

export async function migrateStore(
  source: ResourceStore,
  target: ResourceStore,
  options: MigrationOptions,
): Promise<MigrationReport> {
  const batchSize = options.batchSize ?? DEFAULT_MIGRATION_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`invalid batch size ${batchSize}`);
  const progress: MigrationProgress = { phase: 'copy', walked: 0, copied: 0, skipped: 0 };
  for await (const batch of versionBatches(source, batchSize)) {
    const copied = await copyBatch(source, target, batch, options.entriesFor);
    progress.walked += batch.length;
    progress.copied += copied;
    progress.skipped += batch.length - copied;
    options.onProgress?.({ ...progress });
  }
  const verifying: MigrationProgress = { ...progress, phase: 'verify', walked: 0 };
  const onPage = (count: number) => {
    verifying.walked += count;
    options.onProgress?.({ ...verifying });
  };
  const types = compareSummaries(
    await summarize(source, batchSize, onPage),
    await summarize(target, batchSize, onPage),
  );
  const audit = await migrateAudit(source, target, batchSize);
  const match = types.every((t) => t.match) && audit.match;
  return { copied: progress.copied, skipped: progress.skipped, types, audit, match };
}

async function* versionBatches(store: ResourceStore, count: number): AsyncGenerator<StoredVersion[]> {
  let after: string | undefined;
  do {
    const page = await store.versions({ after, count });
    if (page.entries.length > 0) yield page.entries;
    after = page.next;
  } while (after);
}

/**
 * Writes one source batch in one target transaction and returns how many versions were new. Batches commit
 * atomically and in source order, so the target holds a prefix of the source's walk: when the batch's last
 * version is already there, so is the whole batch, and a resumed run skips the copied part with one read each.
 */
async function copyBatch(
  source: ResourceStore,
  target: ResourceStore,
  batch: StoredVersion[],
  entriesFor: (stored: StoredVersion) => IndexEntry[],
): Promise<number> {
  const last = batch[batch.length - 1];
  const present = await target.readVersion(last.resourceType, last.id, last.versionId);
  if (present && sameVersion(present, last)) return 0;
  // Extraction is CPU work: done before the transaction, so the target's write lock is held only for writes.
  const superseded = supersededInBatch(batch);
  const writes: VersionWrite[] = batch.map((stored, i) => ({
    ...stored,
    index: stored.deleted || superseded.has(i) ? [] : entriesFor(stored),
  }));
  // A Binary's bytes live beside its JSON (binary-data.ts): read from the source before the target's lock.
  const bytes = await Promise.all(batch.map((stored) => binaryBytes(source, stored)));
  return target.transaction(async (tx) => {
    let copied = 0;
    for (const [i, write] of writes.entries()) {
      if (!(await copyVersion(tx, write))) continue;
      copied++;
      const data = bytes[i];
      if (data) await writeBinaryBytes(tx, write, data);
    }
    return copied;
  });
}

/**
 * Positions of versions followed by a later version of the same resource in the batch: that write replaces
 * their index entries within the same transaction, so extracting theirs would be wasted work.
 */
function supersededInBatch(batch: StoredVersion[]): Set<number> {
  const lastPosition = new Map<string, number>();
  batch.forEach((stored, i) => lastPosition.set(`${stored.resourceType}/${stored.id}`, i));
  const superseded = new Set<number>();
  batch.forEach((stored, i) => {
    if (lastPosition.get(`${stored.resourceType}/${stored.id}`) !== i) superseded.add(i);
  });
  return superseded;
}

function binaryBytes(source: ResourceStore, stored: StoredVersion): Promise<Buffer | undefined> {
  if (stored.resourceType !== 'Binary' || stored.deleted || !source.readBinaryData) return Promise.resolve(undefined);
  return source.readBinaryData(stored.id, stored.versionId);
}

async function writeBinaryBytes(tx: StoreTransaction, write: VersionWrite, data: Buffer): Promise<void> {
  if (!tx.writeBinaryData) {
    throw new MigrationConflictError(`Binary/${write.id}: the target store cannot keep Binary content`);
  }
  await tx.writeBinaryData(write.id, write.versionId, data);
}

/** Writes the version unless the target has it; one it has must be the same, or the target is not our copy. */
async function copyVersion(tx: StoreTransaction, write: VersionWrite): Promise<boolean> {
  const current = await tx.readCurrent(write.resourceType, write.id);
  if (!current || current.versionId < write.versionId) {
    await tx.writeVersion(write);
    return true;
  }
  const present =
    current.versionId === write.versionId
      ? current
      : await tx.readVersion(write.resourceType, write.id, write.versionId);
  if (present && sameVersion(present, write)) return false;
  throw new MigrationConflictError(
    `${write.resourceType}/${write.id} version ${write.versionId} is in the target with other content: ` +
      'the target is not a copy of this source',
  );
}

function sameVersion(a: StoredVersion, b: StoredVersion): boolean {
  return a.json === b.json && a.deleted === b.deleted && a.lastUpdated === b.lastUpdated && a.method === b.method;
}

interface ResourceDigest {
  versions: number;
  deleted: boolean;
  /** Hash chain over the resource's versions so far (base64), so memory grows per resource, not per version. */
  chain: string;
}

/**
 * Per type: versions, current resources and the checksum. A walk comes in write order, which within one
 * resource is versionId order; each resource's versions are chained as `type|id|versionId|lastUpdated|
 * method|sha256(json or '')` lines, and the type's checksum hashes the resources' chains sorted by id, so it
 * does not depend on how a store interleaves the writes of different resources.
 */
async function summarize(
  store: ResourceStore,
  batchSize: number,
  onPage: (count: number) => void,
): Promise<Map<string, TypeSummary>> {
  const byType = new Map<string, Map<string, ResourceDigest>>();
  for await (const batch of versionBatches(store, batchSize)) {
    for (const stored of batch) {
      let resources = byType.get(stored.resourceType);
      if (!resources) byType.set(stored.resourceType, (resources = new Map()));
      const previous = resources.get(stored.id);
      resources.set(stored.id, {
        versions: (previous?.versions ?? 0) + 1,
        deleted: stored.deleted,
        chain: sha256(`${previous?.chain ?? ''}\n${versionLine(stored)}`, 'base64'),
      });
    }
    onPage(batch.length);
  }
  return new Map([...byType].map(([type, resources]) => [type, typeSummary(resources)]));
}

function versionLine(stored: StoredVersion): string {
  const { resourceType, id, versionId, lastUpdated, method, json } = stored;
  return `${resourceType}|${id}|${versionId}|${lastUpdated}|${method}|${sha256(json ?? '', 'hex')}`;
}

function typeSummary(resources: Map<string, ResourceDigest>): TypeSummary {
  const hash = createHash('sha256');
  let versions = 0;
  let current = 0;
  for (const id of [...resources.keys()].sort()) {
    const digest = resources.get(id) as ResourceDigest;
    versions += digest.versions;
    if (!digest.deleted) current++;
    hash.update(`${id}|${digest.chain}\n`);
  }
  return { versions, current, checksum: hash.digest('hex') };
}

const EMPTY_TYPE: TypeSummary = typeSummary(new Map());

function compareSummaries(source: Map<string, TypeSummary>, target: Map<string, TypeSummary>): TypeVerification[] {
  const types = [...new Set([...source.keys(), ...target.keys()])].sort();
  return types.map((resourceType) => {
    const s = source.get(resourceType) ?? EMPTY_TYPE;
    const t = target.get(resourceType) ?? EMPTY_TYPE;
    const match = s.versions === t.versions && s.current === t.current && s.checksum === t.checksum;
    return { resourceType, source: s, target: t, match };
  });
}

function sha256(text: string, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(text).digest(encoding);
}

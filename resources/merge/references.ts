// Every resource that points at a patient, found through the reference search parameters that can point at a
// Patient, snapshotted (ids and versions) before anything is rewritten, so that rewriting never shifts the
// pages still to be read; and the rewrite of those references to another patient.
import type { Resource } from '@medplum/fhirtypes';
import { unprocessable } from '../errors';
import type { Repository } from '../repository';
import { MAX_COUNT } from '../search/parse';
import type { SearchParameterRegistry } from '../search/registry';
import { RESOURCE_TYPES } from '../search/resource-types';
import type { StoredVersion } from '../store/port';

/** Records of what happened keep naming the patient they were about: the audit trail and provenance. */
const HISTORICAL_TYPES = new Set(['AuditEvent', 'Provenance']);

export interface ReferenceParam {
  type: string;
  param: string;
}

/** The reference parameters (of every type but the historical ones) whose targets include Patient. */
export function patientReferenceParams(registry: SearchParameterRegistry): ReferenceParam[] {
  return RESOURCE_TYPES.filter((type) => !HISTORICAL_TYPES.has(type)).flatMap((type) =>
    registry
      .forResourceType(type)
      .filter((d) => d.type === 'reference' && !d.unionOf && (d.targets.length === 0 || d.targets.includes('Patient')))
      .map((d) => ({ type, param: d.code })),
  );
}

/**
 * The current version of every resource referencing Patient/<id>, keyed `Type/id`; a 422 as soon as there
 * are more than `limit` (one transaction must stay bounded).
 */
export async function snapshotReferencing(
  repo: Repository,
  patientId: string,
  params: ReferenceParam[],
  limit: number,
): Promise<Map<string, StoredVersion>> {
  const found = new Map<string, StoredVersion>();
  const pageSize = String(Math.min(MAX_COUNT, limit + 1));
  for (const { type, param } of params) {
    let cursor: string | undefined;
    do {
      const pairs: [string, string][] = [
        [param, `Patient/${patientId}`],
        ['_count', pageSize],
        ['_total', 'none'],
        ...(cursor ? [['_cursor', cursor] as [string, string]] : []),
      ];
      const { page } = await repo.search([type], pairs, { internal: true });
      for (const stored of page.entries) found.set(`${stored.resourceType}/${stored.id}`, stored);
      if (found.size > limit) {
        throw unprocessable(
          `More than ${limit} resources reference Patient/${patientId}; a merge this large cannot run in one transaction`,
        );
      }
      cursor = page.next;
    } while (cursor);
  }
  return found;
}

/**
 * The resource with every unversioned reference to Patient/<from> (relative, or absolute on this server)
 * pointing at Patient/<to>, and how many were changed. Versioned references name a past version: kept.
 */
export function repointReferences<T extends Resource>(
  resource: T,
  from: string,
  to: string,
  baseUrl: string,
): { resource: T; changed: number } {
  const rewrites = new Map([
    [`Patient/${from}`, `Patient/${to}`],
    [`${baseUrl}/Patient/${from}`, `${baseUrl}/Patient/${to}`],
  ]);
  let changed = 0;
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (typeof value !== 'object' || value === null) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const rewritten = key === 'reference' && typeof inner === 'string' ? rewrites.get(inner) : undefined;
      if (rewritten) changed++;
      copy[key] = rewritten ?? visit(inner);
    }
    return copy;
  };
  return { resource: visit(resource) as T, changed };
}

// The one reference hop of an $everything: the shared resources a page's matches refer to (practitioners,
// organizations, locations, medications, devices), each returned once across all pages. A resource in some
// patient's compartment is only returned when that patient is the record's own, so no hop reaches another
// patient's data (HAPI #4691: other patients pulled in through a shared Composition or Provenance).
import { requirePermission } from '../access-policy';
import { patientsOf } from '../audit/trail';
import { FhirError } from '../errors';
import type { Repository } from '../repository';
import { MAX_OR_VALUES } from '../search/parse';
import type { StoredVersion } from '../store/port';
import type { Resource } from '@medplum/fhirtypes';
import { extractParameterEntries } from '../search/extract';
import type { ReferenceEntry } from '../search/index-entry';
import type { SeenSet } from './cursor';

export interface HopContext {
  repo: Repository;
  /** The supporting types a hop may reach (already narrowed by `_type`). */
  types: ReadonlySet<string>;
  /** Patients whose compartment a supporting resource may be in (none for Patient walks: the walk has them). */
  allowedPatients: ReadonlySet<string>;
  /** This server's base URL: absolute references on it are local. */
  baseUrl: string;
}

const LOCAL_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** The supporting resources the matches refer to that no earlier page returned; they are marked seen. */
export async function supportingResources(
  ctx: HopContext,
  matches: StoredVersion[],
  seen: SeenSet,
): Promise<StoredVersion[]> {
  const onPage = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
  const wanted = new Map<string, Set<string>>();
  for (const match of matches) {
    for (const reference of referencesIn(JSON.parse(match.json as string))) {
      const target = localTarget(reference, ctx.baseUrl);
      if (!target || !ctx.types.has(target.type)) continue;
      const key = `${target.type}/${target.id}`;
      if (onPage.has(key) || seen.has(key)) continue;
      wanted.set(target.type, (wanted.get(target.type) ?? new Set()).add(target.id));
    }
  }
  const found: StoredVersion[] = [];
  for (const [type, ids] of wanted) found.push(...(await readSupporting(ctx, type, [...ids])));
  const kept = found.filter((stored) => patientsOfSupporting(ctx, stored).every((p) => ctx.allowedPatients.has(p)));
  for (const stored of kept) seen.add(`${stored.resourceType}/${stored.id}`);
  return kept;
}

/**
 * Reference parameters tying a supporting type to a patient although R4 leaves the type out of the Patient
 * compartment: a Device implanted in or assigned to another patient is that patient's data.
 */
const PATIENT_LINKS: Readonly<Record<string, readonly string[]>> = { Device: ['patient'] };

/** The patients a supporting resource belongs to: its compartment patients and those of PATIENT_LINKS. */
function patientsOfSupporting(ctx: HopContext, stored: StoredVersion): string[] {
  const registry = ctx.repo.registry;
  const links = PATIENT_LINKS[stored.resourceType] ?? [];
  const linked = extractParameterEntries(registry, JSON.parse(stored.json as string) as Resource, links)
    .filter((e) => e.type === 'reference' && e.targetType === 'Patient' && e.targetId !== null)
    .map((e) => (e as ReferenceEntry).targetId as string);
  return [...patientsOf(registry, stored), ...linked];
}

/** Every `reference` string in the resource (contained resources included). */
function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'reference' && typeof inner === 'string') found.push(inner);
      else referencesIn(inner, found);
    }
  }
  return found;
}

function localTarget(reference: string, baseUrl: string): { type: string; id: string } | undefined {
  const relative = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
  const match = LOCAL_REFERENCE.exec(relative);
  return match ? { type: match[1], id: match[2] } : undefined;
}

/** The referenced resources of one type the caller may see; none when the caller may not search the type. */
async function readSupporting(ctx: HopContext, type: string, ids: string[]): Promise<StoredVersion[]> {
  try {
    requirePermission(ctx.repo.access, type, 's');
  } catch {
    return [];
  }
  const found: StoredVersion[] = [];
  for (let i = 0; i < ids.length; i += MAX_OR_VALUES) {
    const batch = ids.slice(i, i + MAX_OR_VALUES);
    const params: [string, string][] = [
      ['_id', batch.join(',')],
      ['_count', String(batch.length)],
      ['_total', 'none'],
    ];
    try {
      found.push(...(await ctx.repo.search([type], params, { internal: true })).page.entries);
    } catch (error) {
      // A grant that cannot be narrowed to this type (patient scopes on a type outside the compartment).
      if (error instanceof FhirError && error.status === 403) return found;
      throw error;
    }
  }
  return found;
}

// Request bodies for write benchmarks against seeded data: new resources whose references all point at
// resources the server already holds, and small realistic edits of seeded resources for updates.
import type { Resource } from '@medplum/fhirtypes';
import { localReference, rewriteReferences } from './bundle';
import { generatePatientRecords, type PatientRecord } from './generator';
import type { SeededRecord, SeedResult } from './seed';

export interface CreateBody {
  resourceType: string;
  /** JSON without an id, references resolved to server ids */
  json: string;
}

/**
 * `count` creatable bodies from fresh records (generated after the seeded ones). Each fresh record is laid
 * onto a seeded record: its k-th Encounter refers to the seeded record's k-th Encounter (cycled), and so
 * on per type, so every reference resolves and the mix of types stays the generator's.
 */
export function buildCreateBodies(seed: number, seeded: SeedResult, count: number): CreateBody[] {
  if (seeded.records.length === 0) throw new Error('no seeded records to refer to');
  const bodies: CreateBody[] = [];
  const fresh = generatePatientRecords(seed, Number.MAX_SAFE_INTEGER, seeded.records.length);
  for (let next = fresh.next(); bodies.length < count && !next.done; next = fresh.next()) {
    const onto = seeded.records[next.value.index % seeded.records.length];
    const resolve = layOnto(next.value, onto, seeded.directory);
    for (const resource of next.value.resources) {
      if (bodies.length >= count) break;
      const body = rewriteReferences(resource, resolve);
      delete body.id;
      bodies.push({ resourceType: resource.resourceType, json: JSON.stringify(body) });
    }
  }
  return bodies;
}

function layOnto(
  record: PatientRecord,
  onto: SeededRecord,
  directory: ReadonlyMap<string, string>,
): (reference: string) => string {
  const mapping = new Map<string, string>();
  const ordinal = new Map<string, number>();
  for (const resource of record.resources) {
    const targets = onto.refsByType.get(resource.resourceType);
    if (!targets || targets.length === 0) continue;
    const k = ordinal.get(resource.resourceType) ?? 0;
    ordinal.set(resource.resourceType, k + 1);
    mapping.set(localReference(resource), targets[k % targets.length]);
  }
  return (ref) => mapping.get(ref) ?? directory.get(ref) ?? ref;
}

type ResourceOf<K extends Resource['resourceType']> = Extract<Resource, { resourceType: K }>;
type Edits = { [K in Resource['resourceType']]?: (resource: ResourceOf<K>, revision: number) => ResourceOf<K> };

/** One plausible change per type (a note, a new phone number, an amended result); a tag otherwise. */
const EDITS: Edits = {
  Observation: (r, n) => ({ ...r, status: 'amended', note: [{ text: `Result reviewed and amended (rev ${n}).` }] }),
  Patient: (r, n) => ({
    ...r,
    telecom: [{ system: 'phone', value: `(617) 555-${String(n % 10000).padStart(4, '0')}`, use: 'mobile' }],
  }),
  Condition: (r, n) => ({ ...r, note: [{ text: `Reviewed at follow-up (rev ${n}).` }] }),
  MedicationRequest: (r, n) => ({ ...r, note: [{ text: `Dose confirmed with patient (rev ${n}).` }] }),
  Appointment: (r, n) => ({ ...r, comment: `Patient asked for a reminder call (rev ${n}).` }),
  Procedure: (r, n) => ({ ...r, note: [{ text: `Post-procedure note (rev ${n}).` }] }),
  AllergyIntolerance: (r, n) => ({ ...r, note: [{ text: `Confirmed by patient (rev ${n}).` }] }),
};

/** The body of an update (PUT) of a seeded resource: the stored resource with one small change. */
export function editedBody(resource: Resource, revision: number): string {
  const edit = EDITS[resource.resourceType] as ((r: Resource, n: number) => Resource) | undefined;
  return JSON.stringify((edit ?? tagged)(resource, revision));
}

function tagged(resource: Resource, revision: number): Resource {
  return {
    ...resource,
    meta: { tag: [{ system: 'http://hms.example.org/fhir/bench', code: `revision-${revision}` }] },
  };
}

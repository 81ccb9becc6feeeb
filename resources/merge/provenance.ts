// The Provenance of a merge (and of its undo): `target` names each version the merge wrote, `entity` (role
// revision) the version it replaced, so that the undo knows what to check and what to restore. An undone
// merge's Provenance is tagged, so it cannot be undone twice.
import type { Coding, Provenance, ProvenanceEntity, Reference } from '@medplum/fhirtypes';
import type { AccessContext } from '../access';
import { unprocessable } from '../errors';
import type { StoredVersion } from '../store/port';

const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
export const MERGE_ACTIVITY: Coding = { system: LIFECYCLE, code: 'merge', display: 'Merge Record Lifecycle Event' };
export const UNMERGE_ACTIVITY: Coding = {
  system: LIFECYCLE,
  code: 'unmerge',
  display: 'Unmerge Record Lifecycle Event',
};
export const UNDONE_TAG: Coding = {
  system: 'http://hms.local/fhir/CodeSystem/merge-status',
  code: 'undone',
  display: 'Undone by Patient/$unmerge',
};

/** One resource the merge changed: the version before it and the version it wrote. */
export interface VersionStep {
  resourceType: string;
  id: string;
  priorVersion: number;
  writtenVersion: number;
}

export function provenanceOf(
  steps: { before: StoredVersion; after: StoredVersion }[],
  activity: Coding,
  access: AccessContext,
  extraEntities: ProvenanceEntity[] = [],
): Provenance {
  return {
    resourceType: 'Provenance',
    target: steps.map(({ after }) => versionReference(after)),
    recorded: new Date().toISOString(),
    activity: { coding: [activity] },
    agent: [
      {
        type: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer' }],
        },
        who: access.fhirUser ? { reference: access.fhirUser } : { display: access.actor },
      },
    ],
    entity: [
      ...steps.map(({ before }) => ({ role: 'revision' as const, what: versionReference(before) })),
      ...extraEntities,
    ],
  };
}

function versionReference(stored: StoredVersion): Reference {
  return { reference: `${stored.resourceType}/${stored.id}/_history/${stored.versionId}` };
}

const VERSIONED = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/(\d+)$/;

/** The steps of a merge Provenance; 422 when it is not the Provenance of a merge, or was undone already. */
export function mergeSteps(provenance: Provenance): VersionStep[] {
  const isMerge = provenance.activity?.coding?.some((c) => c.system === LIFECYCLE && c.code === MERGE_ACTIVITY.code);
  if (!isMerge) throw unprocessable(`Provenance/${provenance.id} does not record a merge`);
  if (provenance.meta?.tag?.some((t) => t.system === UNDONE_TAG.system && t.code === UNDONE_TAG.code)) {
    throw unprocessable(`The merge of Provenance/${provenance.id} was undone already`);
  }
  const prior = new Map(
    (provenance.entity ?? [])
      .filter((e) => e.role === 'revision')
      .map((e) => parseVersioned(e.what.reference))
      .map((v) => [`${v.resourceType}/${v.id}`, v.version]),
  );
  return provenance.target.map((target) => {
    const written = parseVersioned(target.reference);
    const priorVersion = prior.get(`${written.resourceType}/${written.id}`);
    if (priorVersion === undefined) {
      throw unprocessable(`Provenance/${provenance.id} names no prior version of ${target.reference}`);
    }
    return { resourceType: written.resourceType, id: written.id, priorVersion, writtenVersion: written.version };
  });
}

function parseVersioned(reference: string | undefined): { resourceType: string; id: string; version: number } {
  const match = VERSIONED.exec(reference ?? '');
  if (!match) throw unprocessable(`The merge Provenance has a reference without a version: ${reference}`);
  return { resourceType: match[1], id: match[2], version: Number(match[3]) };
}

// Carries out a merge plan inside the caller's transaction: each change is written through the repository (so
// grants, validation and the audit trail apply, and a resource changed since the plan fails the If-Match),
// then the Provenance naming every version written and the one it replaced.
import type { Patient } from '@medplum/fhirtypes';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import type { MergePlan } from './plan';
import { MERGE_ACTIVITY, provenanceOf } from './provenance';

export interface MergeOutcome {
  result: Patient;
  provenance: StoredVersion;
  /** Every version written, source and target first. */
  written: StoredVersion[];
}

export async function applyMerge(repo: Repository, plan: MergePlan): Promise<MergeOutcome> {
  const steps: { before: StoredVersion; after: StoredVersion }[] = [];
  for (const { before, after } of plan.changes) {
    const { stored } = await repo.update(before.resourceType, before.id, after, { ifMatch: before.versionId });
    steps.push({ before, after: stored });
  }
  const { stored: provenance } = await repo.create('Provenance', provenanceOf(steps, MERGE_ACTIVITY, repo.access));
  return {
    result: JSON.parse(steps[1].after.json as string) as Patient,
    provenance,
    written: steps.map((s) => s.after),
  };
}

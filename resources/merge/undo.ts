// Undoes a merge from its Provenance (administrators only): when every resource the merge wrote is still at
// the version it wrote, each gets its pre-merge content back as a new version, the merge's Provenance is
// tagged undone, and a Provenance of the undo is written; otherwise 409 naming each resource changed since.
import type { Provenance, Resource } from '@medplum/fhirtypes';
import { FhirError, issue, outcome } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import { requireAdmin } from './access';
import { mergeSteps, provenanceOf, UNDONE_TAG, UNMERGE_ACTIVITY, type VersionStep } from './provenance';

export interface UndoOutcome {
  /** The versions the undo wrote, in the merge's order. */
  restored: StoredVersion[];
  provenance: StoredVersion;
}

export async function undoMerge(repo: Repository, provenanceId: string): Promise<UndoOutcome> {
  requireAdmin(repo.access, 'Patient/$unmerge');
  return repo.withTransaction(async (tx) => {
    const stored = await tx.read('Provenance', provenanceId);
    const merge = JSON.parse(stored.json as string) as Provenance;
    const steps = mergeSteps(merge);
    const current: (StoredVersion | undefined)[] = [];
    for (const step of steps) current.push(await currentVersion(tx, step));
    const changed = steps.filter((step, i) => current[i]?.versionId !== step.writtenVersion);
    if (changed.length > 0) throw changedSince(changed, current, steps);
    const restoredSteps: { before: StoredVersion; after: StoredVersion }[] = [];
    for (const [i, step] of steps.entries()) {
      const prior = await tx.vread(step.resourceType, step.id, step.priorVersion);
      const content = JSON.parse(prior.json as string) as Resource;
      const { stored: after } = await tx.update(step.resourceType, step.id, content, { ifMatch: step.writtenVersion });
      restoredSteps.push({ before: current[i] as StoredVersion, after });
    }
    await tx.update('Provenance', provenanceId, tagged(merge), { ifMatch: stored.versionId });
    const source = [{ role: 'source' as const, what: { reference: `Provenance/${provenanceId}` } }];
    const undo = provenanceOf(restoredSteps, UNMERGE_ACTIVITY, repo.access, source);
    const { stored: provenance } = await tx.create('Provenance', undo);
    return { restored: restoredSteps.map((s) => s.after), provenance };
  });
}

/** The current version, undefined when the resource was deleted since. */
async function currentVersion(repo: Repository, step: VersionStep): Promise<StoredVersion | undefined> {
  try {
    return await repo.read(step.resourceType, step.id);
  } catch (error) {
    if ((error as { status?: number }).status === 410) return undefined;
    throw error;
  }
}

function changedSince(changed: VersionStep[], current: (StoredVersion | undefined)[], steps: VersionStep[]): FhirError {
  const issues = changed.map((step) => {
    const now = current[steps.indexOf(step)];
    const what = `${step.resourceType}/${step.id}`;
    const state = now ? `is at version ${now.versionId}` : 'was deleted';
    return issue(
      'conflict',
      `${what} changed since the merge (the merge wrote version ${step.writtenVersion}; it ${state})`,
    );
  });
  return new FhirError(409, outcome(issues));
}

function tagged(provenance: Provenance): Provenance {
  return { ...provenance, meta: { ...provenance.meta, tag: [...(provenance.meta?.tag ?? []), UNDONE_TAG] } };
}

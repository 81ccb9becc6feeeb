// The merge's building blocks on their own: the reference rewrite, the bound on one merge's size, and the
// reading of a merge Provenance that the undo relies on.
import type { Observation, Provenance } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { applyMerge } from '../../../resources/merge/apply';
import { planMerge } from '../../../resources/merge/plan';
import { mergeSteps, UNDONE_TAG } from '../../../resources/merge/provenance';
import { patientReferenceParams, repointReferences } from '../../../resources/merge/references';
import { Repository } from '../../../resources/repository';
import { observation, startTestApp } from '../../support/app';

const BASE = 'http://localhost:8080/fhir';

test('unversioned references to the source, relative or absolute on this server, point at the target', () => {
  const resource = {
    resourceType: 'Observation',
    subject: { reference: 'Patient/a', display: 'Ann' },
    performer: [{ reference: `${BASE}/Patient/a` }, { reference: 'Patient/a/_history/2' }, { reference: 'Patient/ab' }],
    note: [{ text: 'constructor' }],
    focus: [{ reference: 'constructor' }],
  } as unknown as Observation;
  const { resource: moved, changed } = repointReferences(resource, 'a', 'b', BASE);
  expect(changed).toBe(2);
  expect(moved).toEqual({
    ...resource,
    subject: { reference: 'Patient/b', display: 'Ann' },
    performer: [{ reference: `${BASE}/Patient/b` }, { reference: 'Patient/a/_history/2' }, { reference: 'Patient/ab' }],
  });
  expect(resource.subject?.reference).toBe('Patient/a');
});

test('the parameters searched reach the chart but not the audit trail or provenance', async () => {
  const t = await startTestApp();
  try {
    const params = patientReferenceParams(t.services.registry);
    expect(params).toContainEqual({ type: 'Observation', param: 'subject' });
    expect(params).toContainEqual({ type: 'Patient', param: 'link' });
    expect(params.some((p) => p.type === 'AuditEvent' || p.type === 'Provenance')).toBe(false);
    expect(params.some((p) => p.type === 'Practitioner')).toBe(false);
  } finally {
    await t.close();
  }
});

test('a merge larger than the limit is refused with a 422 before anything is written', async () => {
  const t = await startTestApp();
  try {
    const repo = new Repository(t.services, SYSTEM_ACCESS);
    for (const id of ['s', 't']) await repo.update('Patient', id, { resourceType: 'Patient', id });
    for (const id of ['o1', 'o2', 'o3'])
      await repo.update('Observation', id, { ...observation('Patient/s'), id } as Observation);
    const input = {
      source: { id: 's' },
      target: { id: 't' },
      preview: false,
      parameters: { resourceType: 'Parameters' as const },
    };
    await expect(planMerge(repo, input, BASE, 4)).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/More than 2 resources/),
    });
    expect((await planMerge(repo, input, BASE, 5)).changes).toHaveLength(5);
    expect((await repo.read('Patient', 's')).versionId).toBe(1);
  } finally {
    await t.close();
  }
});

test('more references than one search page are all snapshotted first, then all repointed', async () => {
  const t = await startTestApp();
  try {
    const repo = new Repository(t.services, SYSTEM_ACCESS);
    await repo.withTransaction(async (tx) => {
      for (const id of ['s', 't']) await tx.update('Patient', id, { resourceType: 'Patient', id });
      for (let i = 0; i < 1100; i++) {
        await tx.update('Observation', `o${i}`, { ...observation('Patient/s'), id: `o${i}` } as Observation);
      }
    });
    const input = {
      source: { id: 's' },
      target: { id: 't' },
      preview: false,
      parameters: { resourceType: 'Parameters' as const },
    };
    const outcome = await repo.withTransaction(async (tx) => applyMerge(tx, await planMerge(tx, input, BASE)));
    expect(outcome.written).toHaveLength(1102);
    const left = await repo.search(
      ['Observation'],
      [
        ['subject', 'Patient/s'],
        ['_count', '0'],
        ['_total', 'accurate'],
      ],
    );
    expect(left.page.total).toBe(0);
    const moved = await repo.search(
      ['Observation'],
      [
        ['subject', 'Patient/t'],
        ['_count', '0'],
        ['_total', 'accurate'],
      ],
    );
    expect(moved.page.total).toBe(1100);
  } finally {
    await t.close();
  }
}, 60_000);

test('a Provenance that is not a merge, was undone, or lacks versions cannot drive an undo', () => {
  const merge: Provenance = {
    resourceType: 'Provenance',
    id: 'p',
    recorded: '2026-01-01T00:00:00Z',
    agent: [{ who: { display: 'x' } }],
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'merge' }] },
    target: [{ reference: 'Patient/a/_history/2' }],
    entity: [{ role: 'revision', what: { reference: 'Patient/a/_history/1' } }],
  };
  expect(mergeSteps(merge)).toEqual([{ resourceType: 'Patient', id: 'a', priorVersion: 1, writtenVersion: 2 }]);
  const cases: [Provenance, RegExp][] = [
    [{ ...merge, activity: { text: 'edit' } }, /does not record a merge/],
    [{ ...merge, meta: { tag: [UNDONE_TAG] } }, /undone already/],
    [{ ...merge, entity: [] }, /no prior version of Patient\/a/],
    [{ ...merge, target: [{ reference: 'Patient/a' }] }, /without a version/],
  ];
  for (const [provenance, message] of cases) {
    expect(() => mergeSteps(provenance)).toThrow(
      expect.objectContaining({ status: 422, message: expect.stringMatching(message) }),
    );
  }
});

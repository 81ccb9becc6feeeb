// Bulk Data $export with `_since` lists what was deleted since in the manifest's `deleted` files (each line a
// transaction Bundle with one DELETE entry), at the three levels and only for the patients in scope; files are
// deleted from the store's blobs when the client deletes the export. On SQLite and on the MongoDB adapter.
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { FHIR_JSON, createThroughApi, observation, patient, startTestApp, type TestApp } from '../../support/app';
import { MemoryBucket } from '../../support/memory-bucket';
import { MingoDatabase } from '../../support/mingo-database';
import { as, download, exportAll, pathOf, poll, tokenFor, type Caller, type Manifest } from './export-support';

const stores: [string, () => { bucket?: MemoryBucket; start: () => Promise<TestApp> }][] = [
  ['SQLite', () => ({ start: () => startTestApp() })],
  [
    'the MongoDB adapter (mingo)',
    () => {
      const bucket = new MemoryBucket();
      return { bucket, start: () => startTestApp({ store: new MongoStore(new MingoDatabase(), bucket) }) };
    },
  ],
];

describe.each(stores)('on %s', (_name, setup) => {
  let t: TestApp;
  let bucket: MemoryBucket | undefined;
  let bulk: Caller;
  let since: string;
  const ids: Record<string, string> = {};

  const create = (resource: Record<string, unknown>) => createThroughApi(t, resource);
  const remove = async (type: string, id: string) =>
    expect([200, 204]).toContain((await t.api().delete(`/fhir/${type}/${id}`)).status);

  beforeAll(async () => {
    const started = setup();
    bucket = started.bucket;
    t = await started.start();
    bulk = as(t, await tokenFor(t, 'system/*.read'));
    ids.anna = await create(patient({ name: [{ family: 'Smith' }] }));
    ids.ben = await create(patient({ name: [{ family: 'Jones' }] }));
    ids.cleo = await create(patient({ name: [{ family: 'Moss' }] }));
    ids.group = await create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.anna}` } }, { entity: { reference: `Patient/${ids.ben}` } }],
    });
    ids.annaObs = await create(observation(`Patient/${ids.anna}`));
    ids.annaBack = await create(observation(`Patient/${ids.anna}`));
    ids.benObs = await create(observation(`Patient/${ids.ben}`));
    ids.cleoObs = await create(observation(`Patient/${ids.cleo}`));
    ids.org = await create({ resourceType: 'Organization', name: 'General Hospital' });
    ids.before = await create(observation(`Patient/${ids.anna}`));
    await remove('Observation', ids.before);
    await new Promise((resolve) => setTimeout(resolve, 5));
    since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const id of [ids.annaObs, ids.benObs, ids.cleoObs, ids.annaBack]) await remove('Observation', id);
    await remove('Organization', ids.org);
    await remove('Patient', ids.ben);
    // Deleted and written again: in the output, not among the deletions.
    const back = { ...observation(`Patient/${ids.anna}`), id: ids.annaBack };
    expect(
      (await t.api().put(`/fhir/Observation/${ids.annaBack}`).set('Content-Type', FHIR_JSON).send(back)).status,
    ).toBe(201);
  });
  afterAll(() => t.close());

  /** The deletions of the manifest's `deleted` files, as Type/id, after checking each line is such a Bundle. */
  async function deletions(caller: Caller, manifest: Manifest & { deleted?: Manifest['output'] }): Promise<string[]> {
    const urls: string[] = [];
    for (const file of manifest.deleted ?? []) {
      expect(file.type).toBe('Bundle');
      const lines = (await download(caller, file.url)) as Bundle[];
      expect(lines).toHaveLength(file.count);
      for (const bundle of lines) {
        expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
        expect(Date.parse(bundle.meta?.lastUpdated as string)).toBeGreaterThan(Date.parse(since));
        for (const entry of bundle.entry ?? []) {
          expect(entry.request?.method).toBe('DELETE');
          expect(entry.resource).toBeUndefined();
          urls.push(entry.request?.url as string);
        }
      }
    }
    return urls.sort();
  }

  const sinceQuery = () => `_since=${encodeURIComponent(since)}`;

  test('system level: every exported type deleted since _since and still deleted; never also in output', async () => {
    const { manifest } = await exportAll(bulk, `/fhir/$export?_type=Patient,Observation,Organization&${sinceQuery()}`);
    const listed = await deletions(bulk, manifest);
    expect(listed).toEqual(
      [
        `Observation/${ids.annaObs}`,
        `Observation/${ids.benObs}`,
        `Observation/${ids.cleoObs}`,
        `Organization/${ids.org}`,
        `Patient/${ids.ben}`,
      ].sort(),
    );
    const output: Resource[] = [];
    for (const file of manifest.output) output.push(...(await download(bulk, file.url)));
    expect(output.map((r) => `${r.resourceType}/${r.id}`)).toEqual([`Observation/${ids.annaBack}`]);
    // Without _since there is no `deleted`; with it and nothing deleted of the types, an empty one.
    const plain = (await exportAll(bulk, '/fhir/$export?_type=Organization')).manifest as Manifest & { deleted?: [] };
    expect(plain.deleted).toBeUndefined();
    const none = await exportAll(bulk, `/fhir/$export?_type=Group&${sinceQuery()}`);
    expect((none.manifest as Manifest & { deleted?: [] }).deleted).toEqual([]);
  });

  test('Patient level lists the deletions in any patient compartment; Group level only its members', async () => {
    const all = await exportAll(bulk, `/fhir/Patient/$export?_type=Patient,Observation&${sinceQuery()}`);
    expect(await deletions(bulk, all.manifest)).toEqual(
      [
        `Observation/${ids.annaObs}`,
        `Observation/${ids.benObs}`,
        `Observation/${ids.cleoObs}`,
        `Patient/${ids.ben}`,
      ].sort(),
    );
    const group = await exportAll(bulk, `/fhir/Group/${ids.group}/$export?_type=Patient,Observation&${sinceQuery()}`);
    expect(await deletions(bulk, group.manifest)).toEqual(
      [`Observation/${ids.annaObs}`, `Observation/${ids.benObs}`, `Patient/${ids.ben}`].sort(),
    );
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: '_since', valueInstant: since },
        { name: 'patient', valueReference: { reference: `Patient/${ids.anna}` } },
      ],
    };
    const one = await exportAll(bulk, '/fhir/Patient/$export', body);
    expect(await deletions(bulk, one.manifest)).toEqual([`Observation/${ids.annaObs}`]);
  });

  test('a deleted file needs a token covering the type it lists; restricted grants list no deletions', async () => {
    const { manifest } = await exportAll(bulk, `/fhir/$export?_type=Patient,Observation&${sinceQuery()}`);
    const files = (manifest as Manifest & { deleted: Manifest['output'] }).deleted;
    expect(files).toHaveLength(2);
    const narrower = as(t, await tokenFor(t, 'system/Patient.rs'));
    const statuses = await Promise.all(files.map(async (f) => (await narrower.get(pathOf(f.url))).status));
    expect(statuses.sort()).toEqual([200, 403]);

    // Granular scopes: the deletions cannot be checked against them, so none is listed and a warning says so.
    const finals = as(t, await tokenFor(t, 'system/Observation.rs?status=final', 'final-client'));
    const granular = await exportAll(finals, `/fhir/$export?_type=Observation&${sinceQuery()}`);
    expect((granular.manifest as Manifest & { deleted: [] }).deleted).toEqual([]);
    expect(granular.manifest.error).toHaveLength(1);
    const [outcome] = (await download(finals, granular.manifest.error[0].url)) as OperationOutcome[];
    expect(outcome.issue).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'forbidden',
        diagnostics: expect.stringMatching(/^Deleted Observation/),
      }),
    ]);
  });

  test('DELETE on the status URL deletes the files from the store, not just their content', async () => {
    const { manifest, status } = await exportAll(bulk, `/fhir/$export?_type=Patient,Observation&${sinceQuery()}`);
    const taskId = pathOf(status).split('/').pop() as string;
    const parts = [...manifest.output, ...((manifest as Manifest & { deleted: Manifest['output'] }).deleted ?? [])].map(
      (f) => Number(f.url.split('/').pop()),
    );
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const blob = (part: number) => t.services.store.readBinaryData?.(`bulk:${taskId}:${part}`, 1);
    for (const part of parts) expect((await blob(part))?.length).toBeGreaterThan(0);

    expect((await bulk.delete(pathOf(status))).status).toBe(202);
    const deadline = Date.now() + 10_000;
    while ((await Promise.all(parts.map(blob))).some((b) => b !== undefined)) {
      if (Date.now() > deadline) throw new Error('the export files are still stored');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (bucket) expect([...bucket.files.keys()].filter((key) => key.includes(taskId))).toEqual([]);
    expect((await bulk.get(pathOf(manifest.output[0].url))).status).toBe(404);
    expect((await poll(bulk, status)).status).toBe(404);
  });
});

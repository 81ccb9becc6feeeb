// Bulk Data $export end to end on the real app: manifests and NDJSON files at the three levels, `_since`,
// `_type`, `_typeFilter` (in every scope) and `_elements`; files only for the client that asked and with a
// token covering the type; narrower grants export less; a patient-level token is refused; DELETE removes;
// large types are split into several files; the CapabilityStatement declares the operations.
import type { Resource } from '@medplum/fhirtypes';
import { registerExportJobs } from '../../../resources/export/register';
import { FHIR_JSON, observation, patient, startTestApp, type TestApp } from '../../support/app';
import {
  BULK_HEADERS,
  as,
  download,
  downloadAll,
  exportAll,
  pathOf,
  poll,
  tokenFor,
  type Caller,
} from './export-support';

let t: TestApp;
let bulk: Caller;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  bulk = as(t, await tokenFor(t, 'system/*.read'));
  const create = async (resource: object) =>
    (
      await t
        .api()
        .post(`/fhir/${(resource as Resource).resourceType}`)
        .set('Content-Type', FHIR_JSON)
        .send(resource)
    ).body.id as string;
  ids.anna = await create(patient({ name: [{ family: 'Smith', given: ['Anna'] }] }));
  ids.ben = await create(patient({ name: [{ family: 'Jones', given: ['Ben'] }] }));
  ids.cleo = await create(patient({ name: [{ family: 'Moss', given: ['Cleo'] }] }));
  ids.annaObs = await create(observation(`Patient/${ids.anna}`));
  ids.annaPrelim = await create(observation(`Patient/${ids.anna}`, { status: 'preliminary' }));
  ids.benObs = await create(observation(`Patient/${ids.ben}`));
  ids.cleoObs = await create(observation(`Patient/${ids.cleo}`));
  ids.org = await create({ resourceType: 'Organization', name: 'General Hospital' });
  const group = {
    resourceType: 'Group',
    type: 'person',
    actual: true,
    member: [{ entity: { reference: `Patient/${ids.anna}` } }, { entity: { reference: `Patient/${ids.ben}` } }],
  };
  ids.group = await create(group);
});
afterAll(() => t.close());

const idsOf = (resources: Resource[] | undefined) => (resources ?? []).map((r) => r.id).sort();

test('system-level export: a manifest per the spec and one NDJSON file per type', async () => {
  const { manifest, status } = await exportAll(bulk, '/fhir/$export?_type=Patient,Observation,Organization');
  expect(manifest).toMatchObject({
    request: expect.stringMatching(/^http:\/\/localhost:8080\/fhir\/\$export\?_type=Patient,Observation,Organization$/),
    requiresAccessToken: true,
    error: [],
  });
  expect(Date.parse(manifest.transactionTime)).toBeLessThanOrEqual(Date.now());
  expect(manifest.output.map((o) => [o.type, o.count]).sort()).toEqual([
    ['Observation', 4],
    ['Organization', 1],
    ['Patient', 3],
  ]);
  for (const file of manifest.output) expect(file.url).toMatch(/^http:\/\/localhost:8080\/fhir\/\$export-file\//);
  const downloadsFrom = Date.now();
  const files = await downloadAll(bulk, manifest);
  expect(idsOf(files.Patient)).toEqual([ids.anna, ids.ben, ids.cleo].sort());
  expect(files.Observation.every((o) => o.resourceType === 'Observation')).toBe(true);
  // Each download is in the audit trail: the export, the file and what it held, never its content.
  const audited = await t.services.store.searchAudit({ subtype: ['operation'], since: downloadsFrom, count: 50 });
  const texts = audited.entries.map((r) => JSON.parse(r.json).outcomeDesc as string).sort();
  expect(texts).toEqual(
    manifest.output
      .map((o) => `$export ${pathOf(status).split('/').pop()} file ${o.url.split('/').pop()}: ${o.count} ${o.type}`)
      .sort(),
  );

  const res = await bulk.get(pathOf(status));
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Date.parse(res.headers.expires)).toBeGreaterThan(Date.parse(res.headers.date));
});

test('the status URL answers 202 with X-Progress and Retry-After while the job is queued or running', async () => {
  // A runner with no free slot: the job waits in the queue.
  const runner = t.services.jobs as unknown as { settings: { concurrency: number } };
  const concurrency = runner.settings.concurrency;
  runner.settings.concurrency = 0;
  try {
    const kick = await bulk.get('/fhir/$export?_type=Patient').set(BULK_HEADERS);
    const res = await bulk.get(pathOf(kick.headers['content-location']));
    expect(res.status).toBe(202);
    expect(res.headers['x-progress']).toBe('queued');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Not left queued: it would count against the client's limit of exports in progress in later tests.
    expect((await bulk.delete(pathOf(kick.headers['content-location']))).status).toBe(202);
  } finally {
    runner.settings.concurrency = concurrency;
  }
});

test('Patient-level export follows the Patient compartment; Group export only its members', async () => {
  const all = await downloadAll(bulk, (await exportAll(bulk, '/fhir/Patient/$export')).manifest);
  expect(idsOf(all.Patient)).toEqual([ids.anna, ids.ben, ids.cleo].sort());
  expect(idsOf(all.Observation)).toEqual([ids.annaObs, ids.annaPrelim, ids.benObs, ids.cleoObs].sort());
  expect(all.Organization).toBeUndefined();
  // A Group is in the compartment of its members.
  expect(idsOf(all.Group)).toEqual([ids.group]);

  const group = await downloadAll(bulk, (await exportAll(bulk, `/fhir/Group/${ids.group}/$export`)).manifest);
  expect(idsOf(group.Patient)).toEqual([ids.anna, ids.ben].sort());
  expect(idsOf(group.Observation)).toEqual([ids.annaObs, ids.annaPrelim, ids.benObs].sort());

  const body = {
    resourceType: 'Parameters',
    parameter: [{ name: 'patient', valueReference: { reference: `Patient/${ids.ben}` } }],
  };
  const one = await downloadAll(bulk, (await exportAll(bulk, '/fhir/Patient/$export', body)).manifest);
  expect(idsOf(one.Patient)).toEqual([ids.ben]);
  expect(idsOf(one.Observation)).toEqual([ids.benObs]);
});

test('_typeFilter is applied at every level', async () => {
  const filter = `_type=Observation&_typeFilter=${encodeURIComponent('Observation?status=preliminary')}`;
  for (const path of ['/fhir/$export', '/fhir/Patient/$export', `/fhir/Group/${ids.group}/$export`]) {
    const files = await downloadAll(bulk, (await exportAll(bulk, `${path}?${filter}`)).manifest);
    expect(idsOf(files.Observation)).toEqual([ids.annaPrelim]);
  }
  // Two filters of one type are OR-ed.
  const either = `_type=Observation&_typeFilter=${encodeURIComponent('Observation?status=preliminary')},${encodeURIComponent(`Observation?subject=Patient/${ids.cleo}`)}`;
  const files = await downloadAll(bulk, (await exportAll(bulk, `/fhir/Patient/$export?${either}`)).manifest);
  expect(idsOf(files.Observation)).toEqual([ids.annaPrelim, ids.cleoObs].sort());
});

test('_since exports only what changed after it (the Group membership is not filtered by it)', async () => {
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const later = await t
    .api()
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send(observation(`Patient/${ids.ben}`));
  const path = `/fhir/Group/${ids.group}/$export?_since=${encodeURIComponent(since)}`;
  const files = await downloadAll(bulk, (await exportAll(bulk, path)).manifest);
  expect(idsOf(files.Observation)).toEqual([later.body.id]);
  expect(files.Patient).toBeUndefined();
  await t.api().delete(`/fhir/Observation/${later.body.id}`);
});

test('_elements keeps the named and mandatory elements and tags each resource SUBSETTED', async () => {
  const { manifest } = await exportAll(bulk, '/fhir/$export?_type=Patient,Observation&_elements=Patient.gender,status');
  const files = await downloadAll(bulk, manifest);
  const anna = files.Patient.find((p) => p.id === ids.anna) as Resource & Record<string, unknown>;
  expect(anna.gender).toBe('female');
  expect(anna.name).toBeUndefined();
  expect(anna.meta?.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
  const obs = files.Observation[0] as Resource & Record<string, unknown>;
  expect(obs.status).toBe('final');
  expect(obs.code).toBeDefined(); // mandatory
  expect(obs.valueQuantity).toBeUndefined();
});

test('ignored parameters under handling=lenient are listed in the manifest error files', async () => {
  const kick = await bulk
    .get('/fhir/$export?_type=Organization&includeAssociatedData=LatestProvenanceResources')
    .set({ ...BULK_HEADERS, Prefer: 'respond-async; handling=lenient' });
  expect(kick.status).toBe(202);
  const manifest = JSON.parse((await poll(bulk, kick.headers['content-location'])).text);
  expect(manifest.error).toHaveLength(1);
  const [outcome] = await download(bulk, manifest.error[0].url);
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(JSON.stringify(outcome)).toMatch(/includeAssociatedData/);
});

test('status and files answer only the client that asked, and only with a token covering the type', async () => {
  const { manifest, status } = await exportAll(bulk, '/fhir/$export?_type=Patient,Organization');
  const other = as(t, await tokenFor(t, 'system/*.read', 'other-client'));
  expect((await other.get(pathOf(status))).status).toBe(404);
  expect((await other.get(pathOf(manifest.output[0].url))).status).toBe(404);
  expect((await t.anonymous().get(pathOf(status))).status).toBe(401);
  expect((await t.anonymous().get(pathOf(manifest.output[0].url))).status).toBe(401);

  // The same client with a token that no longer covers Patient.
  const narrower = as(t, await tokenFor(t, 'system/Organization.read'));
  const patientFile = manifest.output.find((o) => o.type === 'Patient')!;
  const orgFile = manifest.output.find((o) => o.type === 'Organization')!;
  expect((await narrower.get(pathOf(patientFile.url))).status).toBe(403);
  expect((await narrower.get(pathOf(status))).status).toBe(403);
  expect(idsOf(await download(narrower, orgFile.url))).toEqual([ids.org]);
  expect((await bulk.get(pathOf(`${orgFile.url.replace(/\/\d+$/, '')}/99`))).status).toBe(404);
});

test('a narrower token exports only the types it may read; _type beyond it is a 403', async () => {
  const narrow = as(t, await tokenFor(t, 'system/Patient.rs system/Observation.r', 'narrow-client'));
  const { manifest } = await exportAll(narrow, '/fhir/$export');
  expect(manifest.output.map((o) => o.type)).toEqual(['Patient']);
  expect((await narrow.get('/fhir/$export?_type=Organization').set(BULK_HEADERS)).status).toBe(403);
  expect((await narrow.get('/fhir/$export?_type=Observation').set(BULK_HEADERS)).status).toBe(403);
  // A granular scope: only final Observations.
  const finals = as(t, await tokenFor(t, 'system/Observation.rs?status=final', 'final-client'));
  const files = await downloadAll(
    finals,
    (await exportAll(finals, '/fhir/Patient/$export?_type=Observation')).manifest,
  );
  expect(idsOf(files.Observation)).toEqual([ids.annaObs, ids.benObs, ids.cleoObs].sort());
});

test('a patient-level token is refused with a 403 and sees nothing of other patients', async () => {
  const token = await tokenFor(t, 'patient/*.read', 'patient-app', ids.anna);
  const res = await as(t, token).get('/fhir/Patient/$export').set(BULK_HEADERS);
  expect(res.status).toBe(403);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect((await as(t, token).get('/fhir/$export').set(BULK_HEADERS)).status).toBe(403);
});

test('DELETE on the status URL is a 202, then the status and the files are 404', async () => {
  const { manifest, status } = await exportAll(bulk, '/fhir/$export?_type=Patient');
  const deleted = await bulk.delete(pathOf(status));
  expect(deleted.status).toBe(202);
  expect((await bulk.get(pathOf(status))).status).toBe(404);
  expect((await bulk.get(pathOf(manifest.output[0].url))).status).toBe(404);
  expect((await bulk.delete(pathOf(status))).status).toBe(404);

  // Deleting a queued job cancels it.
  const runner = t.services.jobs as unknown as { settings: { concurrency: number } };
  runner.settings.concurrency = 0;
  try {
    const kick = await bulk.get('/fhir/$export?_type=Patient').set(BULK_HEADERS);
    expect((await bulk.delete(pathOf(kick.headers['content-location']))).status).toBe(202);
    expect((await bulk.get(pathOf(kick.headers['content-location']))).status).toBe(404);
  } finally {
    runner.settings.concurrency = 2;
  }
});

test('a large type is split into several files, every resource exactly once', async () => {
  registerExportJobs(t.services, t.services.jobs!, { parts: { resources: 2, bytes: 1 << 20 }, pageSize: 2 });
  try {
    const { manifest } = await exportAll(bulk, '/fhir/$export?_type=Observation,Patient');
    expect(manifest.output.map((f) => [f.type, f.count])).toEqual([
      ['Observation', 2],
      ['Observation', 2],
      ['Patient', 2],
      ['Patient', 1],
    ]);
    const files = await downloadAll(bulk, manifest);
    expect(idsOf(files.Observation)).toEqual([ids.annaObs, ids.annaPrelim, ids.benObs, ids.cleoObs].sort());
    expect(idsOf(files.Patient)).toEqual([ids.anna, ids.ben, ids.cleo].sort());
  } finally {
    registerExportJobs(t.services, t.services.jobs!);
  }
});

test('the CapabilityStatement instantiates bulk-data and names export, patient-export and group-export', async () => {
  const cs = (await t.anonymous().get('/fhir/metadata')).body;
  expect(cs.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
  const rest = cs.rest[0];
  expect(rest.operation).toContainEqual(expect.objectContaining({ name: 'export' }));
  const ops = (type: string) =>
    rest.resource.find((r: { type: string }) => r.type === type).operation.map((o: { name: string }) => o.name);
  expect(ops('Patient')).toContain('patient-export');
  expect(ops('Patient')).not.toContain('group-export');
  expect(ops('Group')).toContain('group-export');
  expect(ops('Observation')).not.toContain('patient-export');
});

// The worker-thread preparer gives exactly the inline results, survives a worker dying, and refuses work
// once closed. It runs the compiled worker (npm test builds before Jest).
import { loadFhirDefinitions } from '../../../resources/definitions';
import { InlinePreparer } from '../../../resources/prepare/preparer';
import { WorkerPoolError, WorkerPreparer, workerScript } from '../../../resources/prepare/worker-pool';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { observation, patient } from '../../support/app';

let pool: WorkerPreparer;
let inline: InlinePreparer;

beforeAll(async () => {
  loadFhirDefinitions();
  inline = new InlinePreparer(SearchParameterRegistry.withBaseParameters());
  const script = workerScript();
  expect(script).toMatch(/dist\/resources\/prepare\/worker\.js$/);
  pool = await WorkerPreparer.start(2, script as string);
});
afterAll(() => pool.close());

const samples = [
  patient(),
  observation('Patient/p1'),
  { resourceType: 'Patient', gender: 'bogus', foo: 1 },
  { resourceType: 'Observation', code: { text: 'no status' } },
] as never[];

test('prepare and validate give the same issues and index entries as inline', async () => {
  for (const resource of samples) {
    expect(await pool.prepare(resource)).toEqual(await inline.prepare(resource));
    const profiles = ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'];
    expect(await pool.validate(resource, profiles)).toEqual(await inline.validate(resource, profiles));
  }
  const prepared = await pool.prepare(observation('Patient/p1') as never);
  expect(prepared.issues).toEqual([]);
  expect(prepared.index.some((e) => e.param === 'subject')).toBe(true);
});

test('prepareMany answers a Bundle-sized list, in chunks, in order, as inline does', async () => {
  const resources = Array.from({ length: 123 }, (_, i) => samples[i % samples.length]);
  const prepared = await pool.prepareMany(resources);
  expect(prepared).toHaveLength(123);
  expect(prepared).toEqual(await inline.prepareMany(resources));
  expect(prepared[2].issues.length).toBeGreaterThan(0);
  expect(prepared[121].index.some((e) => e.param === 'subject')).toBe(true);
  expect(await pool.prepareMany([])).toEqual([]);
});

test('many requests in flight are answered each with its own result', async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      pool.prepare(patient({ identifier: [{ system: 'urn:x', value: `v${i}` }] }) as never),
    ),
  );
  results.forEach((r, i) => expect(r.index.find((e) => e.param === 'identifier')).toMatchObject({ code: `v${i}` }));
});

test('a worker that dies fails its pending work and is replaced', async () => {
  const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
  const pending = pool.prepare(patient() as never);
  await workers[0].worker.terminate();
  await Promise.allSettled([pending]);
  // A replacement loads the FHIR definitions first: seconds on a busy machine.
  for (let i = 0; i < 600 && workers.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  expect(workers).toHaveLength(2);
  expect((await pool.prepare(patient() as never)).issues).toEqual([]);
});

test('a closed pool refuses work', async () => {
  const other = await WorkerPreparer.start(1, workerScript() as string);
  await other.close();
  await expect(other.prepare(patient() as never)).rejects.toThrow(WorkerPoolError);
});

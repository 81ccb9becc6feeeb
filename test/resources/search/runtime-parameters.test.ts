// SearchParameters written through the repository: the registry follows them only once the write commits,
// refuses unusable ones before they are stored, and store.reindex rewrites index rows without new versions,
// leaving alone a resource written while its batch was being prepared.
import fs from 'node:fs';
import type { Patient, SearchParameter } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { FhirError } from '../../../resources/errors';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import { extractIndexEntries } from '../../../resources/search/extract';
import { closeServices, openServices } from '../../../server/services';
import { nicknameSearchParameter, patient, tempDir } from '../../support/app';

let services: RepositoryServices;
let repo: Repository;
let dataDir: string;

beforeEach(async () => {
  dataDir = tempDir();
  services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL' });
  repo = new Repository(services, SYSTEM_ACCESS);
});
afterEach(async () => {
  await closeServices(services);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const URL_A = 'http://example.org/fhir/SearchParameter/patient-nickname';
const URL_B = 'http://example.org/fhir/SearchParameter/patient-nickname-2';

const nickname = (overrides: Partial<SearchParameter> = {}): SearchParameter =>
  nicknameSearchParameter({ url: URL_A, ...overrides }) as unknown as SearchParameter;

const nicknamed = (given: string) => patient({ name: [{ use: 'nickname', given: [given] }] }) as unknown as Patient;

test('create, update (with a new url) and delete move the registry along', async () => {
  const { stored } = await repo.create('SearchParameter', nickname());
  expect(services.registry.get('Patient', 'nickname')?.url).toBe(URL_A);

  await repo.update('SearchParameter', stored.id, { ...nickname({ url: URL_B }), id: stored.id });
  expect(services.registry.getByUrl(URL_A)).toBeUndefined();
  expect(services.registry.get('Patient', 'nickname')?.url).toBe(URL_B);

  await repo.delete('SearchParameter', stored.id);
  expect(services.registry.getByUrl(URL_B)).toBeUndefined();
  expect(services.registry.get('Patient', 'nickname')).toBeUndefined();
});

test('a rolled-back transaction leaves the registry as it was', async () => {
  await expect(
    repo.withTransaction(async (tx) => {
      await tx.create('SearchParameter', nickname());
      throw new Error('abandon');
    }),
  ).rejects.toThrow('abandon');
  expect(services.registry.getByUrl(URL_A)).toBeUndefined();
  await expect(repo.read('SearchParameter', 'none')).rejects.toBeInstanceOf(FhirError);
});

test('an unusable SearchParameter is a 400 before anything is stored', async () => {
  const error = await repo.create('SearchParameter', nickname({ expression: 'Patient.name.(' })).catch((e) => e);
  expect(error).toBeInstanceOf(FhirError);
  expect((error as FhirError).status).toBe(400);
  expect(services.registry.getByUrl(URL_A)).toBeUndefined();
  const page = await services.store.scan('SearchParameter', { count: 10 });
  expect(page.entries).toEqual([]);
});

test('store.reindex rewrites index rows in keyset batches without new versions', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await repo.create('Patient', nicknamed(`n${i}`))).stored.id);
  await repo.create('SearchParameter', nickname());
  const entriesFor = (stored: { json?: string }) => extractIndexEntries(services.registry, JSON.parse(stored.json!));

  const first = await services.store.reindex('Patient', { count: 3 }, entriesFor);
  expect(first).toEqual({ count: 3, next: expect.any(String) });
  const second = await services.store.reindex('Patient', { after: first.next, count: 3 }, entriesFor);
  expect(second).toEqual({ count: 2 });

  const { page } = await repo.search(['Patient'], [['nickname', 'n']]);
  expect(page.entries.map((e) => e.id).sort()).toEqual([...ids].sort());
  expect(page.entries.every((e) => e.versionId === 1)).toBe(true);
});

test('store.reindex leaves a resource written after its batch was read', async () => {
  const { stored } = await repo.create('Patient', nicknamed('old'));
  await repo.create('SearchParameter', nickname());
  let written: Promise<unknown> | undefined;
  const batch = await services.store.reindex('Patient', { count: 10 }, (version) => {
    // Queued before the batch's own transaction, so it commits first with the index of its own write.
    written ??= repo.withTransaction((tx) => tx.update('Patient', stored.id, { ...nicknamed('new'), id: stored.id }));
    return extractIndexEntries(services.registry, JSON.parse(version.json!));
  });
  await written;
  expect(batch.count).toBe(0);
  const byOld = await repo.search(['Patient'], [['nickname', 'old']]);
  const byNew = await repo.search(['Patient'], [['nickname', 'new']]);
  expect(byOld.page.entries).toEqual([]);
  expect(byNew.page.entries.map((e) => e.versionId)).toEqual([2]);
});

test('a job still running when the services close is handed back and completed after the restart', async () => {
  for (let i = 0; i < 3; i++) await repo.create('Patient', nicknamed(`n${i}`));
  const task = await repo.startReindex();
  await closeServices(services);
  services = await openServices({ dataDir, sqliteSynchronous: 'NORMAL' });
  repo = new Repository(services, SYSTEM_ACCESS);
  let after = JSON.parse((await repo.read('Task', task.id)).json!);
  for (let i = 0; i < 500 && after.status !== 'completed'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = JSON.parse((await repo.read('Task', task.id)).json!);
  }
  expect(after.status).toBe('completed');
  expect(after.output).toContainEqual({ type: { text: 'reindexed' }, valueInteger: expect.any(Number) });
});

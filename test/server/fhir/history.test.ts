// History and vread, per FHIR R4 http.html#history and #vread: instance, type and system history newest first,
// deletions as entries without a resource, _count with cursor paging (next and previous links), _since, _at,
// vread of old, deleted and missing versions, and 4xx answers for invalid parameters and unknown types.
import type { Bundle, BundleEntry, OperationOutcome, Organization, Patient, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { BASE_URL, FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});

afterAll(async () => {
  await testApp.close();
});

/** Versions written at least a few milliseconds apart have distinct meta.lastUpdated values. */
function pause(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function create<T extends Resource>(resource: T): Promise<T> {
  const res = await testApp.api().post(`/fhir/${resource.resourceType}`).set('Content-Type', FHIR_JSON).send(resource);
  expect(res.status).toBe(201);
  return res.body as T;
}

async function update<T extends Resource>(resource: T): Promise<T> {
  const res = await testApp
    .api()
    .put(`/fhir/${resource.resourceType}/${resource.id}`)
    .set('Content-Type', FHIR_JSON)
    .send(resource);
  expect(res.status).toBe(200);
  return res.body as T;
}

async function remove(reference: string): Promise<void> {
  expect((await testApp.api().delete(`/fhir/${reference}`)).status).toBe(204);
}

/** GET a path below /fhir, or an absolute link URL the server returned. */
function get(pathOrUrl: string, query: Record<string, string> = {}): Promise<Response> {
  const path = pathOrUrl.startsWith(BASE_URL) ? `/fhir${pathOrUrl.slice(BASE_URL.length)}` : `/fhir${pathOrUrl}`;
  return testApp.api().get(path).query(query);
}

function historyBundle(res: Response): Bundle {
  expect(res.status).toBe(200);
  const bundle = res.body as Bundle;
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('history');
  return bundle;
}

function linkOf(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

/** `Type/id/version` for each entry, the identity of a history entry. */
function versionKeys(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => `${entryReference(e)}/${versionOf(e)}`);
}

function entryReference(e: BundleEntry): string {
  return (e.fullUrl ?? '').slice(BASE_URL.length + 1);
}

function versionOf(e: BundleEntry): number {
  const match = /^W\/"(\d+)"$/.exec(e.response?.etag ?? '');
  if (!match) throw new Error(`entry without a version ETag: ${JSON.stringify(e.response)}`);
  return Number(match[1]);
}

function expectOutcome(res: Response, status: number): OperationOutcome {
  expect(res.status).toBe(status);
  const outcome = res.body as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue?.length).toBeGreaterThan(0);
  return outcome;
}

function expectNewestFirst(bundle: Bundle): void {
  const times = (bundle.entry ?? []).map((e) => Date.parse(e.response?.lastModified ?? ''));
  expect(times.every((t) => !Number.isNaN(t))).toBe(true);
  expect(times).toEqual([...times].sort((a, b) => b - a));
}

/** Follows `next` links from the first page until there are none; returns every page. */
async function followNext(first: Bundle): Promise<Bundle[]> {
  const pages = [first];
  for (let next = linkOf(first, 'next'); next;) {
    const page = historyBundle(await get(next));
    pages.push(page);
    next = linkOf(page, 'next');
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
}

describe('instance history of a created, updated and deleted resource', () => {
  let id: string;
  const lastUpdated: string[] = [];

  beforeAll(async () => {
    const v1 = await create(patient({ gender: 'female' }) as unknown as Patient);
    id = v1.id as string;
    lastUpdated.push(v1.meta?.lastUpdated as string);
    await pause();
    const v2 = await update({ ...v1, gender: 'male' });
    lastUpdated.push(v2.meta?.lastUpdated as string);
    await pause();
    const v3 = await update({ ...v2, birthDate: '1981-03-04' });
    lastUpdated.push(v3.meta?.lastUpdated as string);
    await pause();
    await remove(`Patient/${id}`);
  });

  test('lists every version newest first, the delete as an entry without a resource', async () => {
    const bundle = historyBundle(await get(`/Patient/${id}/_history`));
    expect(bundle.total).toBe(4);
    expect(bundle.entry?.map(versionOf)).toEqual([4, 3, 2, 1]);
    expectNewestFirst(bundle);
    for (const e of bundle.entry ?? []) expect(e.fullUrl).toBe(`${BASE_URL}/Patient/${id}`);

    const [deleted, second, first, created] = bundle.entry as BundleEntry[];
    expect(deleted.resource).toBeUndefined();
    expect(deleted.request).toEqual({ method: 'DELETE', url: `Patient/${id}` });
    expect(deleted.response?.status).toBe('204 No Content');
    expect(deleted.response?.etag).toBe('W/"4"');
    expect(Date.parse(deleted.response?.lastModified ?? '')).toBeGreaterThan(Date.parse(lastUpdated[2]));

    expect(second.request).toEqual({ method: 'PUT', url: `Patient/${id}` });
    expect(second.response?.status).toBe('200 OK');
    expect((second.resource as Patient).birthDate).toBe('1981-03-04');
    expect((second.resource as Patient).meta?.versionId).toBe('3');
    expect(second.response?.lastModified).toBe(lastUpdated[2]);

    expect(first.request?.method).toBe('PUT');
    expect((first.resource as Patient).gender).toBe('male');
    expect((first.resource as Patient).meta?.versionId).toBe('2');

    expect(created.request).toEqual({ method: 'POST', url: 'Patient' });
    expect(created.response?.status).toBe('201 Created');
    expect((created.resource as Patient).gender).toBe('female');
    expect((created.resource as Patient).meta?.lastUpdated).toBe(lastUpdated[0]);
    expect(created.response?.lastModified).toBe(lastUpdated[0]);
  });

  test('the self link names the history URL', async () => {
    const bundle = historyBundle(await get(`/Patient/${id}/_history`));
    expect(linkOf(bundle, 'self')).toBe(`${BASE_URL}/Patient/${id}/_history`);
    expect(linkOf(bundle, 'next')).toBeUndefined();
    expect(linkOf(bundle, 'previous')).toBeUndefined();
  });

  test('vread returns an old version with its ETag and Last-Modified', async () => {
    const res = await get(`/Patient/${id}/_history/2`);
    expect(res.status).toBe(200);
    const body = res.body as Patient;
    expect(body.id).toBe(id);
    expect(body.meta?.versionId).toBe('2');
    expect(body.meta?.lastUpdated).toBe(lastUpdated[1]);
    expect(body.gender).toBe('male');
    expect(body.birthDate).toBe('1980-02-03');
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.headers['last-modified']).toBe(new Date(lastUpdated[1]).toUTCString());
  });

  test('read of the deleted resource is 410 Gone, vread of its deletion version is 410 Gone', async () => {
    expectOutcome(await get(`/Patient/${id}`), 410);
    const outcome = expectOutcome(await get(`/Patient/${id}/_history/4`), 410);
    expect(outcome.issue?.[0].code).toBe('deleted');
  });

  test('vread of a version that does not exist is 404', async () => {
    for (const version of ['5', '99', '0', 'abc']) {
      const outcome = expectOutcome(await get(`/Patient/${id}/_history/${version}`), 404);
      expect(outcome.issue?.[0].code).toBe('not-found');
    }
    expectOutcome(await get('/Patient/never-existed/_history/1'), 404);
  });

  test('_count pages the instance history, each page keeping the total', async () => {
    const first = historyBundle(await get(`/Patient/${id}/_history`, { _count: '1' }));
    const pages = await followNext(first);
    expect(pages).toHaveLength(4);
    expect(pages.flatMap((p) => p.entry?.map(versionOf) ?? [])).toEqual([4, 3, 2, 1]);
    for (const page of pages) expect(page.total).toBe(4);
  });

  test('_since keeps only the versions made at or after the instant', async () => {
    const bundle = historyBundle(await get(`/Patient/${id}/_history`, { _since: lastUpdated[1] }));
    expect(bundle.entry?.map(versionOf)).toEqual([4, 3, 2]);
    const later = historyBundle(await get(`/Patient/${id}/_history`, { _since: '2999-01-01T00:00:00Z' }));
    expect(later.entry ?? []).toHaveLength(0);
    const all = historyBundle(await get(`/Patient/${id}/_history`, { _since: '2000-01-01T00:00:00Z' }));
    expect(all.entry?.map(versionOf)).toEqual([4, 3, 2, 1]);
  });

  test('_at with an instant gives the version current at that instant', async () => {
    const atFirst = historyBundle(await get(`/Patient/${id}/_history`, { _at: lastUpdated[0] }));
    expect(atFirst.entry?.map(versionOf)).toEqual([1]);
    const atSecond = historyBundle(await get(`/Patient/${id}/_history`, { _at: lastUpdated[1] }));
    expect(atSecond.entry?.map(versionOf)).toEqual([2]);
    const before = historyBundle(await get(`/Patient/${id}/_history`, { _at: '2000-01-01T00:00:00Z' }));
    expect(before.entry ?? []).toHaveLength(0);
  });

  // R4: _at = "Only include resource versions that were current at some point during the time period specified
  // in the date time value": v1 was current during the day it was created.
  test('_at with a date includes every version current at some point during that day', async () => {
    const day = lastUpdated[0].slice(0, 10);
    const bundle = historyBundle(await get(`/Patient/${id}/_history`, { _at: day }));
    expect(bundle.entry?.map(versionOf)).toContain(1);
  });
});

describe('type and system history', () => {
  let first: Organization;
  let second: Organization;
  let patientId: string;

  beforeAll(async () => {
    first = await create<Organization>({ resourceType: 'Organization', name: 'History Clinic A' });
    await pause();
    patientId = (await create(patient() as unknown as Patient)).id as string;
    await pause();
    first = await update<Organization>({ ...first, name: 'History Clinic A (renamed)' });
    await pause();
    second = await create<Organization>({ resourceType: 'Organization', name: 'History Clinic B' });
  });

  test('type history lists the versions of that type only, newest first', async () => {
    const bundle = historyBundle(await get('/Organization/_history'));
    expect(bundle.entry?.every((e) => entryReference(e).startsWith('Organization/'))).toBe(true);
    expect(bundle.entry?.every((e) => e.resource === undefined || e.resource.resourceType === 'Organization')).toBe(
      true,
    );
    expectNewestFirst(bundle);
    const keys = versionKeys(bundle);
    const ours = keys.filter(
      (k) => k.startsWith(`Organization/${first.id}/`) || k.startsWith(`Organization/${second.id}/`),
    );
    expect(ours).toEqual([`Organization/${second.id}/1`, `Organization/${first.id}/2`, `Organization/${first.id}/1`]);
    expect(linkOf(bundle, 'self')).toBe(`${BASE_URL}/Organization/_history`);
  });

  test('system history lists the versions of every type, newest first', async () => {
    const bundle = historyBundle(await get('/_history', { _count: '1000' }));
    expectNewestFirst(bundle);
    const keys = versionKeys(bundle);
    const expected = [
      `Organization/${second.id}/1`,
      `Organization/${first.id}/2`,
      `Patient/${patientId}/1`,
      `Organization/${first.id}/1`,
    ];
    expect(keys.filter((k) => expected.includes(k))).toEqual(expected);
    expect(bundle.entry?.some((e) => e.resource?.resourceType === 'Patient')).toBe(true);
    expect(bundle.entry?.some((e) => e.resource?.resourceType === 'Organization')).toBe(true);
  });

  test('the newest write is the first entry of the system history', async () => {
    const newest = await create<Organization>({ resourceType: 'Organization', name: 'History Clinic C' });
    const bundle = historyBundle(await get('/_history', { _count: '1' }));
    expect(versionKeys(bundle)).toEqual([`Organization/${newest.id}/1`]);
    expect(linkOf(bundle, 'next')).toBeDefined();
  });
});

describe('paging with _count and _cursor', () => {
  const created: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const location = await create<Resource>({ resourceType: 'Location', name: `Ward ${i}` } as Resource);
      created.push(location.id as string);
    }
    for (const id of created.slice(0, 3)) {
      await update<Resource>({ resourceType: 'Location', id, name: `Ward ${id} (moved)` } as Resource);
    }
  });

  test('next links walk every version exactly once, in the order of the unpaged history', async () => {
    const unpaged = versionKeys(historyBundle(await get('/Location/_history', { _count: '100' })));
    expect(unpaged).toHaveLength(8);

    const firstPage = historyBundle(await get('/Location/_history', { _count: '3' }));
    expect(linkOf(firstPage, 'previous')).toBeUndefined();
    const pages = await followNext(firstPage);
    expect(pages.map((p) => p.entry?.length ?? 0)).toEqual([3, 3, 2]);
    for (const page of pages.slice(0, -1)) {
      const next = new URL(linkOf(page, 'next') as string);
      expect(next.pathname).toBe('/fhir/Location/_history');
      expect(next.searchParams.get('_count')).toBe('3');
      expect(next.searchParams.get('_cursor')).toBeTruthy();
    }
    expect(linkOf(pages[pages.length - 1], 'next')).toBeUndefined();
    const walked = pages.flatMap(versionKeys);
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).toEqual(unpaged);
  });

  test('previous links walk back to the first page with the same pages', async () => {
    const forward = await followNext(historyBundle(await get('/Location/_history', { _count: '3' })));
    const backward = [forward[forward.length - 1]];
    for (let previous = linkOf(backward[0], 'previous'); previous; previous = linkOf(backward[0], 'previous')) {
      backward.unshift(historyBundle(await get(previous)));
      expect(backward.length).toBeLessThan(50);
    }
    expect(backward.map(versionKeys)).toEqual(forward.map(versionKeys));
    expect(linkOf(backward[0], 'previous')).toBeUndefined();
  });

  test('writes made while paging neither repeat nor skip versions of the pages still to come', async () => {
    const before = versionKeys(historyBundle(await get('/Location/_history', { _count: '100' })));
    const firstPage = historyBundle(await get('/Location/_history', { _count: '3' }));
    await update<Resource>({ resourceType: 'Location', id: created[4], name: 'Ward moved while paging' } as Resource);
    const pages = await followNext(firstPage);
    const walked = pages.flatMap(versionKeys);
    expect(walked).toEqual(before);
  });

  test('_since is kept in the next links and applies to every page', async () => {
    const all = historyBundle(await get('/Location/_history', { _count: '100' }));
    const oldestKept = all.entry?.[4].response?.lastModified as string;
    const expected = versionKeys(all).filter(
      (_, i) => Date.parse(all.entry?.[i].response?.lastModified ?? '') >= Date.parse(oldestKept),
    );
    const firstPage = historyBundle(await get('/Location/_history', { _count: '2', _since: oldestKept }));
    const pages = await followNext(firstPage);
    for (const page of pages.slice(0, -1)) {
      expect(new URL(linkOf(page, 'next') as string).searchParams.get('_since')).toBe(oldestKept);
    }
    expect(pages.flatMap(versionKeys)).toEqual(expected);
  });

  test('a tampered cursor is a 400', async () => {
    expectOutcome(await get('/Location/_history', { _cursor: 'not-a-cursor' }), 400);
    expectOutcome(await get('/Location/_history', { _cursor: Buffer.from('["n",[],"x"]').toString('base64url') }), 400);
  });
});

describe('invalid history requests', () => {
  test('an unknown parameter is a 400 naming it', async () => {
    const outcome = expectOutcome(await get('/_history', { _elements: 'id' }), 400);
    expect(outcome.issue?.[0].expression).toEqual(['_elements']);
    expectOutcome(await get('/Patient/_history', { name: 'Smith' }), 400);
  });

  test('an invalid _since or _at is a 400', async () => {
    for (const value of ['yesterday', '2026-02-30', '2026-13-01T00:00:00Z', '']) {
      const outcome = expectOutcome(await get('/_history', { _since: value }), 400);
      expect(outcome.issue?.[0].expression).toEqual(['_since']);
    }
    expectOutcome(await get('/Patient/_history', { _at: 'soon' }), 400);
  });

  test('an invalid _count is a 400', async () => {
    for (const value of ['-1', 'ten', '1.5']) {
      expectOutcome(await get('/_history', { _count: value }), 400);
    }
  });

  test('history of an unknown resource type is a 404', async () => {
    const outcome = expectOutcome(await get('/NoSuchType/_history'), 404);
    expect(outcome.issue?.[0].code).toBe('not-found');
    expectOutcome(await get('/NoSuchType/1/_history'), 404);
    expectOutcome(await get('/NoSuchType/1/_history/1'), 404);
  });

  test('writing to a history URL is a 405', async () => {
    const res = await testApp.api().post('/fhir/Patient/_history').set('Content-Type', FHIR_JSON).send(patient());
    expectOutcome(res, 405);
  });
});

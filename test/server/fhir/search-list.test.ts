// `_list=[List id]` (R4 search.html#list): the resources of the searched type that the List's entries refer to
// (List.entry.item), narrowed further by any other parameter; a List that does not exist matches nothing.
import { observation, patient, putThroughApi, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;

const list = (id: string, items: string[]) => ({
  resourceType: 'List',
  id,
  status: 'current',
  mode: 'working',
  ...(items.length > 0 ? { entry: items.map((reference) => ({ item: { reference } })) } : {}),
});

beforeAll(async () => {
  t = await startTestApp();
  await putThroughApi(t, patient({ id: 'anna' }));
  await putThroughApi(t, patient({ id: 'bob', name: [{ family: 'Jones' }], gender: 'male' }));
  await putThroughApi(t, patient({ id: 'cara', name: [{ family: 'Smithson' }] }));
  await putThroughApi(t, { ...observation('Patient/anna'), id: 'obs-anna' });
  await putThroughApi(t, list('ward-a', ['Patient/anna', 'Patient/bob', 'Observation/obs-anna', 'Patient/gone']));
  await putThroughApi(t, list('ward-b', ['Patient/cara']));
  await putThroughApi(t, list('empty', []));
  await putThroughApi(t, list('deleted', ['Patient/cara']));
  await t
    .api()
    .delete('/fhir/List/deleted')
    .expect((res) => expect([200, 204]).toContain(res.status));
});
afterAll(() => t.close());

type Bundle = { total?: number; entry?: { resource: { id: string }; search: { mode: string } }[] };

const found = async (query: string) => {
  const res = await t.api().get(`/fhir/${query}`).set('Prefer', 'handling=strict');
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => e.resource.id)
    .sort();
};

test('the items of the searched type that the List refers to', async () => {
  expect(await found('Patient?_list=ward-a')).toEqual(['anna', 'bob']);
  expect(await found('Observation?_list=ward-a')).toEqual(['obs-anna']);
  expect(await found('Patient?_list=ward-b')).toEqual(['cara']);
});

test('other parameters narrow it; several lists are alternatives, repeated _list all apply', async () => {
  expect(await found('Patient?_list=ward-a&gender=male')).toEqual(['bob']);
  expect(await found('Patient?_list=ward-a&name=smith')).toEqual(['anna']);
  expect(await found('Patient?_list=ward-a,ward-b')).toEqual(['anna', 'bob', 'cara']);
  expect(await found('Patient?_list=ward-a&_list=ward-b')).toEqual([]);
  expect(await found('Patient?_list=ward-a&_sort=-family')).toEqual(['anna', 'bob']);
});

test('an unknown, empty or deleted List matches nothing (not a 404)', async () => {
  expect(await found('Patient?_list=nope')).toEqual([]);
  expect(await found('Patient?_list=empty')).toEqual([]);
  expect(await found('Patient?_list=deleted')).toEqual([]);
});

test('the self link keeps _list, and the total counts the list members', async () => {
  const res = await t.api().get('/fhir/Patient?_list=ward-a&_total=accurate');
  expect((res.body as Bundle).total).toBe(2);
  const self = (res.body as { link: { relation: string; url: string }[] }).link.find((l) => l.relation === 'self');
  expect(self?.url).toContain('_list=ward-a');
});

test('functional lists and malformed ids are a 400', async () => {
  for (const value of ['$current-problems', 'a b', 'x'.repeat(65)]) {
    const res = await t.api().get(`/fhir/Patient?_list=${encodeURIComponent(value)}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/not a List id/);
  }
});

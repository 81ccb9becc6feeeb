// Search at the REST level: _id, _lastUpdated, _count with keyset paging, type/system/POST search,
// unknown parameters (lenient: reported; strict: 400) and the limits.
import { FHIR_JSON, observation, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
const ids: string[] = [];
let middle = '';

beforeAll(async () => {
  t = await startTestApp();
  for (let i = 0; i < 25; i++) {
    const res = await t
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ identifier: [{ system: 'urn:s', value: `v${i}` }] }));
    ids.push(res.body.id);
    if (i === 12) {
      await new Promise((r) => setTimeout(r, 5));
      middle = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  await t
    .api()
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send(observation(`Patient/${ids[0]}`))
    .expect(201);
});
afterAll(() => t.close());

type Bundle = {
  total?: number;
  entry?: { resource: { id: string; resourceType: string }; search: { mode: string } }[];
  link: { relation: string; url: string }[];
};

const relative = (url: string) => url.replace('http://localhost:8080', '');
const matches = (b: Bundle) => (b.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource.id);

test('_id with one and several values', async () => {
  const one = (await t.api().get(`/fhir/Patient?_id=${ids[3]}`)).body as Bundle;
  expect(matches(one)).toEqual([ids[3]]);
  const several = (await t.api().get(`/fhir/Patient?_id=${ids[1]},${ids[2]}`)).body as Bundle;
  expect(new Set(matches(several))).toEqual(new Set([ids[1], ids[2]]));
  expect(several.total).toBe(2);
});

test('_lastUpdated with prefixes splits the data at an instant', async () => {
  const before = (await t.api().get(`/fhir/Patient?_lastUpdated=lt${middle}&_count=100`)).body as Bundle;
  const after = (await t.api().get(`/fhir/Patient?_lastUpdated=ge${middle}&_count=100`)).body as Bundle;
  expect(before.total).toBe(13);
  expect(after.total).toBe(12);
  expect((await t.api().get('/fhir/Patient?_lastUpdated=2001-01-01')).body.total).toBe(0);
  expect((await t.api().get('/fhir/Patient?_lastUpdated=notadate')).status).toBe(400);
});

test('paging with _count follows next and previous links over every match exactly once', async () => {
  const seen: string[] = [];
  let url: string | undefined = '/fhir/Patient?_count=10';
  const pages: Bundle[] = [];
  while (url) {
    const page = (await t.api().get(url).expect(200)).body as Bundle;
    pages.push(page);
    seen.push(...matches(page));
    const next = page.link.find((l) => l.relation === 'next');
    url = next && relative(next.url);
  }
  expect(pages).toHaveLength(3);
  expect(seen).toEqual(ids);
  const previous = pages[2].link.find((l) => l.relation === 'previous');
  const back = (await t.api().get(relative(previous!.url))).body as Bundle;
  expect(matches(back)).toEqual(ids.slice(10, 20));
  expect(pages[0].link.find((l) => l.relation === 'previous')).toBeUndefined();
});

test('paging stays correct while others write', async () => {
  const first = (await t.api().get('/fhir/Patient?_count=5&_sort=_lastUpdated')).body as Bundle;
  await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient()).expect(201);
  const next = first.link.find((l) => l.relation === 'next')!;
  const second = (await t.api().get(relative(next.url))).body as Bundle;
  expect(matches(second)).toEqual(ids.slice(5, 10));
});

test('_sort by _lastUpdated descending, and by _id', async () => {
  const newest = (await t.api().get('/fhir/Patient?_sort=-_lastUpdated&_count=3')).body as Bundle;
  expect(matches(newest)[0]).not.toBe(ids[0]);
  const byId = (await t.api().get('/fhir/Patient?_sort=_id&_count=100')).body as Bundle;
  const sorted = [...matches(byId)].sort();
  expect(matches(byId)).toEqual(sorted);
  expect((await t.api().get('/fhir/Patient?_sort=nonsense')).status).toBe(400);
});

test('_count bounds: 0 gives only the total, above the maximum is lowered and said', async () => {
  const zero = (await t.api().get('/fhir/Patient?_count=0')).body as Bundle;
  expect(zero.total).toBeGreaterThanOrEqual(25);
  expect(matches(zero)).toEqual([]);
  const huge = (await t.api().get('/fhir/Patient?_count=5000')).body as Bundle;
  const outcome = huge.entry!.find((e) => e.search.mode === 'outcome');
  expect(JSON.stringify(outcome)).toMatch(/lowered to the maximum, 1000/);
  expect((await t.api().get('/fhir/Patient?_count=-1')).status).toBe(400);
  expect((await t.api().get('/fhir/Patient?_count=abc')).status).toBe(400);
});

test('the total: counted when asked, free when one page holds every match, else left out', async () => {
  const total = async (query: string) => ((await t.api().get(`/fhir/Patient?${query}`)).body as Bundle).total;
  const all = (await total('_total=accurate')) as number;
  expect(all).toBeGreaterThan(3);
  expect(await total('_total=estimate')).toBe(all);
  expect(await total('_count=2')).toBeUndefined();
  expect(await total(`_count=${all}`)).toBe(all);
  expect(await total('_count=0')).toBe(all);
  expect(await total('_summary=count&_total=none')).toBe(all);
  expect(await total('_total=none')).toBeUndefined();
  expect(await total(`_count=${all}&_total=none`)).toBeUndefined();
  expect((await t.api().get('/fhir/Patient?_total=maybe')).status).toBe(400);
});

test('unknown parameters: reported and left out of self when lenient, 400 when strict', async () => {
  const lenient = (await t.api().get('/fhir/Patient?nonsense=1&_id=' + ids[0])).body as Bundle;
  expect(matches(lenient)).toEqual([ids[0]]);
  const self = lenient.link.find((l) => l.relation === 'self')!.url;
  expect(self).not.toMatch(/nonsense/);
  const outcome = lenient.entry!.find((e) => e.search.mode === 'outcome')!;
  expect(JSON.stringify(outcome.resource)).toMatch(/nonsense was ignored/);
  const strict = await t.api().get('/fhir/Patient?nonsense=1').set('Prefer', 'handling=strict');
  expect(strict.status).toBe(400);
  expect(strict.body.issue[0].diagnostics).toMatch(/nonsense/);
});

test('POST _search with a form body equals GET', async () => {
  const res = await t.api().post('/fhir/Patient/_search').type('form').send({ _id: ids[4] });
  expect(res.status).toBe(200);
  expect(matches(res.body)).toEqual([ids[4]]);
  const json = await t.api().post('/fhir/Patient/_search').set('Content-Type', FHIR_JSON).send({ _id: ids[4] });
  expect(json.status).toBe(415);
});

test('system search with _type, and over all types', async () => {
  const both = (await t.api().get('/fhir?_type=Patient,Observation&_count=100')).body as Bundle;
  expect(new Set(both.entry!.map((e) => e.resource.resourceType))).toEqual(new Set(['Patient', 'Observation']));
  const all = (await t.api().get('/fhir?_count=0')).body as Bundle;
  expect(all.total).toBe(both.total);
  expect((await t.api().get('/fhir?_type=Nope')).status).toBe(400);
});

test('limits: too many parameters or OR values are 400 too-costly', async () => {
  const many = Array.from({ length: 70 }, (_, i) => `_id=a${i}`).join('&');
  const res = await t.api().get(`/fhir/Patient?${many}`);
  expect(res.status).toBe(400);
  expect(res.body.issue[0].code).toBe('too-costly');
  const values = Array.from({ length: 150 }, (_, i) => `a${i}`).join(',');
  expect((await t.api().get(`/fhir/Patient?_id=${values}`)).body.issue[0].code).toBe('too-costly');
});

test('a tampered cursor is 400', async () => {
  expect((await t.api().get('/fhir/Patient?_cursor=garbage')).status).toBe(400);
  const forged = Buffer.from(JSON.stringify(['n', ['x'], 1])).toString('base64url');
  expect((await t.api().get(`/fhir/Patient?_cursor=${forged}`)).status).toBe(400);
});

test('token search by identifier', async () => {
  const res = (await t.api().get('/fhir/Patient?identifier=urn:s|v7')).body as Bundle;
  expect(matches(res)).toEqual([ids[7]]);
});

test('a reference search value on this server base stands for the local reference, in chains too', async () => {
  const own = `http://localhost:8080/fhir/Patient/${ids[0]}`;
  expect(matches((await t.api().get(`/fhir/Observation?subject=${encodeURIComponent(own)}`)).body)).toHaveLength(1);
  expect(matches((await t.api().get(`/fhir/Observation?subject=${own}/_history/1`)).body)).toHaveLength(1);
  const chained = `/fhir/Observation?subject:Patient._has:Observation:subject:subject=${own}`;
  expect(matches((await t.api().get(chained)).body)).toHaveLength(1);
  // Another server's absolute URL stays a URL: nothing here refers to it.
  const foreign = `https://elsewhere.example/fhir/Patient/${ids[0]}`;
  expect(matches((await t.api().get(`/fhir/Observation?subject=${foreign}`)).body)).toEqual([]);
});

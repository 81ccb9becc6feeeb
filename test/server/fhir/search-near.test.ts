// Location `near=[latitude]|[longitude]|[distance]|[units]`: Locations whose position lies within the
// great-circle distance of the point (km by default, m and mi too); the bounding box never decides alone.
import { distanceKm } from '../../../resources/search/types/position';
import { FHIR_JSON, putThroughApi, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;

const AMSTERDAM = [52.3676, 4.9041] as const;
const PLACES: Record<string, readonly [number, number]> = {
  amsterdam: AMSTERDAM,
  utrecht: [52.0907, 5.1214],
  london: [51.5074, -0.1278],
  // Inside the 40 km box around Amsterdam (0.3° north, 0.5° east) but about 47 km away.
  corner: [52.6676, 5.4041],
  suva: [-18.1416, 178.4419],
  // Across the antimeridian from Suva.
  taveuni: [-16.85, -179.95],
  'north-pole': [89.9, 0],
};

beforeAll(async () => {
  t = await startTestApp();
  for (const [id, [latitude, longitude]] of Object.entries(PLACES)) {
    await putThroughApi(t, { resourceType: 'Location', id, name: id, position: { latitude, longitude } });
  }
  await putThroughApi(t, { resourceType: 'Location', id: 'nowhere', name: 'no position' });
  await putThroughApi(t, {
    resourceType: 'Encounter',
    id: 'e-utrecht',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    location: [{ location: { reference: 'Location/utrecht' } }],
  });
});
afterAll(() => t.close());

type Bundle = { entry?: { resource: { id: string }; search: { mode: string } }[] };

const get = (query: string) => t.api().get(`/fhir/${query}`).set('Prefer', 'handling=strict');
const found = async (query: string) => {
  const res = await get(query);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => e.resource.id)
    .sort();
};
const near = (distance: string) => `Location?near=${AMSTERDAM[0]}|${AMSTERDAM[1]}|${distance}`;

test('the fixture distances are what the test assumes', () => {
  const from = (id: string) => distanceKm(AMSTERDAM[0], AMSTERDAM[1], ...PLACES[id]);
  expect(from('utrecht')).toBeGreaterThan(30);
  expect(from('utrecht')).toBeLessThan(40);
  expect(from('corner')).toBeGreaterThan(40);
  expect(from('corner')).toBeLessThan(50);
  expect(from('london')).toBeGreaterThan(300);
  expect(from('london')).toBeLessThan(400);
});

test('within the distance in km, great-circle: a point in the box corner is not near', async () => {
  expect(await found(near('10|km'))).toEqual(['amsterdam']);
  expect(await found(near('40|km'))).toEqual(['amsterdam', 'utrecht']);
  expect(await found(near('50|km'))).toEqual(['amsterdam', 'corner', 'utrecht']);
  expect(await found(near('400|km'))).toEqual(['amsterdam', 'corner', 'london', 'utrecht']);
});

test('units: km when none is given, m and mi', async () => {
  expect(await found(near('40'))).toEqual(['amsterdam', 'utrecht']);
  expect(await found(near('40000|m'))).toEqual(['amsterdam', 'utrecht']);
  expect(await found(near('25|mi'))).toEqual(['amsterdam', 'utrecht']);
  expect(await found(near('20|mi'))).toEqual(['amsterdam']);
  expect(await found(near('25|[mi_i]'))).toEqual(['amsterdam', 'utrecht']);
  // No distance: the server's default (10 km).
  expect(await found(`Location?near=${AMSTERDAM[0]}|${AMSTERDAM[1]}`)).toEqual(['amsterdam']);
});

test('across the antimeridian and near a pole', async () => {
  expect(await found('Location?near=-17.5|179.9|300')).toEqual(['suva', 'taveuni']);
  expect(await found('Location?near=89.5|120|100')).toEqual(['north-pole']);
});

test('several points are alternatives; near combines with other parameters and chains', async () => {
  expect(await found(`${near('1')},-18.14|178.44|5`)).toEqual(['amsterdam', 'suva']);
  expect(await found(`${near('40')}&name=utrecht`)).toEqual(['utrecht']);
  expect(await found(`${near('40')}&_sort=name`)).toEqual(['amsterdam', 'utrecht']);
  expect(await found(`Encounter?location.near=${AMSTERDAM[0]}|${AMSTERDAM[1]}|40`)).toEqual(['e-utrecht']);
  expect(await found(`Encounter?location.near=${AMSTERDAM[0]}|${AMSTERDAM[1]}|20`)).toEqual([]);
});

test('a Location without a position is never near', async () => {
  expect(await found('Location?near=0|0|20000')).not.toContain('nowhere');
  expect(await found('Location?near=0|0|20000')).toHaveLength(Object.keys(PLACES).length);
});

test.each([
  ['52.1', /two to four parts/],
  ['91|0|1', /latitude/],
  ['0|181|1', /longitude/],
  ['x|0|1', /latitude/],
  ['0|0|-1', /positive/],
  ['0|0|0', /positive/],
  ['0|0|1|furlong', /units/],
  ['0|0|1|km|x', /two to four parts/],
])('near=%s is a 400', async (value, diagnostics) => {
  const res = await get(`Location?near=${encodeURIComponent(value)}`);
  expect(res.status).toBe(400);
  expect(res.body.issue[0].diagnostics).toMatch(diagnostics);
});

test('a Location stored before positions were indexed is found after $reindex', async () => {
  // As a version written by an earlier server: the resource, without the near entries.
  const json = {
    resourceType: 'Location',
    id: 'old-haarlem',
    meta: { versionId: '1' },
    position: { latitude: 52.3874, longitude: 4.6462 },
  };
  await t.services.store.transaction(async (tx) =>
    tx.writeVersion({
      resourceType: 'Location',
      id: 'old-haarlem',
      versionId: 1,
      lastUpdated: Date.now(),
      deleted: false,
      method: 'PUT',
      json: JSON.stringify(json),
      index: [],
    }),
  );
  expect(await found(near('30'))).toEqual(['amsterdam']);
  const started = await t.api().post('/fhir/Location/$reindex').set('Content-Type', FHIR_JSON).send({});
  expect(started.status).toBe(202);
  const task = new URL(started.headers['content-location'] ?? started.headers.location).pathname;
  for (let i = 0; i < 500; i++) {
    if ((await t.api().get(task)).body.status !== 'in-progress') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect((await t.api().get(task)).body.status).toBe('completed');
  expect(await found(near('30'))).toEqual(['amsterdam', 'old-haarlem']);
});

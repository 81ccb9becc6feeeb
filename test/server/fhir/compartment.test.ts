// Compartment search at the REST level: GET [base]/Patient/[id]/[type] (and the Encounter and Practitioner
// compartments) returns exactly the type's resources in that compartment, with paging; unknown compartments
// are a 404 and types outside the compartment a 400.
import { createThroughApi, observation, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
const id: Record<string, string> = {};

type Bundle = {
  total?: number;
  entry?: { resource: { id: string; resourceType: string }; search: { mode: string } }[];
  link: { relation: string; url: string }[];
};

async function create(name: string, resource: Record<string, unknown>): Promise<void> {
  id[name] = await createThroughApi(t, resource);
}

async function ids(url: string): Promise<string[]> {
  const res = await t.api().get(url);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .map((e) => `${e.search.mode} ${e.resource.resourceType}/${e.resource.id}`)
    .sort();
}

const encounter = (subject: string) => ({
  resourceType: 'Encounter',
  status: 'finished',
  class: { code: 'AMB' },
  subject: { reference: subject },
});

beforeAll(async () => {
  t = await startTestApp();
  await create('pr', { resourceType: 'Practitioner', name: [{ family: 'House' }] });
  await create('p1', patient());
  await create('p2', patient());
  await create('e1', encounter(`Patient/${id.p1}`));
  await create('e2', encounter(`Patient/${id.p1}`));
  await create('e3', encounter(`Patient/${id.p2}`));
  await create('o1', observation(`Patient/${id.p1}`, { encounter: { reference: `Encounter/${id.e1}` } }));
  // In p1's compartment through performer only.
  await create('o2', observation(`Patient/${id.p2}`, { performer: [{ reference: `Patient/${id.p1}` }] }));
  await create('o3', observation(`Patient/${id.p2}`, { performer: [{ reference: `Practitioner/${id.pr}` }] }));
  await create('linked', patient({ link: [{ other: { reference: `Patient/${id.p1}` }, type: 'seealso' }] }));
});
afterAll(() => t.close());

test('Patient compartment: every parameter of the compartment definition counts', async () => {
  expect(await ids(`/fhir/Patient/${id.p1}/Observation`)).toEqual(
    [`match Observation/${id.o1}`, `match Observation/${id.o2}`].sort(),
  );
  expect(await ids(`/fhir/Patient/${id.p2}/Observation`)).toEqual(
    [`match Observation/${id.o2}`, `match Observation/${id.o3}`].sort(),
  );
  expect(await ids(`/fhir/Patient/${id.p1}/Encounter`)).toEqual(
    [`match Encounter/${id.e1}`, `match Encounter/${id.e2}`].sort(),
  );
});

test('the compartment patient itself and patients linking to it are in the compartment', async () => {
  expect(await ids(`/fhir/Patient/${id.p1}/Patient`)).toEqual(
    [`match Patient/${id.p1}`, `match Patient/${id.linked}`].sort(),
  );
});

test('other parameters still filter, and _include works', async () => {
  expect(await ids(`/fhir/Patient/${id.p1}/Observation?encounter=Encounter/${id.e1}`)).toEqual([
    `match Observation/${id.o1}`,
  ]);
  expect(await ids(`/fhir/Patient/${id.p1}/Observation?_id=${id.o2}&_include=Observation:subject`)).toEqual(
    [`include Patient/${id.p2}`, `match Observation/${id.o2}`].sort(),
  );
});

test('pages through the compartment with links on the compartment path', async () => {
  const first = (await t.api().get(`/fhir/Patient/${id.p1}/Encounter?_count=1&_total=accurate`)).body as Bundle;
  expect(first.total).toBe(2);
  const next = first.link.find((l) => l.relation === 'next')?.url ?? '';
  expect(next).toMatch(new RegExp(`/fhir/Patient/${id.p1}/Encounter\\?_count=1&_total=accurate&_cursor=`));
  expect(first.link.find((l) => l.relation === 'self')?.url).toBe(
    `http://localhost:8080/fhir/Patient/${id.p1}/Encounter?_count=1&_total=accurate`,
  );
  const second = (await t.api().get(next.replace('http://localhost:8080', ''))).body as Bundle;
  const seen = [...(first.entry ?? []), ...(second.entry ?? [])].map((e) => e.resource.id).sort();
  expect(seen).toEqual([id.e1, id.e2].sort());
});

test('Encounter and Practitioner compartments', async () => {
  expect(await ids(`/fhir/Encounter/${id.e1}/Observation`)).toEqual([`match Observation/${id.o1}`]);
  expect(await ids(`/fhir/Practitioner/${id.pr}/Observation`)).toEqual([`match Observation/${id.o3}`]);
  expect(await ids(`/fhir/Patient/unknown-patient/Observation`)).toEqual([]);
});

test('errors: unknown compartment 404, type outside the compartment 400, unknown type 404', async () => {
  expect((await t.api().get(`/fhir/Organization/x/Observation`)).status).toBe(404);
  const outside = await t.api().get(`/fhir/Patient/${id.p1}/Organization`);
  expect(outside.status).toBe(400);
  expect(outside.body.resourceType).toBe('OperationOutcome');
  expect((await t.api().get(`/fhir/Patient/${id.p1}/Nonsense`)).status).toBe(404);
  expect((await t.api().get(`/fhir/Patient/${id.p1}/Observation?_summary=maybe`)).status).toBe(400);
});

test('_summary=count in a compartment', async () => {
  const res = await t.api().get(`/fhir/Patient/${id.p1}/Observation?_summary=count`);
  expect(res.body.total).toBe(2);
  expect(res.body.entry).toBeUndefined();
});

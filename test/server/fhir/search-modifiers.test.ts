// What a search refuses whatever the Prefer handling: a modifier the parameter does not support (R4
// search.html#modifiers: servers SHALL reject it with 400) and a known parameter without a value. Unknown
// parameters stay lenient: ignored and reported, 400 only under handling=strict.
import { patient, putThroughApi, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await putThroughApi(t, patient({ id: 'anna' }));
});
afterAll(() => t.close());

const get = (query: string, handling?: 'strict' | 'lenient') => {
  const req = t.api().get(`/fhir/${query}`);
  if (handling) req.set('Prefer', `handling=${handling}`);
  return req;
};

const modes = [undefined, 'lenient', 'strict'] as const;

test.each([
  ['Patient?name:foo=x', /name:foo: modifier :foo is not supported/],
  ['Patient?gender:above=x', /modifier :above/],
  ['Patient?gender:in=http://x/vs', /modifier :in/],
  ['Patient?birthdate:exact=2000', /modifier :exact/],
  ['Patient?_id:exact=anna', /modifier :exact/],
  ['Patient?_lastUpdated:foo=2020', /modifier :foo/],
  ['Patient?general-practitioner:Medication=x', /Medication is not a type/],
  ['Patient?general-practitioner:above=x', /modifier :above/],
  ['Patient?_count:x=5', /modifier :x/],
  ['Patient?_sort:x=name', /modifier :x/],
  ['Patient?_summary:x=true', /modifier :x/],
  ['RiskAssessment?probability:missing=x', /must be true or false/],
  ['RiskAssessment?probability:text=1', /modifier :text/],
  ['Observation?value-quantity:exact=5', /modifier :exact/],
  ['ValueSet?url:contains=http://x', /modifier :contains/],
  ['Location?near:missing=true', /modifier :missing/],
  ['Patient?_list:not=l1', /modifier :not/],
])('%s is a 400 with an OperationOutcome in every handling mode', async (query, diagnostics) => {
  for (const handling of modes) {
    const res = await get(query, handling);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('invalid');
    expect(res.body.issue[0].diagnostics).toMatch(diagnostics);
  }
});

test('supported modifiers still apply', async () => {
  for (const query of [
    'Patient?name:exact=Smith',
    'Patient?name:contains=mit',
    'Patient?gender:not=male',
    'Patient?identifier:text=x',
    'Patient?general-practitioner:Practitioner=x',
    'Patient?birthdate:missing=false',
    'Patient?_id:not=x',
    'Patient?_id:missing=false',
    'Patient?_lastUpdated:missing=true',
    // Nothing has ever been indexed under near here: still a valid search, matching nothing.
    'Location?near=0|0|10',
  ]) {
    const res = await get(query, 'strict');
    expect(res.status).toBe(200);
  }
});

test(':missing applies to _id and _lastUpdated too: every resource has both', async () => {
  const ids = async (query: string) =>
    ((await get(query, 'strict')).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);
  for (const code of ['_id', '_lastUpdated']) {
    expect(await ids(`Patient?${code}:missing=false`)).toEqual(['anna']);
    expect(await ids(`Patient?${code}:missing=true`)).toEqual([]);
    expect((await get(`Patient?${code}:missing=maybe`)).status).toBe(400);
  }
});

test('an unknown parameter, modifier or not, is still ignored leniently and refused strictly', async () => {
  for (const query of ['Patient?nonsense=1', 'Patient?nonsense:foo=1', 'Patient?nonsense=']) {
    const lenient = await get(query, 'lenient');
    expect(lenient.status).toBe(200);
    expect(lenient.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual(['match', 'outcome']);
    expect((await get(query, 'strict')).status).toBe(400);
  }
});

test.each([
  'Patient?family=',
  'Patient?family=smith&given=',
  'Patient?gender=male,',
  'Patient?_id=',
  'Patient?_list=',
  'Patient?_cursor=',
  'Patient?_sort=',
  'Patient?_include=',
  'Patient?_revinclude=',
  'Patient?_elements=',
  'Patient?general-practitioner:Practitioner.name=',
  'Location?near=',
  'Patient?_has:Observation:patient:code=',
])('%s: a known parameter without a value is a 400 in every handling mode', async (query) => {
  for (const handling of modes) {
    const res = await get(query, handling);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toMatch(/empty value|must be|valid|not a sortable/);
  }
});

test('POST _search refuses an empty value as GET does', async () => {
  const res = await t
    .api()
    .post('/fhir/Patient/_search')
    .set('Content-Type', 'application/x-www-form-urlencoded')
    .set('Prefer', 'handling=lenient')
    .send('family=');
  expect(res.status).toBe(400);
  expect(res.body.issue[0].diagnostics).toMatch(/family has an empty value/);
});

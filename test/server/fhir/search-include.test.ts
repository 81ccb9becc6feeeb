// _include and _revinclude at the REST level: plain, with a target type, `*`, :iterate and :recurse, dedup,
// paging of matches only, the bound on included resources, unknown include parameters, and the
// CapabilityStatement's searchInclude / searchRevInclude.
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository } from '../../../resources/repository';
import { resolveIncludes } from '../../../resources/search/include';
import { emptyShaping } from '../../../resources/search/result-params';
import { createThroughApi, FHIR_JSON, observation, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
const id: Record<string, string> = {};

type Entry = {
  resource: { id: string; resourceType: string; issue?: { diagnostics: string }[] };
  search: { mode: string };
};
type Bundle = { total?: number; entry?: Entry[]; link: { relation: string; url: string }[] };

async function create(name: string, resource: Record<string, unknown>): Promise<void> {
  id[name] = await createThroughApi(t, resource);
}

async function search(url: string, prefer?: string): Promise<Bundle> {
  const req = t.api().get(url);
  if (prefer) req.set('Prefer', prefer);
  const res = await req;
  expect(res.status).toBe(200);
  return res.body as Bundle;
}

/** `mode Type/id` of every entry, in order. */
const entries = (b: Bundle) =>
  (b.entry ?? []).map((e) => `${e.search.mode} ${e.resource.resourceType}/${e.resource.id}`);
const sorted = (b: Bundle) => entries(b).sort();

beforeAll(async () => {
  t = await startTestApp();
  await create('org', { resourceType: 'Organization', name: 'General Hospital' });
  await create('pr', { resourceType: 'Practitioner', name: [{ family: 'House' }] });
  await create('p1', patient({ managingOrganization: { reference: `Organization/${id.org}` } }));
  await create('p2', patient({ generalPractitioner: [{ reference: `Practitioner/${id.pr}` }] }));
  await create('o1', observation(`Patient/${id.p1}`, { performer: [{ reference: `Practitioner/${id.pr}` }] }));
  await create('o2', observation(`Patient/${id.p1}`));
  await create('o3', observation(`Patient/${id.p2}`));
});
afterAll(() => t.close());

describe('_include', () => {
  test('follows the parameter of each match once, after the matches', async () => {
    const b = await search(`/fhir/Observation?subject=Patient/${id.p1}&_include=Observation:subject&_sort=_id`);
    const matches = [id.o1, id.o2].sort().map((o) => `match Observation/${o}`);
    expect(entries(b)).toEqual([...matches, `include Patient/${id.p1}`]);
    expect(b.total).toBe(2);
  });

  test('a target type restricts what is followed', async () => {
    const p = await search(`/fhir/Observation?_id=${id.o1}&_include=Observation:subject:Patient`);
    expect(entries(p)).toEqual([`match Observation/${id.o1}`, `include Patient/${id.p1}`]);
    const none = await search(`/fhir/Observation?_id=${id.o1}&_include=Observation:performer:Patient`);
    expect(entries(none)).toEqual([`match Observation/${id.o1}`]);
  });

  test('* follows every reference parameter of the source type', async () => {
    const b = await search(`/fhir/Observation?_id=${id.o1}&_include=Observation:*`);
    expect(sorted(b)).toEqual(
      [`include Patient/${id.p1}`, `include Practitioner/${id.pr}`, `match Observation/${id.o1}`].sort(),
    );
  });

  test(':iterate and :recurse follow from included resources; plain includes do not', async () => {
    const expected = [`include Organization/${id.org}`, `include Patient/${id.p1}`, `match Observation/${id.o2}`];
    for (const modifier of ['iterate', 'recurse']) {
      const url = `/fhir/Observation?_id=${id.o2}&_include=Observation:subject&_include:${modifier}=Patient:organization`;
      expect(sorted(await search(url))).toEqual(expected);
    }
    const plain = `/fhir/Observation?_id=${id.o2}&_include=Observation:subject&_include=Patient:organization`;
    expect(sorted(await search(plain))).toEqual([`include Patient/${id.p1}`, `match Observation/${id.o2}`]);
  });

  test('_count limits the matches, not the included resources', async () => {
    const b = await search(`/fhir/Observation?_count=1&_include=Observation:subject&_sort=_id`);
    expect((b.entry ?? []).filter((e) => e.search.mode === 'match')).toHaveLength(1);
    expect((b.entry ?? []).filter((e) => e.search.mode === 'include')).toHaveLength(1);
    const next = b.link.find((l) => l.relation === 'next')?.url ?? '';
    expect(next).toContain('_include=Observation%3Asubject');
  });
});

describe('_revinclude', () => {
  test('adds the resources that refer to the matches', async () => {
    const b = await search(`/fhir/Patient?_id=${id.p1}&_revinclude=Observation:subject`);
    expect(sorted(b)).toEqual(
      [`include Observation/${id.o1}`, `include Observation/${id.o2}`, `match Patient/${id.p1}`].sort(),
    );
  });

  test('with :iterate includes from revincluded resources, never repeating a match', async () => {
    const url =
      `/fhir/Patient?_id=${id.p1}&_revinclude=Observation:subject` +
      '&_include:iterate=Observation:performer&_include:iterate=Observation:subject';
    expect(sorted(await search(url))).toEqual(
      [
        `include Observation/${id.o1}`,
        `include Observation/${id.o2}`,
        `include Practitioner/${id.pr}`,
        `match Patient/${id.p1}`,
      ].sort(),
    );
  });

  test('combined with _include on several matches, each resource appears once', async () => {
    const url = `/fhir/Patient?_id=${id.p1},${id.p2}&_revinclude=Observation:subject&_include=Patient:general-practitioner`;
    expect(sorted(await search(url))).toEqual(
      [
        `include Observation/${id.o1}`,
        `include Observation/${id.o2}`,
        `include Observation/${id.o3}`,
        `include Practitioner/${id.pr}`,
        `match Patient/${id.p1}`,
        `match Patient/${id.p2}`,
      ].sort(),
    );
  });
});

describe('unknown include parameters', () => {
  const bad = ['Observation:code', 'Observation:bogus', 'Foo:subject', 'Observation', 'Observation:subject:Foo'];

  test('lenient: ignored and reported in an outcome entry', async () => {
    for (const value of bad) {
      const b = await search(`/fhir/Observation?_id=${id.o1}&_include=${value}`);
      expect(entries(b)).toEqual([`match Observation/${id.o1}`, expect.stringMatching(/^outcome OperationOutcome/)]);
      expect(b.entry?.[1].resource.issue?.[0].diagnostics).toContain('_include');
    }
    const rev = await search(`/fhir/Patient?_id=${id.p1}&_revinclude=Observation:code`);
    expect(rev.entry?.map((e) => e.search.mode)).toEqual(['match', 'outcome']);
  });

  test('an unsupported modifier or an empty value is a 400, lenient or not', async () => {
    for (const query of ['_include:bogus=Patient:organization', '_include=', '_revinclude=']) {
      const res = await t.api().get(`/fhir/Patient?_id=${id.p1}&${query}`).set('Prefer', 'handling=lenient');
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('strict: 400', async () => {
    for (const value of bad) {
      const res = await t.api().get(`/fhir/Observation?_include=${value}`).set('Prefer', 'handling=strict');
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});

describe('the bound on included resources', () => {
  test('stops at the limit and says so', async () => {
    const repo = new Repository(t.services, SYSTEM_ACCESS);
    const { page } = await repo.search(['Patient'], [['_id', id.p1]]);
    const shaping = {
      ...emptyShaping(),
      revinclude: [{ sourceType: 'Observation', param: 'subject', iterate: false }],
    };
    const cut = await resolveIncludes(repo, page.entries, shaping, 1);
    expect(cut.included).toHaveLength(1);
    expect(cut.truncated).toBe(true);
    const whole = await resolveIncludes(repo, page.entries, shaping, 2);
    expect(whole.included).toHaveLength(2);
    expect(whole.truncated).toBe(false);
  });

  test('a page with more than 1000 included resources ends with a warning', async () => {
    await create('many', patient());
    const entry = Array.from({ length: 1001 }, () => ({
      resource: observation(`Patient/${id.many}`),
      request: { method: 'POST', url: 'Observation' },
    }));
    const tx = await t
      .api()
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Bundle', type: 'transaction', entry });
    expect(tx.status).toBe(200);
    const b = await search(`/fhir/Patient?_id=${id.many}&_revinclude=Observation:subject`);
    const modes = (b.entry ?? []).map((e) => e.search.mode);
    expect(modes.filter((m) => m === 'include')).toHaveLength(1000);
    expect(modes[modes.length - 1]).toBe('outcome');
    expect(b.entry?.[modes.length - 1].resource.issue?.[0].diagnostics).toMatch(/first 1000 included/);
  }, 60_000);
});

test('the CapabilityStatement lists the includes from the registry', async () => {
  const res = await t.api().get('/fhir/metadata');
  const resources = res.body.rest[0].resource as {
    type: string;
    searchInclude?: string[];
    searchRevInclude?: string[];
  }[];
  const obs = resources.find((r) => r.type === 'Observation');
  expect(obs?.searchInclude).toEqual(expect.arrayContaining(['*', 'Observation:subject', 'Observation:performer']));
  expect(obs?.searchInclude).not.toContain('Observation:code');
  const pat = resources.find((r) => r.type === 'Patient');
  expect(pat?.searchRevInclude).toEqual(expect.arrayContaining(['Observation:subject', 'Encounter:patient']));
  expect(pat?.searchRevInclude).not.toContain('Observation:device');
});

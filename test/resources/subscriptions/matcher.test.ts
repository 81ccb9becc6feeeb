// The in-memory subscription matcher against the store: for criteria built from the values of generated
// records (every parameter type, modifiers, AND-ed pairs, a chain, a _has), the writes the matcher says match
// are exactly the resources a search with the same criteria finds in the SQLite store.
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository } from '../../../resources/repository';
import { extractIndexEntries } from '../../../resources/search/extract';
import type { IndexEntry } from '../../../resources/search/index-entry';
import { parseSearchParams, type SearchParamPairs } from '../../../resources/search/parse';
import type { VersionWrite } from '../../../resources/store/port';
import { SubscriptionMatcher } from '../../../resources/subscriptions/matcher';
import { generateDirectory, generatePatientRecords } from '../../bench/generator';
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';

const SEED = 77;
const PATIENTS = 12;

let t: TestApp;
let repo: Repository;
const writes = new Map<string, VersionWrite[]>();

beforeAll(async () => {
  t = await startTestApp();
  repo = new Repository(t.services, SYSTEM_ACCESS);
  const resources = [
    ...generateDirectory(SEED).resources,
    ...[...generatePatientRecords(SEED, PATIENTS)].flatMap((r) => r.resources),
  ];
  for (const resource of resources) {
    const { stored } = await repo.update(resource.resourceType, resource.id as string, resource);
    const index = extractIndexEntries(t.services.registry, JSON.parse(stored.json as string) as Resource);
    const list = writes.get(stored.resourceType) ?? [];
    list.push({ ...stored, index });
    writes.set(stored.resourceType, list);
  }
}, 120_000);

afterAll(() => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();

/** Criteria from one index entry: the ways a subscriber would ask for that value. */
function criteriaFor(entry: IndexEntry): string[] {
  const p = entry.param;
  if (p.includes('$')) return [];
  switch (entry.type) {
    case 'token':
      if (entry.code === null) return [];
      return [
        `${p}=${entry.system ?? ''}|${entry.code}`,
        `${p}=${entry.code}`,
        `${p}:not=${entry.code}`,
        ...(entry.text ? [`${p}:text=${entry.text.slice(0, 4)}`] : []),
      ];
    case 'reference':
      return entry.targetId ? [`${p}=${entry.targetType}/${entry.targetId}`, `${p}:missing=false`] : [];
    case 'string':
      return [
        `${p}=${entry.exact.slice(0, 3)}`,
        `${p}:exact=${entry.exact}`,
        `${p}:contains=${entry.value.slice(1, 4)}`,
      ];
    case 'date':
      return entry.low > -1e15 && entry.low < 1e15 ? [`${p}=ge${iso(entry.low)}`, `${p}=lt${iso(entry.low)}`] : [];
    case 'number':
      return Number.isFinite(entry.low) ? [`${p}=gt${entry.low}`] : [];
    case 'quantity':
      return Number.isFinite(entry.low) ? [`${p}=ge${entry.low}`, `${p}=lt${entry.low}||${entry.code ?? ''}`] : [];
    case 'uri':
      return [`${p}=${entry.value}`];
  }
}

/** Per type: criteria from a few resources' entries, and pairs of them (AND). */
function criteriaOf(type: string): string[] {
  const list = writes.get(type) ?? [];
  const picked = [list[0], list[Math.floor(list.length / 2)], list[list.length - 1]].filter(Boolean);
  const single = [...new Set(picked.flatMap((w) => w.index.flatMap(criteriaFor)))];
  const pairs = single.slice(0, 12).map((c, i) => `${c}&${single[(i * 7 + 3) % single.length]}`);
  return [...single, ...pairs];
}

function pairsOf(criteria: string): SearchParamPairs {
  return [...new URLSearchParams(criteria)] as SearchParamPairs;
}

/** What the matcher says for every write of the type, joins confirmed by the store as the server would. */
async function matcherIds(type: string, criteria: string): Promise<string[]> {
  const matcher = new SubscriptionMatcher();
  const { query } = parseSearchParams(t.services.registry, [type], pairsOf(criteria), {
    strict: true,
    baseUrl: BASE_URL,
  });
  matcher.set('sub', query);
  const ids: string[] = [];
  for (const write of writes.get(type) ?? []) {
    const { matched, toConfirm } = matcher.match(write);
    if (matched.includes('sub')) ids.push(write.id);
    for (const { query: q } of toConfirm) {
      const page = await t.services.store.search({
        ...q,
        conditions: [...q.conditions, { kind: 'id', ids: [write.id] }],
      });
      if (page.entries.length > 0) ids.push(write.id);
    }
  }
  return ids.sort();
}

async function storeIds(type: string, criteria: string): Promise<string[]> {
  const { page } = await repo.search([type], [...pairsOf(criteria), ['_count', '1000']], { strict: true });
  return page.entries.map((e) => e.id).sort();
}

const TYPES = ['Patient', 'Observation', 'Encounter', 'Condition', 'MedicationRequest', 'Practitioner', 'Procedure'];

test.each(TYPES)('%s: the matcher agrees with the store on criteria from the data', async (type) => {
  const criteria = criteriaOf(type);
  expect(criteria.length).toBeGreaterThan(10);
  const differing: string[] = [];
  let matchedSome = 0;
  for (const c of criteria) {
    const [expected, got] = [await storeIds(type, c), await matcherIds(type, c)];
    if (expected.length > 0) matchedSome++;
    if (JSON.stringify(expected) !== JSON.stringify(got))
      differing.push(`${type}?${c}: store ${expected.length}, matcher ${got.length}`);
  }
  expect(differing).toEqual([]);
  expect(matchedSome).toBeGreaterThan(criteria.length / 3);
});

test('chains and _has are confirmed by the store, and agree with it', async () => {
  const patient = writes.get('Patient')![0];
  const family = (JSON.parse(patient.json as string) as { name: { family: string }[] }).name[0].family;
  const observation = writes.get('Observation')![0];
  const code = observation.index.find((e) => e.param === 'code' && e.type === 'token') as { code: string };
  for (const [type, criteria] of [
    ['Observation', `subject:Patient.family=${family}`],
    ['Patient', `_has:Observation:subject:code=${code.code}`],
  ]) {
    const expected = await storeIds(type, criteria);
    expect(expected.length).toBeGreaterThan(0);
    expect(await matcherIds(type, criteria)).toEqual(expected);
  }
});

test('a write is tested only against subscriptions keyed on what it carries; deletes match nothing', () => {
  const matcher = new SubscriptionMatcher();
  const parse = (type: string, criteria: string) =>
    parseSearchParams(t.services.registry, [type], pairsOf(criteria), { strict: true, baseUrl: BASE_URL }).query;
  const observation = writes.get('Observation')![0];
  const subject = observation.index.find((e) => e.param === 'subject') as { targetId: string };
  matcher.set('mine', parse('Observation', `subject=Patient/${subject.targetId}`));
  matcher.set('other', parse('Observation', 'subject=Patient/nobody'));
  matcher.set('all', parse('Observation', 'status:not=cancelled'));
  matcher.set('patients', parse('Patient', 'gender=female'));
  expect(matcher.size).toBe(4);
  expect(matcher.match(observation).matched.sort()).toEqual(['all', 'mine']);
  expect(matcher.match({ ...observation, deleted: true }).matched).toEqual([]);
  matcher.set('mine', parse('Observation', 'subject=Patient/nobody'));
  matcher.delete('all');
  matcher.delete('never-added');
  expect(matcher.match(observation).matched).toEqual([]);
  expect(matcher.size).toBe(3);
});

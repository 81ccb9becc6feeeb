// The MongoDB search compiler and executor, evaluated with mingo over the documents the adapter stores, and
// checked against the SQLite store holding the same writes: same ids in the same order, same totals, page by
// page in both directions. Also what only the MongoDB side has: cursor checks, the :contains and join bounds.
import fs from 'node:fs';
import path from 'node:path';
import { Aggregator, Query } from 'mingo';
import { FhirError } from '../../../resources/errors';
import { MAX_INSTANT, type IndexEntry } from '../../../resources/search/index-entry';
import { parseCompositeValues, parseConditionValues, parseNearValues } from '../../../resources/search/parse-values';
import { positionEntries } from '../../../resources/search/types/position';
import type { Condition, SearchQuery } from '../../../resources/search/query';
import { dateRange } from '../../../resources/search/types/date';
import { normalizeString } from '../../../resources/search/types/string';
import type {
  DocumentCollection,
  Filter,
  FindOptions,
  PipelineStage,
} from '../../../resources/store/mongo/collections';
import {
  OrderKeys,
  resourceDocument,
  resourceKey,
  type ResourceDocument,
} from '../../../resources/store/mongo/documents';
import { searchResources } from '../../../resources/store/mongo/search';
import { MAX_JOIN_KEYS } from '../../../resources/store/mongo/search-joins';
import type { Page, StoredVersion, VersionWrite } from '../../../resources/store/port';
import { SqliteStore } from '../../../resources/store/sqlite/sqlite-store';
import { tempDir } from '../../support/app';

/** The collection interface over an array, evaluated by mingo; it records every filter and pipeline it runs. */
class MingoCollection implements DocumentCollection<ResourceDocument> {
  readonly queries: unknown[] = [];

  constructor(private readonly docs: ResourceDocument[]) {}

  async find(filter: Filter, options: FindOptions = {}): Promise<ResourceDocument[]> {
    this.queries.push(filter);
    let cursor = new Query(filter, {}).find<ResourceDocument>(structuredClone(this.docs));
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return cursor.all();
  }

  async aggregate(pipeline: PipelineStage[]): Promise<ResourceDocument[]> {
    this.queries.push(pipeline);
    for (const stage of pipeline)
      expect(['$match', '$addFields', '$sort', '$limit', '$project']).toContain(only(stage));
    return new Aggregator(pipeline, {}).run(structuredClone(this.docs)) as unknown as ResourceDocument[];
  }

  async countDocuments(filter: Filter): Promise<number> {
    this.queries.push(filter);
    return new Query(filter, {}).find(this.docs).all().length;
  }

  findOne(): Promise<ResourceDocument | undefined> {
    throw new Error('not used by search');
  }
  insertOne(): Promise<void> {
    throw new Error('not used by search');
  }
  replaceOne(): Promise<boolean> {
    throw new Error('not used by search');
  }
  updateOne(): Promise<boolean> {
    throw new Error('not used by search');
  }
  upsertOne(): Promise<void> {
    throw new Error('not used by search');
  }
}

const only = (stage: PipelineStage) => {
  const keys = Object.keys(stage);
  expect(keys).toHaveLength(1);
  return keys[0];
};

/** Operators the compiler may emit: each checked below or in mingo's own suite to behave as MongoDB's. */
const OPERATORS = new Set(
  (
    '$and $or $nor $in $nin $gt $gte $lt $lte $elemMatch $ifNull $min $max $switch $literal ' +
    // Location near's distance (search-near.ts)
    '$expr $anyElementTrue $map $filter $eq $arrayElemAt $indexOfArray $add $subtract $multiply $divide $pow $sin ' +
    '$cos $asin $sqrt $degreesToRadians'
  ).split(' '),
);
/** Our field names: documents.ts fields, entry fields, computed sort keys, stage names. */
const FIELDS = new Set(
  (
    '_id type id deleted lastUpdated order index composites sort param group parts value exact suffixes system ' +
    'code text typeSystem typeCode low high unit targetType targetId url identifierSystem identifierValue target ' +
    'branches case then default input as in cond'
  ).split(' '),
);

/** Every key of a filter or pipeline is an allowed operator or our own field; values are never walked as keys. */
function expectOwnNames(query: unknown, inStage = false): void {
  if (Array.isArray(query)) {
    for (const item of query) expectOwnNames(item, inStage);
    return;
  }
  if (typeof query !== 'object' || query === null) return;
  for (const [key, value] of Object.entries(query)) {
    if (key === '$literal') continue;
    const allowed =
      OPERATORS.has(key) ||
      FIELDS.has(key) ||
      /^_key\d+$/.test(key) ||
      (inStage && ['$match', '$addFields', '$sort', '$limit', '$project'].includes(key));
    if (!allowed) throw new Error(`unexpected name ${key} in ${JSON.stringify(query)}`);
    expectOwnNames(value);
  }
}

// ---- data: writes in time order (each store orders ties by creation) ----

let clock = Date.UTC(2026, 0, 1);

function write(type: string, id: string, index: IndexEntry[], extra: Partial<VersionWrite> = {}): VersionWrite {
  clock = extra.lastUpdated ?? clock + 1000;
  const versionId = extra.versionId ?? 1;
  return {
    resourceType: type,
    id,
    versionId,
    lastUpdated: clock,
    deleted: false,
    method: versionId === 1 ? 'POST' : 'PUT',
    json: JSON.stringify({ resourceType: type, id, meta: { versionId: String(versionId) } }),
    index,
    ...extra,
  };
}

const deletion = (type: string, id: string, versionId: number) =>
  write(type, id, [], { versionId, deleted: true, method: 'DELETE', json: undefined });

const name = (exact: string, param = 'name'): IndexEntry => ({
  type: 'string',
  param,
  value: normalizeString(exact),
  exact,
});
const token = (param: string, system: string | null, code: string | null, text: string | null = null): IndexEntry => ({
  type: 'token',
  param,
  system,
  code,
  text,
});
const date = (param: string, value: string): IndexEntry => ({ type: 'date', param, ...dateRange(value)! });
const number = (param: string, value: number): IndexEntry => ({ type: 'number', param, low: value, high: value });
const quantity = (
  param: string,
  value: number,
  system: string | null,
  code: string | null,
  unit: string | null = code,
): IndexEntry => ({ type: 'quantity', param, low: value, high: value, system, code, unit });
const reference = (param: string, target: string | null, extra: Partial<IndexEntry> = {}): IndexEntry => {
  const [targetType, targetId] = target ? target.split('/') : [null, null];
  return {
    type: 'reference',
    param,
    targetType,
    targetId,
    url: null,
    identifierSystem: null,
    identifierValue: null,
    ...extra,
  } as IndexEntry;
};
const uri = (param: string, value: string): IndexEntry => ({ type: 'uri', param, value });
const grouped = (entry: IndexEntry, group: number): IndexEntry => ({ ...entry, group });

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const GENDER = 'http://hl7.org/fhir/administrative-gender';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const PROFILE = 'http://example.org/fhir/StructureDefinition/patient';
const BP = 'component-code-value-quantity';

/** Blood-pressure components, one composite group per (code, mmHg) pair. */
const components = (...pairs: [string, number][]): IndexEntry[] =>
  pairs.flatMap(([code, value], group) => [
    token('component-code', LOINC, code),
    grouped(token(`${BP}$0`, LOINC, code), group),
    grouped(quantity(`${BP}$1`, value, UCUM, 'mm[Hg]'), group),
  ]);

function dataset(): VersionWrite[] {
  return [
    write('Organization', 'org-acme', [name('Acme Health'), token('identifier', 'urn:org', 'A1')]),
    write('Organization', 'org-beta', [
      name('Beta Clinic'),
      token('identifier', 'urn:org', 'B2'),
      reference('partof', 'Organization/org-acme'),
    ]),
    write('Organization', 'org-gone', [name('Acme Gone')]),
    write('Organization', 'org-zeta', [name('Zeta'), reference('partof', 'Organization/org-beta')]),
    deletion('Organization', 'org-gone', 2),
    write('Patient', 'pat-anna', [
      name('Smith'),
      name('Anna'),
      token('gender', GENDER, 'female'),
      date('birthdate', '1980-02-03'),
      token('identifier', 'urn:mrn', '100'),
      reference('organization', 'Organization/org-acme'),
      uri('profile', `${PROFILE}-a`),
    ]),
    write('Patient', 'pat-bob', [
      name('Jones'),
      name('Bob'),
      token('gender', GENDER, 'male'),
      date('birthdate', '1975'),
      token('identifier', null, '200'),
      reference('organization', 'Organization/org-beta'),
      uri('profile', PROFILE),
      token('code', LOINC, '8867-4'),
      token('combo-code', LOINC, '9999-9'),
    ]),
    write('Patient', 'pat-cara', [
      name('Smithson'),
      name('Cara'),
      token('gender', GENDER, 'female'),
      date('birthdate', '1980-02'),
      reference('organization', 'Organization/org-gone'),
      // mingo compares UTF-16 units, where U+FF21 sorts above U+10FFFF (SQL's prefix bound); MongoDB, UTF-8 bytes.
      uri('profile', `${PROFILE}\uFF21`),
    ]),
    write('Patient', 'pat-dan', [
      token('gender', GENDER, 'male'),
      {
        type: 'token',
        param: 'identifier',
        system: 'urn:mrn',
        code: '300',
        text: null,
        typeSystem: V2,
        typeCode: 'MR',
      },
      reference('organization', 'Organization/org-zeta'),
    ]),
    write('Patient', 'pat-eve', [
      name('Ève'),
      name('Zoë'),
      token('gender', GENDER, 'female'),
      date('birthdate', '1990-06-15'),
      token('identifier', 'urn:mrn', '400'),
      token('identifier', 'urn:other', '$ne'),
      reference('organization', null, { url: 'http://other.org/Organization/9' }),
    ]),
    // Same instant as pat-eve: _lastUpdated ties are broken by creation order.
    write('Patient', 'pat-hal', [name('-'), token('gender', GENDER, 'male')], { lastUpdated: clock }),
    write('Patient', 'pat-fay', [name('Old')]),
    write('Patient', 'pat-gil', [name('Smith'), token('gender', GENDER, 'male')]),
    write('Patient', 'pat-fay', [name('Fay'), token('gender', GENDER, 'unknown'), date('birthdate', '1980-02-03')], {
      versionId: 2,
    }),
    deletion('Patient', 'pat-gil', 2),
    write('Observation', 'obs-1', [
      reference('subject', 'Patient/pat-anna'),
      token('code', LOINC, '8867-4', 'heart rate'),
      quantity('value-quantity', 72, UCUM, '/min', 'beats/minute'),
      date('date', '2025-03-01T10:00:00Z'),
      reference('performer', 'Organization/org-acme'),
      ...components(['8480-6', 120], ['8462-4', 80]),
    ]),
    write('Observation', 'obs-2', [
      reference('subject', 'Patient/pat-bob'),
      token('code', LOINC, '8480-6', 'systolic blood pressure'),
      quantity('value-quantity', 135, UCUM, 'mm[Hg]'),
      date('date', '2025-03-02'),
      reference('performer', 'Organization/org-beta'),
      number('probability', 0.25),
    ]),
    write('Observation', 'obs-3', [
      reference('subject', 'Patient/pat-cara'),
      token('code', LOINC, '8867-4', 'heart rate'),
      quantity('value-quantity', 90, UCUM, '/min'),
      date('date', '2025-04'),
      ...components(['8480-6', 80], ['8462-4', 120]),
    ]),
    write('Observation', 'obs-4', [
      reference('subject', null, { targetType: 'Patient', identifierSystem: 'urn:mrn', identifierValue: '300' }),
      token('code', 'http://snomed.info/sct', '271649006'),
      quantity('value-quantity', 5.4, null, null, 'mmol/L'),
      date('date', '2024-12-31'),
    ]),
    write('Observation', 'obs-5', [
      reference('subject', null, { url: 'http://other.org/Patient/77' }),
      { type: 'date', param: 'date', low: Date.UTC(2025, 0, 1), high: MAX_INSTANT },
      number('probability', 0.75),
    ]),
    write('Observation', 'obs-6', [
      reference('subject', 'Patient/pat-eve'),
      token('code', null, 'local-1'),
      number('probability', 0.5),
      reference('performer', 'Organization/org-acme'),
    ]),
    write('Observation', 'obs-7', [
      { type: 'date', param: 'date', low: Date.UTC(2025, 0, 15), high: Date.UTC(2025, 1, 11) - 1 },
    ]),
    write('Location', 'loc-amsterdam', [...position(52.3676, 4.9041), name('Amsterdam')]),
    write('Location', 'loc-utrecht', [...position(52.0907, 5.1214), token('code', LOINC, 'x')]),
    write('Location', 'loc-corner', position(52.6676, 5.4041)),
    write('Location', 'loc-london', position(51.5074, -0.1278)),
    write('Location', 'loc-suva', position(-18.1416, 178.4419)),
    write('Location', 'loc-taveuni', position(-16.85, -179.95)),
    write('Location', 'loc-pole', position(89.9, 0)),
    write('Location', 'loc-nowhere', [name('Nowhere')]),
    write('Questionnaire', 'q-10', canonicalResource(INTAKE, '1.0')),
    write('Questionnaire', 'q-11', canonicalResource(INTAKE, '1.1')),
    write('Questionnaire', 'q-100', canonicalResource(INTAKE, '10.0')),
    write('Questionnaire', 'q-none', canonicalResource(INTAKE)),
    write('QuestionnaireResponse', 'qr-10', canonicalReference(`${INTAKE}|1.0`)),
    write('QuestionnaireResponse', 'qr-11', canonicalReference(`${INTAKE}|1.1`)),
    write('QuestionnaireResponse', 'qr-100', canonicalReference(`${INTAKE}|10.0`)),
    write('QuestionnaireResponse', 'qr-none', canonicalReference(INTAKE)),
    write('List', 'list-a', [
      reference('item', 'Patient/pat-anna'),
      reference('item', 'Patient/pat-bob'),
      reference('item', 'Observation/obs-1'),
    ]),
    write('List', 'list-gone', [reference('item', 'Patient/pat-cara')]),
    deletion('List', 'list-gone', 2),
  ];
}

const INTAKE = 'http://acme.org/fhir/Questionnaire/intake';

/** A Location.position's entries, as extraction makes them. */
const position = (latitude: number, longitude: number): IndexEntry[] =>
  positionEntries({ type: 'BackboneElement', data: { latitude, longitude } }, 'near');

/** A canonical resource's `url` entries: the URL, and `url|version` when it has a version (canonical-versions.ts). */
const canonicalResource = (url: string, version?: string): IndexEntry[] =>
  version ? [uri('url', url), uri('url', `${url}|${version}`), token('version', null, version)] : [uri('url', url)];

/** A canonical reference's entries: its URL without the version, and with it (types/reference.ts). */
const canonicalReference = (canonical: string): IndexEntry[] => {
  const unversioned = canonical.split('|')[0];
  const entries = [reference('questionnaire', null, { url: unversioned })];
  return canonical === unversioned ? entries : [...entries, reference('questionnaire', null, { url: canonical })];
};

/** The `resources` documents after the writes; `order` follows creation like SQLite's row id. */
function documentsOf(writes: VersionWrite[]): ResourceDocument[] {
  const orders = new OrderKeys(1);
  const docs = new Map<string, ResourceDocument>();
  for (const w of writes) {
    const key = resourceKey(w.resourceType, w.id);
    docs.set(key, resourceDocument(w, docs.get(key)?.order ?? orders.next(w.lastUpdated)));
  }
  const created = [...docs.values()];
  expect(created.map((d) => d.order)).toEqual(created.map((d) => d.order).sort());
  return created;
}

// ---- queries ----

function condition(paramType: string, code: string, value: string, modifier?: string): Condition {
  const parsed = parseConditionValues(paramType, code, modifier, value.split(','), code);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

function composite(code: string, value: string): Condition {
  const parsed = parseCompositeValues(code, ['token', 'quantity'], undefined, value.split(','), code);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

const near = (value: string): Condition => parseNearValues('near', value.split(','), 'near');
const AMSTERDAM = '52.3676|4.9041';
const listed = (...ids: string[]): Condition => has('List', 'item', { kind: 'id', ids });

const chain = (param: string, targetTypes: string[], inner: Condition): Condition => ({
  kind: 'chain',
  param,
  targetTypes,
  condition: inner,
});
const has = (sourceType: string, param: string, inner: Condition): Condition => ({
  kind: 'has',
  sourceType,
  param,
  condition: inner,
});

const sort = (...rules: string[]) =>
  rules.map((rule) => {
    const param = rule.replace(/^-/, '');
    return { param, paramType: PARAM_TYPES[param] ?? 'special', descending: rule.startsWith('-') };
  });

const PARAM_TYPES: Record<string, string> = {
  name: 'string',
  gender: 'token',
  identifier: 'token',
  birthdate: 'date',
  organization: 'reference',
  'value-quantity': 'quantity',
  date: 'date',
  probability: 'number',
  profile: 'uri',
  'combo-code': 'token',
  code: 'token',
  nothing: 'string',
};

const OBSERVATION_UNIONS = { Observation: { 'combo-code': ['code', 'component-code'] } };

function q(types: string | string[], conditions: Condition[] = [], extra: Partial<SearchQuery> = {}): SearchQuery {
  return {
    resourceTypes: typeof types === 'string' ? [types] : types,
    conditions,
    sort: [],
    count: 100,
    total: 'accurate',
    ...extra,
  };
}

/** Name, query, and the ids of its first page (in order): the differential check must not pass on nothing. */
const TABLE: [string, SearchQuery, string[]][] = [
  ['near 10 km', q('Location', [near(`${AMSTERDAM}|10`)]), ['loc-amsterdam']],
  ['near 40 km: not the box corner', q('Location', [near(`${AMSTERDAM}|40`)]), ['loc-amsterdam', 'loc-utrecht']],
  ['near 50 km', q('Location', [near(`${AMSTERDAM}|50|km`)]), ['loc-amsterdam', 'loc-utrecht', 'loc-corner']],
  [
    'near 400 km',
    q('Location', [near(`${AMSTERDAM}|400000|m`)]),
    ['loc-amsterdam', 'loc-utrecht', 'loc-corner', 'loc-london'],
  ],
  ['near, across the antimeridian', q('Location', [near('-17.5|179.9|300')]), ['loc-suva', 'loc-taveuni']],
  ['near a pole', q('Location', [near('89.5|120|100')]), ['loc-pole']],
  ['near, two points', q('Location', [near(`${AMSTERDAM}|1,-18.14|178.44|5`)]), ['loc-amsterdam', 'loc-suva']],
  [
    'near with another condition',
    q('Location', [near(`${AMSTERDAM}|40`), condition('token', 'code', 'x')]),
    ['loc-utrecht'],
  ],
  [
    'near, sorted by name',
    q('Location', [near(`${AMSTERDAM}|40`)], { sort: sort('-name') }),
    ['loc-amsterdam', 'loc-utrecht'],
  ],
  ['uri with a version', q('Questionnaire', [condition('uri', 'url', `${INTAKE}|1.0`)]), ['q-10']],
  ['uri without a version', q('Questionnaire', [condition('uri', 'url', INTAKE)]), ['q-10', 'q-11', 'q-100', 'q-none']],
  ['uri :below a version', q('Questionnaire', [condition('uri', 'url', `${INTAKE}|1`, 'below')]), ['q-10', 'q-11']],
  [
    'uri :below a version or a URL',
    q('Questionnaire', [condition('uri', 'url', `${INTAKE}|1.1,${INTAKE}`, 'below')]),
    ['q-10', 'q-11', 'q-100', 'q-none'],
  ],
  [
    'canonical reference with a version',
    q('QuestionnaireResponse', [condition('reference', 'questionnaire', `${INTAKE}|1.1`)]),
    ['qr-11'],
  ],
  [
    'canonical reference without a version',
    q('QuestionnaireResponse', [condition('reference', 'questionnaire', INTAKE)]),
    ['qr-10', 'qr-11', 'qr-100', 'qr-none'],
  ],
  [
    'canonical reference :below a version',
    q('QuestionnaireResponse', [condition('reference', 'questionnaire', `${INTAKE}|1`, 'below')]),
    ['qr-10', 'qr-11'],
  ],
  [
    'canonical reference :below the URL',
    q('QuestionnaireResponse', [condition('reference', 'questionnaire', INTAKE, 'below')]),
    ['qr-10', 'qr-11', 'qr-100', 'qr-none'],
  ],
  ['_list', q('Patient', [listed('list-a')]), ['pat-anna', 'pat-bob']],
  ['_list of another type', q('Observation', [listed('list-a')]), ['obs-1']],
  ['_list with another condition', q('Patient', [listed('list-a'), condition('token', 'gender', 'male')]), ['pat-bob']],
  ['_list deleted or unknown', q('Patient', [listed('list-gone', 'list-none')]), []],
  [
    'every patient, creation order',
    q('Patient'),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-dan', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  ['string start', q('Patient', [condition('string', 'name', 'SMI')]), ['pat-anna', 'pat-cara']],
  ['string start, several values', q('Patient', [condition('string', 'name', 'jo,zo')]), ['pat-bob', 'pat-eve']],
  [
    'string start, empty value',
    q('Patient', [condition('string', 'name', '')]),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  ['string exact', q('Patient', [condition('string', 'name', 'Smith', 'exact')]), ['pat-anna']],
  ['string exact keeps accents', q('Patient', [condition('string', 'name', 'Ève', 'exact')]), ['pat-eve']],
  ['string contains', q('Patient', [condition('string', 'name', 'mith', 'contains')]), ['pat-anna', 'pat-cara']],
  ['string contains folded', q('Patient', [condition('string', 'name', 'OË', 'contains')]), ['pat-eve']],
  [
    'string contains whole value',
    q('Organization', [condition('string', 'name', 'acme health', 'contains')]),
    ['org-acme'],
  ],
  ['token code', q('Patient', [condition('token', 'gender', 'female')]), ['pat-anna', 'pat-cara', 'pat-eve']],
  [
    'token system|code',
    q('Patient', [condition('token', 'gender', `${GENDER}|male`)]),
    ['pat-bob', 'pat-dan', 'pat-hal'],
  ],
  ['token |code (no system)', q('Patient', [condition('token', 'identifier', '|200')]), ['pat-bob']],
  ['token |code with a system', q('Patient', [condition('token', 'identifier', '|100')]), []],
  ['token system|', q('Patient', [condition('token', 'identifier', 'urn:mrn|')]), ['pat-anna', 'pat-dan', 'pat-eve']],
  ['token value that looks like an operator', q('Patient', [condition('token', 'identifier', '$ne')]), ['pat-eve']],
  [
    'token :not',
    q('Patient', [condition('token', 'gender', 'male', 'not')]),
    ['pat-anna', 'pat-cara', 'pat-eve', 'pat-fay'],
  ],
  [
    'token :not, no entries at all',
    q('Patient', [condition('token', 'identifier', 'urn:mrn|', 'not')]),
    ['pat-bob', 'pat-cara', 'pat-hal', 'pat-fay'],
  ],
  ['token :text', q('Observation', [condition('token', 'code', 'Heart', 'text')]), ['obs-1', 'obs-3']],
  ['token :of-type', q('Patient', [condition('token', 'identifier', `${V2}|MR|300`, 'of-type')]), ['pat-dan']],
  [
    'token :of-type without system',
    q('Patient', [condition('token', 'identifier', '|MR|300', 'of-type')]),
    ['pat-dan'],
  ],
  ['token :of-type wrong type', q('Patient', [condition('token', 'identifier', `${V2}|XX|300`, 'of-type')]), []],
  ['date eq day', q('Patient', [condition('date', 'birthdate', '1980-02-03')]), ['pat-anna', 'pat-fay']],
  ['date eq month', q('Patient', [condition('date', 'birthdate', '1980-02')]), ['pat-anna', 'pat-cara', 'pat-fay']],
  ['date ne', q('Patient', [condition('date', 'birthdate', 'ne1980-02')]), ['pat-bob', 'pat-eve']],
  ['date gt', q('Patient', [condition('date', 'birthdate', 'gt1980-02-03')]), ['pat-cara', 'pat-eve']],
  ['date lt', q('Patient', [condition('date', 'birthdate', 'lt1980-02-03')]), ['pat-bob', 'pat-cara']],
  [
    'date ge',
    q('Patient', [condition('date', 'birthdate', 'ge1980-02-03')]),
    ['pat-anna', 'pat-cara', 'pat-eve', 'pat-fay'],
  ],
  [
    'date le',
    q('Patient', [condition('date', 'birthdate', 'le1980-02-03')]),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-fay'],
  ],
  ['date sa', q('Patient', [condition('date', 'birthdate', 'sa1980-02-03')]), ['pat-eve']],
  ['date eb', q('Patient', [condition('date', 'birthdate', 'eb1980-02')]), ['pat-bob']],
  ['date, several values', q('Patient', [condition('date', 'birthdate', '1975,1990-06-15')]), ['pat-bob', 'pat-eve']],
  [
    'date window (two bounds)',
    q('Patient', [condition('date', 'birthdate', 'ge1979'), condition('date', 'birthdate', 'lt1985')]),
    ['pat-anna', 'pat-cara', 'pat-fay'],
  ],
  ['date, open end', q('Observation', [condition('date', 'date', 'gt2030')]), ['obs-5']],
  [
    'date ge: a period overlapping the start only',
    q('Observation', [condition('date', 'date', 'ge2025-02')]),
    ['obs-1', 'obs-2', 'obs-3', 'obs-5'],
  ],
  ['date le: a period overlapping the end only', q('Observation', [condition('date', 'date', 'le2025-01')]), ['obs-4']],
  ['number eq', q('Observation', [condition('number', 'probability', '0.25')]), ['obs-2']],
  ['number gt', q('Observation', [condition('number', 'probability', 'gt0.25')]), ['obs-5', 'obs-6']],
  ['number le', q('Observation', [condition('number', 'probability', 'le0.5')]), ['obs-2', 'obs-6']],
  ['number ne', q('Observation', [condition('number', 'probability', 'ne0.5')]), ['obs-2', 'obs-5']],
  ['number sa, eb', q('Observation', [condition('number', 'probability', 'sa0.3,eb0.3')]), ['obs-5', 'obs-6']],
  ['quantity number only', q('Observation', [condition('quantity', 'value-quantity', '72')]), ['obs-1']],
  [
    'quantity system and code',
    q('Observation', [condition('quantity', 'value-quantity', `gt100|${UCUM}|mm[Hg]`)]),
    ['obs-2'],
  ],
  [
    'quantity code matches code',
    q('Observation', [condition('quantity', 'value-quantity', 'ge72||/min')]),
    ['obs-1', 'obs-3'],
  ],
  [
    'quantity code matches unit',
    q('Observation', [condition('quantity', 'value-quantity', 'lt10||mmol/L')]),
    ['obs-4'],
  ],
  ['quantity system without match', q('Observation', [condition('quantity', 'value-quantity', `72|urn:x|/min`)]), []],
  ['reference Type/id', q('Observation', [condition('reference', 'subject', 'Patient/pat-anna')]), ['obs-1']],
  ['reference id', q('Observation', [condition('reference', 'subject', 'pat-bob')]), ['obs-2']],
  ['reference id with type modifier', q('Observation', [condition('reference', 'subject', 'pat-bob', 'Group')]), []],
  ['reference url', q('Observation', [condition('reference', 'subject', 'http://other.org/Patient/77')]), ['obs-5']],
  [
    'reference :identifier',
    q('Observation', [condition('reference', 'subject', 'urn:mrn|300', 'identifier')]),
    ['obs-4'],
  ],
  ['uri exact', q('Patient', [condition('uri', 'profile', PROFILE)]), ['pat-bob']],
  ['uri below', q('Patient', [condition('uri', 'profile', PROFILE, 'below')]), ['pat-anna', 'pat-bob', 'pat-cara']],
  ['uri above', q('Patient', [condition('uri', 'profile', `${PROFILE}-a/v2`, 'above')]), ['pat-anna', 'pat-bob']],
  ['missing=true', q('Patient', [condition('string', 'name', 'true', 'missing')]), ['pat-dan']],
  [
    'missing=false',
    q('Patient', [condition('date', 'birthdate', 'false', 'missing')]),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-eve', 'pat-fay'],
  ],
  ['_id', q('Patient', [{ kind: 'id', ids: ['pat-bob', 'pat-gil', 'obs-1', 'pat-anna'] }]), ['pat-anna', 'pat-bob']],
  [
    '_id :not',
    q('Patient', [{ kind: 'id', ids: ['pat-bob', 'pat-anna'], not: true }]),
    ['pat-cara', 'pat-dan', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  [
    '_lastUpdated range',
    q('Observation', [{ kind: 'lastUpdated', values: [{ prefix: 'ge', low: 0, high: 0 }] }]),
    ['obs-1', 'obs-2', 'obs-3', 'obs-4', 'obs-5', 'obs-6', 'obs-7'],
  ],
  ['composite within one repetition', q('Observation', [composite(BP, `8480-6$120`)]), ['obs-1']],
  ['composite, the other repetition', q('Observation', [composite(BP, `8480-6$80`)]), ['obs-3']],
  ['composite with prefix and system', q('Observation', [composite(BP, `${LOINC}|8462-4$gt100`)]), ['obs-3']],
  ['composite, several values', q('Observation', [composite(BP, `8480-6$120,8462-4$120`)]), ['obs-1', 'obs-3']],
  [
    'chain',
    q('Observation', [chain('subject', ['Patient'], condition('string', 'name', 'smith'))]),
    ['obs-1', 'obs-3'],
  ],
  [
    'chain, nested; a deleted target does not count',
    q('Observation', [
      chain('subject', ['Patient'], chain('organization', ['Organization'], condition('string', 'name', 'acme'))),
    ]),
    ['obs-1'],
  ],
  [
    'chain to several target types',
    q('Observation', [chain('performer', ['Organization', 'Practitioner'], condition('token', 'identifier', 'A1'))]),
    ['obs-1', 'obs-6'],
  ],
  [
    '_has',
    q('Patient', [has('Observation', 'subject', condition('token', 'code', '8867-4'))]),
    ['pat-anna', 'pat-cara'],
  ],
  [
    '_has, nested',
    q('Organization', [
      has('Patient', 'organization', has('Observation', 'subject', condition('token', 'code', '8480-6'))),
    ]),
    ['org-beta'],
  ],
  [
    '_has over a chain',
    q('Patient', [
      has('Observation', 'subject', chain('performer', ['Organization'], condition('string', 'name', 'beta'))),
    ]),
    ['pat-bob'],
  ],
  [
    'chain over a _has',
    q('Observation', [
      chain('subject', ['Patient'], has('Observation', 'subject', condition('number', 'probability', '0.5'))),
    ]),
    ['obs-6'],
  ],
  [
    'union parameter',
    q('Observation', [condition('token', 'combo-code', '8480-6')], { unions: OBSERVATION_UNIONS }),
    ['obs-1', 'obs-2', 'obs-3'],
  ],
  [
    'union parameter :not',
    q('Observation', [condition('token', 'combo-code', '8480-6', 'not')], { unions: OBSERVATION_UNIONS }),
    ['obs-4', 'obs-5', 'obs-6', 'obs-7'],
  ],
  [
    'union parameter, types storing it differently',
    q(['Observation', 'Patient'], [condition('token', 'combo-code', '8867-4')], { unions: OBSERVATION_UNIONS }),
    ['obs-1', 'obs-3'],
  ],
  [
    'union parameter, a type storing it itself',
    q(['Observation', 'Patient'], [condition('token', 'combo-code', '9999-9')], { unions: OBSERVATION_UNIONS }),
    ['pat-bob'],
  ],
  [
    'system search',
    q(['Patient', 'Organization'], [condition('string', 'name', 'acme,smith')]),
    ['org-acme', 'pat-anna', 'pat-cara'],
  ],
  [
    'several conditions',
    q('Patient', [condition('token', 'gender', 'female'), condition('date', 'birthdate', 'lt1985')]),
    ['pat-anna', 'pat-cara'],
  ],
  [
    'name ascending, missing last',
    q('Patient', [], { sort: sort('name') }),
    ['pat-hal', 'pat-anna', 'pat-bob', 'pat-cara', 'pat-eve', 'pat-fay', 'pat-dan'],
  ],
  [
    'name descending, missing last',
    q('Patient', [], { sort: sort('-name') }),
    ['pat-eve', 'pat-cara', 'pat-anna', 'pat-bob', 'pat-fay', 'pat-dan', 'pat-hal'],
  ],
  [
    'birthdate ascending',
    q('Patient', [], { sort: sort('birthdate') }),
    ['pat-bob', 'pat-cara', 'pat-anna', 'pat-fay', 'pat-eve', 'pat-dan', 'pat-hal'],
  ],
  [
    'birthdate descending',
    q('Patient', [], { sort: sort('-birthdate') }),
    ['pat-eve', 'pat-cara', 'pat-anna', 'pat-fay', 'pat-bob', 'pat-dan', 'pat-hal'],
  ],
  [
    'gender, then -birthdate',
    q('Patient', [], { sort: sort('gender', '-birthdate') }),
    ['pat-eve', 'pat-cara', 'pat-anna', 'pat-bob', 'pat-dan', 'pat-hal', 'pat-fay'],
  ],
  [
    'identifier descending',
    q('Patient', [], { sort: sort('-identifier') }),
    ['pat-eve', 'pat-dan', 'pat-bob', 'pat-anna', 'pat-cara', 'pat-hal', 'pat-fay'],
  ],
  [
    'reference ascending',
    q('Patient', [], { sort: sort('organization') }),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-dan', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  [
    'uri descending',
    q('Patient', [], { sort: sort('-profile') }),
    ['pat-cara', 'pat-anna', 'pat-bob', 'pat-dan', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  [
    'quantity descending',
    q('Observation', [], { sort: sort('-value-quantity') }),
    ['obs-2', 'obs-3', 'obs-1', 'obs-4', 'obs-5', 'obs-6', 'obs-7'],
  ],
  [
    'number ascending',
    q('Observation', [], { sort: sort('probability') }),
    ['obs-2', 'obs-6', 'obs-5', 'obs-1', 'obs-3', 'obs-4', 'obs-7'],
  ],
  [
    'date descending, open end first',
    q('Observation', [], { sort: sort('-date') }),
    ['obs-5', 'obs-3', 'obs-2', 'obs-1', 'obs-7', 'obs-4', 'obs-6'],
  ],
  [
    'nobody has the key',
    q('Patient', [], { sort: sort('-nothing') }),
    ['pat-anna', 'pat-bob', 'pat-cara', 'pat-dan', 'pat-eve', 'pat-hal', 'pat-fay'],
  ],
  [
    '_id descending',
    q('Patient', [], { sort: sort('-_id') }),
    ['pat-hal', 'pat-fay', 'pat-eve', 'pat-dan', 'pat-cara', 'pat-bob', 'pat-anna'],
  ],
  ['_id, then -_id', q('Organization', [], { sort: sort('_id', '-_id') }), ['org-acme', 'org-beta', 'org-zeta']],
  [
    '_lastUpdated descending, ties by creation',
    q('Patient', [], { sort: sort('-_lastUpdated') }),
    ['pat-fay', 'pat-eve', 'pat-hal', 'pat-dan', 'pat-cara', 'pat-bob', 'pat-anna'],
  ],
  [
    'union sort ascending',
    q('Observation', [], { sort: sort('combo-code'), unions: OBSERVATION_UNIONS }),
    ['obs-4', 'obs-1', 'obs-3', 'obs-2', 'obs-6', 'obs-5', 'obs-7'],
  ],
  [
    'union sort descending',
    q('Observation', [], { sort: sort('-combo-code'), unions: OBSERVATION_UNIONS }),
    ['obs-6', 'obs-1', 'obs-3', 'obs-2', 'obs-4', 'obs-5', 'obs-7'],
  ],
  [
    'union sort over types storing it differently',
    q(['Observation', 'Patient'], [], { sort: sort('combo-code'), unions: OBSERVATION_UNIONS }),
    [
      'obs-4',
      'obs-1',
      'obs-3',
      'obs-2',
      'pat-bob',
      'obs-6',
      'pat-anna',
      'pat-cara',
      'pat-dan',
      'pat-eve',
      'pat-hal',
      'pat-fay',
      'obs-5',
      'obs-7',
    ],
  ],
  [
    'sorted search with conditions',
    q('Patient', [condition('token', 'gender', 'male')], { sort: sort('-name', '_id') }),
    ['pat-bob', 'pat-dan', 'pat-hal'],
  ],
];

describe('MongoDB search, evaluated by mingo, equals the SQLite store', () => {
  let dir: string;
  let sqlite: SqliteStore;
  let mongo: MingoCollection;
  let docs: ResourceDocument[];

  beforeAll(async () => {
    const writes = dataset();
    dir = tempDir('hms-mongo-search-');
    sqlite = SqliteStore.open(path.join(dir, 'search.sqlite'), { synchronous: 'NORMAL' });
    for (const w of writes) await sqlite.transaction(async (tx) => tx.writeVersion(w));
    docs = documentsOf(writes);
    mongo = new MingoCollection(docs);
  });

  afterAll(async () => {
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(TABLE)('%s', async (_name, query, expected) => {
    const [fromMongo, fromSqlite] = [await searchResources(mongo, query), await sqlite.search(query)];
    expect(keys(fromMongo)).toEqual(keys(fromSqlite));
    expect(fromMongo.entries).toEqual(fromSqlite.entries);
    expect(fromMongo.total).toBe(fromSqlite.total);
    expect(fromMongo.entries.map((e) => e.id)).toEqual(expected);
    for (const count of [1, 2, 3]) {
      for (const total of ['accurate', 'when-known', 'none'] as const) {
        const paged = { ...query, count, total };
        expect(await walk((qq) => searchResources(mongo, qq), paged)).toEqual(
          await walk((qq) => sqlite.search(qq), paged),
        );
      }
    }
    for (const compiled of mongo.queries.splice(0)) expectOwnNames(compiled, true);
  });

  test('ap (approximately) widens by the same margin as SQL', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2025, 2, 1));
    try {
      for (const value of ['ap2025-03-03', 'ap2025-02-01', 'ap2024-01']) {
        const query = q('Observation', [condition('date', 'date', value)]);
        expect(keys(await searchResources(mongo, query))).toEqual(keys(await sqlite.search(query)));
      }
      const near = q('Observation', [condition('date', 'date', 'ap2025-03-03')]);
      expect(keys(await searchResources(mongo, near)).ids).toEqual(['Observation/obs-2', 'Observation/obs-5']);
      const numbers = q('Observation', [condition('number', 'probability', 'ap0.27')]);
      expect(keys(await searchResources(mongo, numbers))).toEqual(keys(await sqlite.search(numbers)));
      const updated = q('Patient', [{ kind: 'lastUpdated', values: [{ prefix: 'ap', low: clock, high: clock }] }]);
      expect(keys(await searchResources(mongo, updated))).toEqual(keys(await sqlite.search(updated)));
    } finally {
      now.mockRestore();
    }
  });

  test('_lastUpdated prefixes on one field', async () => {
    const all = await sqlite.search(q('Patient', [], { sort: sort('_lastUpdated') }));
    const at = all.entries[3].lastUpdated;
    for (const prefix of ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const) {
      const query = q('Patient', [{ kind: 'lastUpdated', values: [{ prefix, low: at, high: at + 999 }] }]);
      const fromMongo = keys(await searchResources(mongo, query));
      expect(fromMongo).toEqual(keys(await sqlite.search(query)));
      expect(fromMongo.ids.length).toBeGreaterThan(0);
    }
  });

  test('total: estimate counts like accurate; when-known only on a first page holding every match', async () => {
    const query = q('Patient', [], { count: 2, total: 'estimate' });
    expect((await searchResources(mongo, query)).total).toBe(7);
    expect((await searchResources(mongo, { ...query, total: 'when-known' })).total).toBeUndefined();
    expect((await searchResources(mongo, { ...query, count: 7, total: 'when-known' })).total).toBe(7);
    expect((await searchResources(mongo, { ...query, count: 0 })).entries).toEqual([]);
  });

  test('composite components must be plain positive lookups of the composite', async () => {
    const notComponent = q('Observation', [
      { kind: 'composite', param: BP, values: [{ components: [condition('token', 'code', '8480-6')] }] },
    ]);
    const negated = q('Observation', [
      { kind: 'composite', param: BP, values: [{ components: [condition('token', `${BP}$0`, '8480-6', 'not')] }] },
    ]);
    for (const query of [notComponent, negated]) {
      await expect(searchResources(mongo, query)).rejects.toMatchObject({ status: 400 });
      await expect(sqlite.search(query)).rejects.toMatchObject({ status: 400 });
    }
    const empty = q('Observation', [{ kind: 'composite', param: BP, values: [{ components: [] }] }]);
    expect((await searchResources(mongo, empty)).entries).toEqual([]);
  });

  test('sorting or :missing by a parameter type without entries is a 400', async () => {
    const bySpecial = q('Patient', [], { sort: [{ param: 'near', paramType: 'special', descending: false }] });
    await expect(searchResources(mongo, bySpecial)).rejects.toMatchObject({ status: 400 });
    const missing = q('Patient', [{ kind: 'missing', param: BP, paramType: 'composite', missing: true }]);
    await expect(searchResources(mongo, missing)).rejects.toMatchObject({ status: 400 });
  });

  test(':contains takes at most CONTAINS_MAX characters', async () => {
    const longest = q('Patient', [condition('string', 'name', 'a'.repeat(64), 'contains')]);
    expect((await searchResources(mongo, longest)).entries).toEqual([]);
    // The parser refuses it first (parse-values.ts); the compiler still never cuts a value it was given.
    const tooLong = q('Patient', [{ kind: 'string', param: 'name', match: 'contains', values: ['a'.repeat(65)] }]);
    const error = await searchResources(mongo, tooLong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirError);
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('at most 64 characters') });
  });

  test('a tampered cursor is a 400 naming _cursor', async () => {
    const query = q('Patient', [], { count: 2, sort: sort('name', '-_lastUpdated') });
    const first = await searchResources(mongo, query);
    const valid = JSON.parse(Buffer.from(first.next!, 'base64url').toString());
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tampered = [
      'not a cursor',
      encode({ direction: 'n' }),
      encode(['x', valid[1], valid[2]]),
      encode(['n', valid[1].slice(1), valid[2]]),
      encode(['n', [1, valid[1][1]], valid[2]]),
      encode(['n', [valid[1][0], 'late'], valid[2]]),
      encode(['n', [{ $gt: '' }, valid[1][1]], valid[2]]),
      encode(['n', valid[1], 42]),
      encode(['n', valid[1], '$where']),
      encode(['n', valid[1], valid[2], 'extra']),
      (await sqlite.search(query)).next!,
    ];
    for (const cursor of tampered) {
      const error = await searchResources(mongo, { ...query, cursor }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FhirError);
      expect((error as FhirError).outcome.issue?.[0]).toMatchObject({
        diagnostics: 'Invalid paging cursor',
        expression: ['_cursor'],
      });
    }
    expect((await searchResources(mongo, { ...query, cursor: first.next })).entries).toHaveLength(2);
  });

  test('keyset paging stays correct while others write between pages', async () => {
    const query = q('Patient', [], { count: 2, sort: sort('gender') });
    const first = await searchResources(mongo, query);
    expect(first.entries.map((e) => e.id)).toEqual(['pat-anna', 'pat-cara']);
    // A new female patient created after the first page sorts after the ones shown (creation order breaks ties).
    const created = write('Patient', 'pat-new', [token('gender', GENDER, 'female')]);
    const grown = new MingoCollection([...docs, resourceDocument(created, new OrderKeys(2).next(created.lastUpdated))]);
    const second = await searchResources(grown, { ...query, cursor: first.next });
    expect(second.entries.map((e) => e.id)).toEqual(['pat-eve', 'pat-new']);
  });
});

describe('MongoDB search joins', () => {
  test(`a chain or _has reading more than ${MAX_JOIN_KEYS} resources is refused as too costly`, async () => {
    const writes = Array.from({ length: MAX_JOIN_KEYS + 1 }, (_, i) =>
      write('Organization', `org-${i}`, [name('Big Org')]),
    );
    writes.push(write('Patient', 'p', [reference('organization', 'Organization/org-1')]));
    const resources = new MingoCollection(documentsOf(writes));
    const chained = q('Patient', [chain('organization', ['Organization'], condition('string', 'name', 'big'))]);
    const error = await searchResources(resources, chained).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('narrow the chained search') });
    expect((error as FhirError).outcome.issue?.[0].code).toBe('too-costly');
    const narrower = q('Patient', [chain('organization', ['Organization'], { kind: 'id', ids: ['org-1'] })]);
    expect((await searchResources(resources, narrower)).entries.map((e) => e.id)).toEqual(['p']);
  });
});

describe('mingo evaluates the operators the compiler uses as MongoDB documents them', () => {
  const run = (filter: Filter, docs: object[]) =>
    new Query(filter, {})
      .find<{ n: number }>(docs)
      .all()
      .map((d) => d.n);

  test('null matches null and a missing field; $in [] matches nothing; $nor negates $elemMatch', () => {
    const docs = [
      { n: 1, index: [{ param: 'a', system: null, code: 'x' }] },
      { n: 2, index: [{ param: 'a', code: 'x' }] },
      { n: 3, index: [{ param: 'a', system: 's', code: 'x' }] },
      { n: 4, index: [] },
    ];
    expect(run({ index: { $elemMatch: { param: 'a', system: null } } }, docs)).toEqual([1, 2]);
    expect(run({ index: { $elemMatch: { param: { $in: [] } } } }, docs)).toEqual([]);
    expect(run({ $nor: [{ index: { $elemMatch: { system: 's' } } }] }, docs)).toEqual([1, 2, 4]);
  });

  test('comparisons do not cross types; $elemMatch keeps conditions on one element, nested too', () => {
    expect(run({ v: { $gte: '' } }, [{ n: 1, v: 'a' }, { n: 2, v: null }, { n: 3, v: 5 }, { n: 4 }])).toEqual([1]);
    expect(
      run({ v: { $lt: 10 } }, [
        { n: 1, v: 'a' },
        { n: 2, v: null },
        { n: 3, v: 5 },
      ]),
    ).toEqual([3]);
    const docs = [
      {
        n: 1,
        c: [
          {
            p: [
              { k: 'A', v: 1 },
              { k: 'B', v: 2 },
            ],
          },
        ],
      },
      { n: 2, c: [{ p: [{ k: 'A', v: 2 }] }, { p: [{ k: 'B', v: 1 }] }] },
    ];
    const both = (v: number) => ({
      c: { $elemMatch: { $and: [{ p: { $elemMatch: { k: 'A' } } }, { p: { $elemMatch: { k: 'B', v } } }] } },
    });
    expect(run(both(2), docs)).toEqual([1]);
    expect(run(both(1), docs)).toEqual([]);
    expect(
      run({ s: { $elemMatch: { $gte: 'b', $lt: 'c' } } }, [
        { n: 1, s: ['a', 'c'] },
        { n: 2, s: ['bx'] },
      ]),
    ).toEqual([2]);
  });

  test('$ifNull, $min and coalesced $max compute SQL-like keys; a literal $ string stays a value', () => {
    const docs = [{ n: 1, a: 'c' }, { n: 2, a: 'c', b: 'd' }, { n: 3 }];
    const keysOf = (expression: unknown) =>
      (new Aggregator([{ $addFields: { k: expression } }], {}).run(docs) as { k: unknown }[]).map((d) => d.k);
    expect(keysOf({ $ifNull: [{ $min: ['$a', '$b'] }, 'z'] })).toEqual(['c', 'c', 'z']);
    expect(keysOf({ $max: [{ $ifNull: ['$a', ''] }, { $ifNull: ['$b', ''] }] })).toEqual(['c', 'd', '']);
    expect(
      run({ v: '$where' }, [
        { n: 1, v: '$where' },
        { n: 2, v: 'x' },
      ]),
    ).toEqual([1]);
  });
});

function keys(page: Page<StoredVersion>) {
  return {
    ids: page.entries.map((e) => `${e.resourceType}/${e.id}`),
    total: page.total,
    next: page.next !== undefined,
    previous: page.previous !== undefined,
  };
}

/** Every page forward from the first, then every page back from the last: ids, totals and which links exist. */
async function walk(search: (query: SearchQuery) => Promise<Page<StoredVersion>>, query: SearchQuery) {
  const pages: ReturnType<typeof keys>[] = [];
  let page = await search(query);
  pages.push(keys(page));
  for (const link of ['next', 'previous'] as const) {
    while (page[link]) {
      if (pages.length > 50) throw new Error('paging does not end');
      page = await search({ ...query, cursor: page[link] });
      pages.push(keys(page));
    }
  }
  return pages;
}

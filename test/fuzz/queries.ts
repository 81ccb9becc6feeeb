// Hostile search query strings for the fuzzers: random parameters, modifiers, prefixes, chains, _has, _include,
// _sort, _count and other result parameters, very long values, and percent-encoding garbage.
import fc from 'fast-check';

export const SEARCH_TYPES = ['Patient', 'Observation', 'Encounter', 'Practitioner', 'Nope', 'patient', '_history'];

const PARAMETER_NAMES = [
  'name',
  'family',
  'given',
  'birthdate',
  'gender',
  'identifier',
  'active',
  'address',
  'telecom',
  'subject',
  'patient',
  'code',
  'date',
  'value-quantity',
  'value-string',
  'combo-code-value-quantity',
  'component-code-value-quantity',
  'status',
  'category',
  'general-practitioner',
  'organization',
  'length',
  'class',
  '_id',
  '_lastUpdated',
  '_tag',
  '_profile',
  '_security',
  '_source',
  '_text',
  '_content',
  '_list',
  '_query',
  '_filter',
  '_type',
  'unknown-param',
  '',
];

const RESULT_PARAMETERS = [
  '_count',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_total',
  '_cursor',
  '_format',
  '_pretty',
  '_contained',
  '_containedType',
];

const MODIFIERS = [
  'exact',
  'contains',
  'missing',
  'not',
  'text',
  'above',
  'below',
  'in',
  'not-in',
  'of-type',
  'identifier',
  'iterate',
  'Patient',
  'Observation',
  'type',
  '',
  'bogus',
];

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'xx', ''];

/** Percent-encoding that decodes to nothing valid, or to control bytes and invalid UTF-8. */
const PERCENT_GARBAGE = ['%', '%z', '%zz', '%0', '%00', '%ff', '%F0%28%8C%28', '%C0%AF', '%E2%80%AE', '%25%', '%%%'];

const valueText = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '2026-01-02',
    '2026',
    '2026-13',
    '2026-01-02T10:00:00Z',
    '2026-01-02T10:00',
    '-0001',
    '1e400',
    'NaN',
    'http://loinc.org|8867-4',
    '|',
    '||',
    ',',
    ',,,',
    '\\,',
    '\\|',
    '\\$',
    '72|http://unitsofmeasure.org|/min',
    '8867-4$72',
    'Patient/fuzz-known',
    'Patient/',
    '/',
    'true',
    '*',
    '../../etc/passwd',
  ),
  fc.constantFrom(...PERCENT_GARBAGE),
  fc
    .tuple(fc.constantFrom('a', '%', ',', '|', '$'), fc.integer({ min: 1000, max: 12_000 }))
    .map(([c, n]) => c.repeat(n)),
);

const withPrefix = fc.tuple(fc.constantFrom(...PREFIXES), valueText).map(([p, v]) => p + v);

const chain = fc
  .array(fc.constantFrom(...PARAMETER_NAMES, 'subject:Patient', 'general-practitioner:Practitioner'), {
    minLength: 2,
    maxLength: 6,
  })
  .map((names) => names.join('.'));

const hasParameter = fc
  .tuple(
    fc.constantFrom('Observation', 'Encounter', 'Nope', ''),
    fc.constantFrom('subject', 'patient', 'x', ''),
    fc.constantFrom('code', 'status', '_has:Observation:subject:code', ''),
  )
  .map(([type, ref, param]) => `_has:${type}:${ref}:${param}`);

const parameterName = fc.oneof(
  fc.constantFrom(...PARAMETER_NAMES),
  fc.tuple(fc.constantFrom(...PARAMETER_NAMES), fc.constantFrom(...MODIFIERS)).map(([n, m]) => `${n}:${m}`),
  chain,
  hasParameter,
  fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
);

const includeValue = fc
  .tuple(
    fc.constantFrom('Observation', 'Patient', 'Encounter', '*', 'Nope', ''),
    fc.constantFrom('subject', 'patient', 'general-practitioner', '*', 'x', ''),
    fc.option(fc.constantFrom('Patient', 'Practitioner', 'Nope'), { nil: undefined }),
  )
  .map(([type, param, target]) => [type, param, target].filter((p) => p !== undefined).join(':'));

const resultValue = fc.oneof(
  fc.constantFrom('0', '1', '1000', '1001', '-1', '999999999', '99999999999', '1.5', 'true', 'count', 'data'),
  fc.constantFrom('text', 'false', 'none', 'estimate', 'accurate', 'json', 'xml', 'application/fhir+json'),
  fc.constantFrom('-date', 'date,-_id', '_lastUpdated', '-_score', 'name:exact', ',', '--date', 'bogus'),
  fc.constantFrom('id,name', 'meta', 'name,,', '*'),
  includeValue,
  valueText,
);

const resultParameter = fc.tuple(fc.constantFrom(...RESULT_PARAMETERS), resultValue);
const searchParameter = fc.tuple(parameterName, fc.oneof(valueText, withPrefix));

/** Percent-encodes the UTF-8 bytes `keep` does not accept (lone surrogates become U+FFFD, as browsers send them). */
function percentEncode(text: string, keep: RegExp): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += keep.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Encodes a pair as a browser would, or leaves it raw (only bytes http.request accepts: no spaces or controls). */
function encodePair([name, value]: [string, string], raw: boolean): string {
  const keep = raw ? /[\x21-\x7e]/ : /[A-Za-z0-9\-_.!~*'()]/;
  return `${percentEncode(name, keep).replace(/#/g, '%23')}=${percentEncode(value, keep).replace(/#/g, '%23')}`;
}

/** A query string (without the `?`): up to 6 parameters, each either encoded or sent raw. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.oneof(searchParameter, resultParameter), fc.boolean()), { maxLength: 6 })
  .map((pairs) => pairs.map(([pair, raw]) => encodePair(pair, raw)).join('&'));

/** A search request path: type or system level, GET with the query, or POST _search with it as a form body. */
export const searchRequest = fc
  .tuple(fc.constantFrom(...SEARCH_TYPES, ''), hostileQuery, fc.constantFrom('GET', 'GET', 'POST'))
  .map(([type, query, method]) => {
    const base = type === '' ? '/fhir' : `/fhir/${type}`;
    if (method === 'GET') return { method, path: `${base}?${query}` };
    return {
      method,
      path: `${base}/_search`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: query,
    };
  });

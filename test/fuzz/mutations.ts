// Hostile JSON for the fuzzers: valid resources with fields mutated (wrong JSON types, huge and negative numbers,
// deep nesting, odd unicode, nulls, arrays for objects, unknown keys, missing keys), and plain random JSON.
import fc from 'fast-check';

/** A few valid resources the mutations start from; `Patient/fuzz-known` exists before the first case. */
export const KNOWN_PATIENT = 'fuzz-known';

export const VALID_RESOURCES: Record<string, unknown>[] = [
  {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
    active: true,
    name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
    telecom: [{ system: 'phone', value: '(03) 5555 6473', use: 'work', rank: 1 }],
    gender: 'male',
    birthDate: '1974-12-25',
    deceasedBoolean: false,
    address: [{ use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
    contact: [
      {
        relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' }] }],
        name: { family: 'du Marché', given: ['Bénédicte'] },
      },
    ],
    managingOrganization: { reference: 'Organization/1' },
  },
  {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${KNOWN_PATIENT}` },
    effectiveDateTime: '2026-01-02T10:00:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    referenceRange: [{ low: { value: 60, unit: '/min' }, high: { value: 100, unit: '/min' } }],
    component: [{ code: { text: 'rhythm' }, valueString: 'regular' }],
  },
  {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${KNOWN_PATIENT}` },
    period: { start: '2026-01-02T09:00:00+01:00', end: '2026-01-02T09:30:00+01:00' },
    length: { value: 30, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' },
  },
  {
    resourceType: 'Practitioner',
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
    name: [{ family: 'Careful', given: ['Adam'], prefix: ['Dr'] }],
    qualification: [{ code: { text: 'MD' }, period: { start: '1995' } }],
  },
];

const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 64,
  -1,
  -0,
  5e-324,
  1.2345678901234568e29,
);

/** Strings that break naive code: control characters, lone surrogates, RTL marks, combining runs, NULs, SQL. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202eevil',
    'e\u0301\u0301\u0301\u0301',
    "'; DROP TABLE resources; --",
    '%00%ff',
    '${jndi:x}',
    '<script>alert(1)</script>',
    '\uFEFF',
    '1974-13-45',
    '2026-01-02T25:61:61Z',
    'x'.repeat(70_000),
  ),
);

const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/** A value nested `depth` levels deep in arrays or objects (the server refuses more than 64 levels). */
const deeplyNested = fc.tuple(fc.integer({ min: 1, max: 90 }), fc.boolean(), anyJson).map(([depth, arrays, leaf]) => {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { extension: value };
  return value;
});

type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'same-type'; at: number; text: string; number: number }
  | { kind: 'wrap-array'; at: number }
  | { kind: 'unwrap-array'; at: number }
  | { kind: 'delete'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: unknown };

const replacement = fc.oneof(
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: hugeNumber },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, {}, [], [null], [[]], [{}]) },
  { weight: 2, arbitrary: anyJson },
  { weight: 1, arbitrary: deeplyNested },
);

const keyName = fc.oneof(
  fc.constantFrom('resourceType', 'id', 'meta', 'extension', 'contained', 'text', '_birthDate', 'fhir_comments'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('same-type' as const),
      at: fc.nat(),
      text: hostileString,
      number: fc.oneof(hugeNumber, fc.double({ noNaN: true, noDefaultInfinity: true })),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: replacement }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap-array' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unwrap-array' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key: keyName, value: replacement }),
  },
);

type Path = (string | number)[];

/** Every path to a value inside `root` (not the root itself), depth first. */
function pathsOf(root: unknown, prefix: Path = []): Path[] {
  if (typeof root !== 'object' || root === null) return [];
  const keys: (string | number)[] = Array.isArray(root) ? root.map((_, i) => i) : Object.keys(root);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...pathsOf((root as Record<string | number, unknown>)[key], path)];
  });
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  return node;
}

/** Objects (the root included) that a new key can be added to. */
function objectPaths(root: unknown): Path[] {
  const paths = [[], ...pathsOf(root)].filter((path) => {
    const value = path.length === 0 ? root : parentOf(root, path)[path[path.length - 1]];
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  });
  return paths;
}

function applyMutation(root: Record<string, unknown>, m: Mutation): void {
  if (m.kind === 'add-key') {
    const targets = objectPaths(root);
    const path = targets[m.at % targets.length];
    const node = path.length === 0 ? root : (parentOf(root, path)[path[path.length - 1]] as Record<string, unknown>);
    node[m.key] = m.value;
    return;
  }
  const paths = pathsOf(root);
  if (paths.length === 0) return;
  const path = paths[m.at % paths.length];
  const parent = parentOf(root, path);
  const key = path[path.length - 1];
  if (m.kind === 'replace') parent[key] = m.value;
  // Keeps the JSON type, so the resource often stays valid and the hostile value reaches storage and indexing.
  if (m.kind === 'same-type' && typeof parent[key] === 'string') parent[key] = m.text;
  if (m.kind === 'same-type' && typeof parent[key] === 'number') parent[key] = m.number;
  if (m.kind === 'wrap-array') parent[key] = [parent[key]];
  if (m.kind === 'unwrap-array' && Array.isArray(parent[key])) parent[key] = (parent[key] as unknown[])[0];
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
}

/** The resource `base` makes, with one to four mutations applied. */
export function mutationsOf(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([original, mutations]) => {
    const resource = structuredClone(original);
    for (const m of mutations) applyMutation(resource, m);
    return resource;
  });
}

/** One of the valid resources with one to four mutations applied. */
export const mutatedResource = mutationsOf(fc.constantFrom(...VALID_RESOURCES));

/** A body that is JSON but not necessarily an object: anything fast-check's JSON generator makes. */
export const randomJsonBody: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc
    .dictionary(keyName, anyJson, { maxKeys: 6 })
    .chain((fields) =>
      fc
        .constantFrom('Patient', 'Observation', 'Bundle', 'OperationOutcome', 'Nope', '', 42)
        .map((resourceType) => JSON.stringify({ ...fields, resourceType })),
    ),
);

/** A body that is not JSON at all, or JSON cut short. */
export const brokenJsonBody: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(mutatedResource, fc.nat())
    .map(([resource, cut]) => JSON.stringify(resource).slice(0, cut % JSON.stringify(resource).length)),
  fc.constantFrom(
    '{',
    '[',
    '{"resourceType":"Patient",}',
    '\uFEFF{"resourceType":"Patient"}',
    'null',
    'NaN',
    // Integers JSON can write but a double cannot hold.
    '{"resourceType":"Patient","multipleBirthInteger":123456789012345678901234567890}',
    '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e999}}',
  ),
);

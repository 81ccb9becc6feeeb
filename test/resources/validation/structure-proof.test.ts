// The structure proof must never call a resource valid that Medplum's validator would report anything about:
// checked over HL7's R4 examples, Synthea patients, the benchmark generator's records, and thousands of mutants
// of them (deleted, emptied, nulled, mistyped, misformatted, duplicated and unknown properties, wrong reference
// targets). It must also prove the bulk of valid content, or it buys nothing.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../../resources/definitions';
import { provablyValid } from '../../../resources/validation/structure-proof';
import { medplumIssues, validateStructure } from '../../../resources/validation/structure';
import { generatePatientRecords } from '../../bench/generator';
import { Random } from '../../bench/random';
import { fixturePath } from '../../support/fixtures';

const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
// STRUCTURE_PROOF_MUTANTS raises the number of mutants per resource for a deeper run.
const SYNTHEA_PATIENTS = [
  '8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json.gz',
  'dd92a3e7-d1db-c15a-f8fe-e3847b7f07b1.json.gz',
];
const MUTANTS_PER_RESOURCE = Number(process.env.STRUCTURE_PROOF_MUTANTS ?? 2);

beforeAll(() => {
  loadFhirDefinitions();
});

/** Medplum's own verdict: no issue at all, not even a warning. */
function medplumFindsNothing(resource: Resource): boolean {
  try {
    return medplumIssues(resource).length === 0;
  } catch {
    return false;
  }
}

function hl7Examples(): Resource[] {
  return fs
    .readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.json') && file !== 'package.json' && !file.startsWith('.'))
    .map((file) => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Resource)
    .filter((resource) => typeof resource.resourceType === 'string');
}

/** A Synthea patient's resources, with urn:uuid references made literal as they are once stored. */
function syntheaResources(): Resource[] {
  return SYNTHEA_PATIENTS.flatMap(syntheaPatient);
}

function syntheaPatient(name: string): Resource[] {
  const file = fixturePath('synthea', name);
  const bundle = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString()) as Bundle;
  const literal = new Map(
    (bundle.entry ?? []).map((e) => [e.fullUrl, `${e.resource?.resourceType}/${e.resource?.id}`]),
  );
  const json = JSON.stringify((bundle.entry ?? []).map((e) => e.resource));
  return JSON.parse(json.replace(/"(urn:uuid:[0-9a-f-]+)"/g, (m, url: string) => `"${literal.get(url) ?? url}"`));
}

function generatedResources(): Resource[] {
  return [...generatePatientRecords(11, 6)].flatMap((record) => record.resources as Resource[]);
}

describe('the structure proof agrees with Medplum', () => {
  let corpus: Resource[];
  let proven: Resource[];
  beforeAll(() => {
    corpus = [...hl7Examples(), ...syntheaResources(), ...generatedResources()];
    proven = corpus.filter((r) => provablyValid(r));
  });

  test('every resource it proves valid is one Medplum finds nothing wrong with', () => {
    const unsound = proven.filter((r) => !medplumFindsNothing(r)).map((r) => `${r.resourceType}/${r.id}`);
    expect(unsound).toEqual([]);
  });

  test('it proves nearly all of the clinical content Medplum finds clean, so Medplum seldom runs', () => {
    const clinical = [...syntheaResources(), ...generatedResources()];
    const clean = clinical.filter(medplumFindsNothing);
    expect(corpus.length).toBeGreaterThan(5000);
    expect(clean.length).toBeGreaterThan(1000);
    expect(clinical.filter((r) => provablyValid(r)).length).toBeGreaterThan(clean.length * 0.95);
  });

  test('no mutant it proves valid has anything Medplum would report', () => {
    const random = new Random(20261126);
    const mutants = proven.flatMap((r) => Array.from({ length: MUTANTS_PER_RESOURCE }, () => mutate(r, random)));
    const provenMutants = mutants.filter((m) => provablyValid(m.resource));
    const unsound = provenMutants
      .filter((m) => !medplumFindsNothing(m.resource))
      .map((m) => `${m.resource.resourceType}/${m.resource.id}: ${m.change}`);
    expect(unsound).toEqual([]);
    // The mutants reach both sides: many are invalid (and unproven), and harmless ones are still proven.
    expect(mutants.length - provenMutants.length).toBeGreaterThan(mutants.length / 2);
    expect(provenMutants.length).toBeGreaterThan(mutants.length / 20);
  }, 120_000);
});

describe('what the proof leaves to Medplum', () => {
  const observation = (): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: 'Patient/p1' },
    valueQuantity: { value: 72, unit: '/min' },
  });

  test('a plain valid resource is proven, and validates with no issue', () => {
    expect(provablyValid(observation())).toBe(true);
    expect(validateStructure(observation())).toEqual([]);
  });

  test.each<[string, (o: Record<string, unknown>) => void]>([
    ['an invariant that fails (obs-6)', (o) => (o.dataAbsentReason = { text: 'not asked' })],
    ['two properties of one choice element', (o) => (o.valueString = 'high')],
    ['a reference to a type the element does not allow', (o) => (o.subject = { reference: 'Medication/m1' })],
    ['a primitive extension', (o) => (o._status = { extension: [{ url: 'http://x.org/e', valueString: 'x' }] })],
    [
      'a contained resource with one of its own (dom-2)',
      (o) => (o.contained = [containing({ resourceType: 'Patient' })]),
    ],
    ['a null', (o) => (o.issued = null)],
    ['an unknown property', (o) => (o.colour = 'blue')],
    ['a missing required property', (o) => delete o.status],
    ['a misformatted date', (o) => (o.effectiveDateTime = '2026-13-01')],
  ])('%s is not proven; Medplum gives the verdict', (_name, change) => {
    const resource = observation() as unknown as Record<string, unknown>;
    change(resource);
    expect(provablyValid(resource as unknown as Resource)).toBe(false);
  });

  test('contained resources are walked as their own types', () => {
    const withContained = { ...observation(), contained: [{ resourceType: 'Patient', id: 'c1', gender: 'female' }] };
    expect(provablyValid(withContained as Observation)).toBe(true);
    const misspelled = { ...observation(), contained: [{ resourceType: 'Patient', id: 'c1', gendre: 'female' }] };
    expect(provablyValid(misspelled as Observation)).toBe(false);
  });

  test('a warning Medplum gives still reaches the caller', () => {
    const resource = { ...observation(), subject: { reference: 'Medication/m1' } };
    expect(validateStructure(resource)).toEqual([
      expect.objectContaining({ severity: 'warning', expression: ['Observation.subject'] }),
    ]);
  });

  test('a resource of an unknown type or without one is not proven', () => {
    expect(provablyValid({ resourceType: 'Nonsense' } as unknown as Resource)).toBe(false);
    expect(provablyValid({ resourceType: 'HumanName' } as unknown as Resource)).toBe(false);
    expect(provablyValid({} as Resource)).toBe(false);
  });
});

function containing(resource: Record<string, unknown>): Record<string, unknown> {
  return { resourceType: 'Patient', id: 'outer', contained: [{ ...resource, id: 'inner' }] };
}

interface Mutant {
  resource: Resource;
  change: string;
}

type Container = Record<string, unknown> | unknown[];

/** Every place in a resource a value sits: an object's key or an array's index. */
function places(value: unknown, found: [Container, string | number][] = []): [Container, string | number][] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      found.push([value, i]);
      places(item, found);
    });
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'resourceType') continue;
      found.push([value as Record<string, unknown>, key]);
      places(item, found);
    }
  }
  return found;
}

const MUTATIONS: Record<string, (container: Container, key: string | number, value: unknown) => void> = {
  delete: (c, k) => (Array.isArray(c) ? c.splice(k as number, 1) : delete c[k as string]),
  null: (c, k) => set(c, k, null),
  emptyString: (c, k) => set(c, k, ''),
  blankString: (c, k) => set(c, k, '  '),
  emptyObject: (c, k) => set(c, k, {}),
  emptyArray: (c, k) => set(c, k, []),
  wrapInArray: (c, k, v) => set(c, k, [v]),
  unwrapArray: (c, k, v) => set(c, k, Array.isArray(v) ? v[0] : v),
  number: (c, k) => set(c, k, 1.5),
  negative: (c, k) => set(c, k, -1),
  zero: (c, k) => set(c, k, 0),
  string: (c, k, v) => set(c, k, String(v)),
  boolean: (c, k) => set(c, k, true),
  badFormat: (c, k) => set(c, k, 'not a valid value!'),
  unknownKey: (_c, _k, v) => withObject(v, (o) => (o.bogus = 1)),
  nestedResourceType: (_c, _k, v) => withObject(v, (o) => (o.resourceType = 'Patient')),
  primitiveExtension: (c, k) => (Array.isArray(c) ? undefined : set(c, `_${String(k)}`, { id: 'x' })),
  secondChoice: (c, k) => (Array.isArray(c) ? undefined : set(c, String(k).replace(/[A-Z].*$/, 'String'), 'x')),
  wrongTarget: (_c, _k, v) => withObject(v, (o) => 'reference' in o && (o.reference = 'Basic/b1')),
  swapWithSibling: (c, k) => {
    if (Array.isArray(c)) return;
    const other = Object.keys(c).find((key) => key !== k && key !== 'resourceType');
    if (other) [c[k as string], c[other]] = [c[other], c[k as string]];
  },
};
const MUTATION_NAMES = Object.keys(MUTATIONS);

function withObject(value: unknown, change: (o: Record<string, unknown>) => unknown): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) change(value as Record<string, unknown>);
}

function set(container: Container, key: string | number, value: unknown): void {
  (container as Record<string | number, unknown>)[key] = value;
}

function mutate(original: Resource, random: Random): Mutant {
  const resource = structuredClone(original);
  const spots = places(resource);
  const [container, key] = spots[random.int(0, spots.length - 1)];
  const name = MUTATION_NAMES[random.int(0, MUTATION_NAMES.length - 1)];
  const value = (container as Record<string | number, unknown>)[key];
  MUTATIONS[name](container, key, value);
  return { resource, change: `${name} at ${String(key)}` };
}

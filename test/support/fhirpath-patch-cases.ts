// The HL7 FHIRPath Patch test cases (fhir-test-cases r4/patch, as JSON), read from the test fixtures.
import fs from 'node:fs';
import type { Parameters, Resource } from '@medplum/fhirtypes';
import { fixturePath } from './fixtures';

export interface FhirPathPatchCase {
  name: string;
  mode: 'both' | 'forwards';
  input: Resource;
  diff: Parameters;
  output?: Resource;
  /** Set when applying the patch must fail (the reference implementation's message). */
  error?: string;
}

export function fhirPathPatchCases(): FhirPathPatchCase[] {
  const file = fixturePath('fhir-test-cases', 'json', 'r4', 'patch', 'fhir-patch-tests.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cases: FhirPathPatchCase[] }).cases;
}

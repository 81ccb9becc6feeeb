// Every HL7 FHIRPath Patch test case (fhir-test-cases r4/patch) applied by the patch engine itself: the
// result must equal the case's output, and a case that expects an error must fail with a 4xx.
import { FhirError } from '../../../resources/errors';
import { applyPatch } from '../../../resources/patch';
import { parseFhirPathPatch } from '../../../resources/fhirpath-patch/parse';
import { fhirPathPatchCases } from '../../support/fhirpath-patch-cases';

const cases = fhirPathPatchCases();

test('the fixture holds the 33 cases', () => {
  expect(cases).toHaveLength(33);
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
  const input = structuredClone(testCase.input);
  const apply = () => applyPatch(input, parseFhirPathPatch(testCase.diff));
  if (testCase.error) {
    test('fails with a 422, as the case expects an error', () => {
      let error: unknown;
      try {
        apply();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FhirError);
      expect((error as FhirError).status).toBe(422);
    });
    return;
  }
  test('gives the expected output and leaves the input as it was', () => {
    expect(apply()).toStrictEqual(testCase.output);
    expect(input).toStrictEqual(testCase.input);
  });
});

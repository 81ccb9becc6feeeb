// The HL7 FHIRPath Patch test cases (fhir-test-cases r4/patch) through the real HTTP API: POST the input,
// PATCH it with the case's Parameters as application/fhir+json, and read back the case's output (compared
// without id and meta, which the server owns). A case that expects an error must get a 4xx and leave the
// stored resource as it was.
import type { Resource } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestApp, type TestApp } from '../../support/app';
import { fhirPathPatchCases } from '../../support/fhirpath-patch-cases';

/**
 * Cases whose output the server refuses to store, by the invariant it breaks. Their expected outputs hold a
 * Patient.contact with neither name, telecom, address nor organization, which R4 forbids (pat-1), and the
 * server validates every write. Each listed case must still be refused for that reason (a 400 naming the
 * constraint, nothing written), so the test fails when one starts passing.
 */
const EXPECTED_FAILURES: Record<string, string> = {
  'Delete Nested Primitive #2': 'pat-1',
  'Consecutive operations': 'pat-1',
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function withoutServerFields(resource: Resource): Record<string, unknown> {
  const { id: _id, meta: _meta, ...rest } = resource as Resource & Record<string, unknown>;
  return rest;
}

const cases = fhirPathPatchCases();

test('every expected failure names a case of the fixture', () => {
  const names = new Set(cases.map((c) => c.name));
  expect(Object.keys(EXPECTED_FAILURES).filter((name) => !names.has(name))).toEqual([]);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (name, testCase) => {
  const invariant = EXPECTED_FAILURES[name];
  const title = invariant
    ? `is refused: the output breaks ${invariant} (expected failure)`
    : testCase.error
      ? 'is refused with a 4xx and nothing written'
      : 'stores the expected output';
  test(title, async () => {
    const created = await t
      .api()
      .post(`/fhir/${testCase.input.resourceType}`)
      .set('Content-Type', FHIR_JSON)
      .send(withoutServerFields(testCase.input));
    expect(created.status).toBe(201);
    const url = `/fhir/${testCase.input.resourceType}/${created.body.id}`;
    const patched = await t.api().patch(url).set('Content-Type', FHIR_JSON).send(testCase.diff);
    const read = await t.api().get(url);
    if (invariant || testCase.error) {
      expect(patched.status).toBe(invariant ? 400 : 422);
      expect(patched.body.resourceType).toBe('OperationOutcome');
      if (invariant) expect(patched.body.issue[0].diagnostics).toContain(`Constraint ${invariant} not met`);
      expect(read.body).toEqual(created.body);
      return;
    }
    expect(patched.status).toBe(200);
    expect(withoutServerFields(read.body)).toStrictEqual(withoutServerFields(testCase.output as Resource));
  });
});

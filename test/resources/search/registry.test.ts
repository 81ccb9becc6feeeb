import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SearchParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../../resources/errors';
import { SearchParameterRegistry } from '../../../resources/search/registry';

const registry = SearchParameterRegistry.withBaseParameters();

function searchParameter(fields: Partial<SearchParameter> & Pick<SearchParameter, 'code'>): SearchParameter {
  return {
    resourceType: 'SearchParameter',
    url: `http://hms.example/SearchParameter/${fields.code}`,
    name: fields.code,
    status: 'active',
    description: 'test parameter',
    base: ['Patient'],
    type: 'string',
    ...fields,
  };
}

describe('SearchParameterRegistry.withBaseParameters', () => {
  it('defines each R4 base parameter per resource type with its own expression, compiled', () => {
    const name = registry.get('Patient', 'name');
    expect(name).toMatchObject({
      code: 'name',
      type: 'string',
      resourceType: 'Patient',
      url: 'http://hl7.org/fhir/SearchParameter/Patient-name',
      expression: 'Patient.name',
      targets: [],
    });
    expect(typeof name?.evaluate).toBe('function');
    expect(registry.get('Observation', 'date')?.expression).toBe('Observation.effective');
    expect(registry.get('Encounter', 'date')?.expression).toBe('Encounter.period');
    expect(registry.get('Observation', 'patient')?.expression).toBe(
      "Observation.subject.where(hmsReferenceTo('Patient'))",
    );
  });

  it('includes the Resource-level parameters for every type, DomainResource ones only where they apply', () => {
    const codes = (type: string) => registry.forResourceType(type).map((d) => d.code);
    for (const code of ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_content', '_query']) {
      expect(codes('Patient')).toContain(code);
      expect(codes('Bundle')).toContain(code);
    }
    expect(codes('Patient')).toContain('_text');
    expect(codes('Bundle')).not.toContain('_text');
    expect(codes('Patient')).toEqual([...codes('Patient')].sort((a, b) => a.localeCompare(b)));
    expect(registry.get('Patient', '_tag')).toMatchObject({ type: 'token', expression: 'Resource.meta.tag' });
    expect(registry.get('Binary', '_profile')).toMatchObject({ type: 'uri', resourceType: 'Binary' });
  });

  it('knows _id and _lastUpdated as row parameters, without an evaluator', () => {
    expect(registry.get('Patient', '_id')).toMatchObject({ type: 'token', onRow: true });
    expect(registry.get('Patient', '_lastUpdated')).toMatchObject({ type: 'date', onRow: true });
    expect(registry.get('Patient', '_id')?.evaluate).toBeUndefined();
    expect(registry.get('Patient', '_text')?.evaluate).toBeUndefined();
  });

  it('holds only R4 base parameters (not Medplum’s nor US Core’s)', () => {
    expect(registry.get('Patient', 'race')).toBeUndefined();
    expect(registry.get('Patient', '_compartment')).toBeUndefined();
    expect(registry.get('Location', 'near')?.type).toBe('special');
  });

  it('knows the target types of reference parameters', () => {
    expect([...registry.targetTypes('Observation', 'subject')].sort()).toEqual([
      'Device',
      'Group',
      'Location',
      'Patient',
    ]);
    expect(registry.targetTypes('Observation', 'patient')).toEqual(['Patient']);
    expect(registry.targetTypes('Observation', 'code')).toEqual([]);
    expect(registry.targetTypes('Observation', 'nope')).toEqual([]);
  });

  it('resolves composite components through their definition URLs', () => {
    expect(registry.get('Observation', 'code-value-quantity')?.components).toEqual([
      expect.objectContaining({
        definition: 'http://hl7.org/fhir/SearchParameter/clinical-code',
        code: 'code',
        type: 'token',
        expression: 'code',
      }),
      expect.objectContaining({
        definition: 'http://hl7.org/fhir/SearchParameter/Observation-value-quantity',
        code: 'value-quantity',
        type: 'quantity',
        expression: 'value.ofType(Quantity)',
      }),
    ]);
    // R4 erratum kept as published: relationship pairs the reference parameter with `code` and the token with
    // `target`, so it never yields a complete tuple.
    expect(registry.get('DocumentReference', 'relationship')?.components?.[0]).toMatchObject({
      code: 'relatesto',
      type: 'reference',
      targets: ['DocumentReference'],
      expression: 'code',
    });
  });

  it('marks the parameters whose terms other parameters cover exactly as unions of those', () => {
    const unions = Object.fromEntries(
      registry
        .forResourceType('Observation')
        .filter((d) => d.unionOf)
        .map((d) => [d.code, [...(d.unionOf ?? [])].sort()]),
    );
    expect(unions).toEqual({
      'combo-code': ['code', 'component-code'],
      'combo-code-value-concept': ['code-value-concept', 'component-code-value-concept'],
      'combo-code-value-quantity': ['code-value-quantity', 'component-code-value-quantity'],
      'combo-data-absent-reason': ['component-data-absent-reason', 'data-absent-reason'],
      'combo-value-concept': ['component-value-concept', 'value-concept'],
      'combo-value-quantity': ['component-value-quantity', 'value-quantity'],
    });
    expect(registry.get('Observation', 'code')?.unionOf).toBeUndefined();
  });

  it('makes a composite a union only of composites with the same components', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    const component = (definition: string, expression: string) => ({ definition, expression });
    const observationUrl = 'http://hl7.org/fhir/SearchParameter/Observation';
    local.addSearchParameter(
      searchParameter({
        code: 'combo-code-value-string',
        type: 'composite',
        base: ['Observation'],
        expression: 'Observation | Observation.component',
        component: [
          component('http://hl7.org/fhir/SearchParameter/clinical-code', 'code'),
          component(`${observationUrl}-value-string`, 'value.as(string)'),
        ],
      }),
    );
    // Composites over the same terms with other components (code-value-quantity ...) are not its members.
    expect(local.get('Observation', 'combo-code-value-string')?.unionOf).toBeUndefined();
    expect(local.get('Observation', 'combo-code-value-quantity')?.unionOf).toEqual([
      'code-value-quantity',
      'component-code-value-quantity',
    ]);
  });

  it('makes a run-time parameter a union only when its terms are covered exactly, by parameters of its type', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    const add = (code: string, expression: string, type: SearchParameter['type'] = 'string') =>
      local.addSearchParameter(searchParameter({ code, type, expression }));
    add('names-and-cities', 'Patient.name | Patient.address.city');
    add('names-and-notes', 'Patient.name | Patient.extension.value');
    add('names-as-tokens', 'Patient.name | Patient.address.city', 'token');
    expect(local.get('Patient', 'names-and-cities')?.unionOf).toEqual(['address-city', 'name']);
    expect(local.get('Patient', 'names-and-notes')?.unionOf).toBeUndefined();
    expect(local.get('Patient', 'names-as-tokens')?.unionOf).toBeUndefined();
  });

  it('answers nothing for unknown types and codes', () => {
    expect(registry.get('Nope', 'name')).toBeUndefined();
    expect(registry.forResourceType('Nope')).toEqual([]);
    expect(registry.forResourceType('DomainResource')).toEqual([]);
    expect(registry.get('Patient', 'nope')).toBeUndefined();
  });

  it('finds the SearchParameter resources by URL', () => {
    expect(registry.getByUrl('http://hl7.org/fhir/SearchParameter/Patient-name')?.code).toBe('name');
    expect(registry.getByUrl('http://nope')).toBeUndefined();
  });

  it('shares the parsed base bundle and the compiled expressions between registries', () => {
    const other = SearchParameterRegistry.withBaseParameters();
    expect(other.get('Patient', 'name')).not.toBe(registry.get('Patient', 'name'));
    expect(other.get('Patient', 'name')?.evaluate).toBe(registry.get('Patient', 'name')?.evaluate);
    expect(other.get('Patient', 'name')?.resource).toBe(registry.get('Patient', 'name')?.resource);
  });
});

describe('profiles/', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hms-profiles-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, json: object) => fs.writeFileSync(path.join(dir, name), JSON.stringify(json));

  it('adds the SearchParameters of the folder, as files or Bundle entries, and nothing else', () => {
    write(
      'a-birth-place.json',
      searchParameter({ code: 'birth-place', expression: "Patient.extension('http://x/bp').value" }),
    );
    write('b-bundle.json', {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: searchParameter({ code: 'nickname', expression: "Patient.name.where(use='nickname')" }) },
        { resource: { resourceType: 'StructureDefinition', id: 'sd' } },
      ],
    });
    write('c-profile.json', { resourceType: 'StructureDefinition', id: 'other' });
    const withProfiles = SearchParameterRegistry.withBaseParameters({ profilesDir: dir });
    expect(withProfiles.get('Patient', 'birth-place')?.expression).toBe("Patient.extension('http://x/bp').value");
    expect(withProfiles.get('Patient', 'nickname')?.type).toBe('string');
    expect(withProfiles.forResourceType('Patient').length).toBe(registry.forResourceType('Patient').length + 2);
  });

  it('reads the project’s own profiles/ folder by default', () => {
    const fromProject = SearchParameterRegistry.withBaseParameters();
    expect(fromProject.get('Patient', 'name')).toBeDefined();
  });

  it('refuses an unusable SearchParameter in the folder', () => {
    write('bad.json', searchParameter({ code: 'bad', expression: 'Patient.name.where(' }));
    expect(() => SearchParameterRegistry.withBaseParameters({ profilesDir: dir })).toThrow(/does not compile/);
  });
});

describe('addSearchParameter', () => {
  it('adds a parameter that extraction can use at once', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    expect(local.get('Patient', 'eye-color')).toBeUndefined();
    local.addSearchParameter(
      searchParameter({ code: 'eye-color', type: 'token', expression: "Patient.extension('x').value" }),
    );
    expect(local.get('Patient', 'eye-color')).toMatchObject({ type: 'token', resourceType: 'Patient' });
  });

  it('replaces the parameter with the same URL, everywhere it applied', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(
      searchParameter({
        code: 'alias',
        base: ['Patient', 'Practitioner'],
        expression: 'Patient.name | Practitioner.name',
      }),
    );
    local.addSearchParameter(
      searchParameter({
        code: 'alias2',
        url: 'http://hms.example/SearchParameter/alias',
        expression: 'Patient.name.given',
      }),
    );
    expect(local.get('Patient', 'alias')).toBeUndefined();
    expect(local.get('Practitioner', 'alias')).toBeUndefined();
    expect(local.get('Patient', 'alias2')?.expression).toBe('Patient.name.given');
  });

  it('replaces the parameter with the same base and code, only for that base', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(
      searchParameter({ code: 'phone', type: 'token', expression: "Patient.telecom.where(system='sms')" }),
    );
    expect(local.get('Patient', 'phone')?.url).toBe('http://hms.example/SearchParameter/phone');
    expect(local.get('Practitioner', 'phone')?.url).toBe('http://hl7.org/fhir/SearchParameter/individual-phone');
  });

  it('lets a type-specific parameter override a Resource-level one, and a Resource-level one reach all types', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(searchParameter({ code: '_source', type: 'uri', expression: 'Patient.meta.source' }));
    local.addSearchParameter(
      // @medplum/fhirtypes leaves the abstract types out of SearchParameter.base, though R4 uses them.
      searchParameter({
        code: 'lang',
        base: ['Resource' as 'Patient'],
        type: 'token',
        expression: 'Resource.language',
      }),
    );
    expect(local.get('Patient', '_source')?.url).toBe('http://hms.example/SearchParameter/_source');
    expect(local.get('Observation', '_source')?.url).toBe('http://hl7.org/fhir/SearchParameter/Resource-source');
    expect(local.get('Observation', 'lang')?.expression).toBe('Resource.language');
  });

  it('resolves a composite whose component is defined later', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    const composite = searchParameter({
      code: 'given-family',
      type: 'composite',
      expression: 'Patient.name',
      component: [
        { definition: 'http://hms.example/SearchParameter/given-only', expression: 'given' },
        { definition: 'http://hl7.org/fhir/SearchParameter/individual-family', expression: 'family' },
      ],
    });
    local.addSearchParameter(composite);
    expect(local.get('Patient', 'given-family')?.components).toBeUndefined();
    local.addSearchParameter(searchParameter({ code: 'given-only', expression: 'Patient.name.given' }));
    expect(local.get('Patient', 'given-family')?.components?.map((c) => c.code)).toEqual(['given-only', 'family']);
  });

  it('refuses a composite whose component is itself composite', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(
      searchParameter({
        code: 'nested',
        type: 'composite',
        base: ['Observation'],
        expression: 'Observation',
        component: [
          { definition: 'http://hl7.org/fhir/SearchParameter/Observation-code-value-quantity', expression: '$this' },
        ],
      }),
    );
    expect(local.get('Observation', 'nested')?.components).toBeUndefined();
  });

  it.each([
    [
      'a resource that is not a SearchParameter',
      { resourceType: 'Patient', url: 'http://x' },
      /SearchParameter with a url/,
    ],
    ['no url', { url: undefined }, /with a url/],
    ['a code with a $', { code: 'a$b' }, /code 'a\$b'/],
    ['a modifier-like code', { code: 'a:b' }, /cannot be defined/],
    ['a row parameter', { code: '_lastUpdated' }, /cannot be defined/],
    ['an unknown type', { type: 'geo' }, /unknown type 'geo'/],
    ['no base', { base: [] }, /base must list/],
    ['an unknown base', { base: ['Nope'] }, /base must list/],
    ['a composite without components', { type: 'composite', component: undefined }, /composite needs components/],
    ['an expression that does not compile', { expression: 'Patient.name.where(' }, /does not compile/],
    ['an expression with no term for a base', { base: ['Patient', 'Group'], expression: 'Patient.name' }, /no term/],
  ])('refuses %s with a 400', (_case, fields, message) => {
    const parameter = { ...searchParameter({ code: 'x', expression: 'Patient.name' }), ...fields } as SearchParameter;
    let error: unknown;
    try {
      registry.addSearchParameter(parameter);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FhirError);
    expect((error as FhirError).status).toBe(400);
    expect((error as FhirError).message).toMatch(message);
  });
});

describe('removeSearchParameter', () => {
  it('removes a parameter from each of its bases, and says whether there was one', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    expect(local.get('Practitioner', 'phone')).toBeDefined();
    expect(local.removeSearchParameter('http://hl7.org/fhir/SearchParameter/individual-phone')).toBe(true);
    expect(local.get('Practitioner', 'phone')).toBeUndefined();
    expect(local.get('Patient', 'phone')).toBeUndefined();
    expect(local.removeSearchParameter('http://hl7.org/fhir/SearchParameter/individual-phone')).toBe(false);
  });

  it('lets the definition a removed parameter had replaced apply again', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(searchParameter({ code: 'phone', type: 'token', expression: 'Patient.telecom' }));
    expect(local.removeSearchParameter('http://hms.example/SearchParameter/phone')).toBe(true);
    expect(local.get('Patient', 'phone')?.url).toBe('http://hl7.org/fhir/SearchParameter/individual-phone');
  });

  it('leaves a base alone where another definition has taken the code', () => {
    const local = SearchParameterRegistry.withBaseParameters();
    local.addSearchParameter(searchParameter({ code: 'phone', type: 'token', expression: 'Patient.telecom' }));
    local.removeSearchParameter('http://hl7.org/fhir/SearchParameter/individual-phone');
    expect(local.get('Patient', 'phone')?.url).toBe('http://hms.example/SearchParameter/phone');
  });
});

// The parsed AST of chains, _has and composites: what every store compiles.
import { parseSearchParams } from '../../../resources/search/parse';
import { SearchParameterRegistry } from '../../../resources/search/registry';

const registry = SearchParameterRegistry.withBaseParameters();
const parse = (type: string, name: string, value: string, strict = true) =>
  parseSearchParams(registry, [type], [[name, value]], { strict });
const conditions = (type: string, name: string, value: string) => parse(type, name, value).query.conditions;

test('a chain names the reference, its resolved target types and the inner condition', () => {
  expect(conditions('Observation', 'subject:Patient.name', 'smith')).toEqual([
    {
      kind: 'chain',
      param: 'subject',
      targetTypes: ['Patient'],
      condition: { kind: 'string', param: 'name', match: 'start', values: ['smith'] },
    },
  ]);
  expect(conditions('Observation', 'patient.general-practitioner:Practitioner._id', 'a,b')).toEqual([
    {
      kind: 'chain',
      param: 'patient',
      targetTypes: ['Patient'],
      condition: {
        kind: 'chain',
        param: 'general-practitioner',
        targetTypes: ['Practitioner'],
        condition: { kind: 'id', ids: ['a', 'b'], not: false },
      },
    },
  ]);
  // subject may point at Group, Device, Patient or Location; only Patient has `gender`
  expect(conditions('Observation', 'subject.gender', 'female')[0]).toMatchObject({ targetTypes: ['Patient'] });
});

test('_has names the source type and its reference; it nests', () => {
  expect(conditions('Patient', '_has:Observation:patient:_has:AuditEvent:entity:agent', 'Practitioner/x')).toEqual([
    {
      kind: 'has',
      sourceType: 'Observation',
      param: 'patient',
      condition: {
        kind: 'has',
        sourceType: 'AuditEvent',
        param: 'entity',
        condition: { kind: 'reference', param: 'agent', values: [{ targetType: 'Practitioner', targetId: 'x' }] },
      },
    },
  ]);
});

test('a composite value is split on $ and each part parsed by its component type', () => {
  expect(conditions('Observation', 'component-code-value-quantity', 'http://loinc.org|8480-6$gt100,8462-4$80')).toEqual(
    [
      {
        kind: 'composite',
        param: 'component-code-value-quantity',
        values: [
          {
            components: [
              {
                kind: 'token',
                param: 'component-code-value-quantity$0',
                values: [{ system: 'http://loinc.org', code: '8480-6' }],
                not: false,
              },
              {
                kind: 'quantity',
                param: 'component-code-value-quantity$1',
                values: [{ prefix: 'gt', low: 100, high: 100 }],
              },
            ],
          },
          {
            components: [
              { kind: 'token', param: 'component-code-value-quantity$0', values: [{ code: '8462-4' }], not: false },
              {
                kind: 'quantity',
                param: 'component-code-value-quantity$1',
                values: [{ prefix: 'eq', low: 79.5, high: 80.5 }],
              },
            ],
          },
        ],
      },
    ],
  );
});

test('limits and errors', () => {
  expect(() => parse('Observation', 'subject.name', 'x')).toThrow(/subject:Location\.name|subject:Patient\.name/);
  expect(() => parse('Observation', 'a.b.c.d.e', 'x')).toThrow(/at most 3/);
  expect(() => parse('Observation', 'code-value-quantity', '8480-6')).toThrow(/2 components/);
  expect(() => parse('Observation', 'subject:Patient.name:nonsense', 'x')).toThrow(/nonsense/);
  // An unsupported modifier is refused in lenient mode too (R4 search.html#modifiers); unknown parameters are not.
  expect(() => parse('Observation', 'subject:Patient.name:nonsense', 'x', false)).toThrow(/modifier :nonsense/);
  expect(parse('Observation', 'subject:Patient.nonsense', 'x', false).unknown).toHaveLength(1);
  // :contains takes at most 64 characters on every store, strict or not (MongoDB matches stored suffixes).
  expect(conditions('Patient', 'name:contains', 'é'.repeat(64))).toHaveLength(1);
  expect(() => parse('Patient', 'name:contains', 'x'.repeat(65), false)).toThrow(/at most 64 characters/);
});

test('the query names the union parameters it uses, per type, at every chain level and in _sort', () => {
  const comboCode = ['code', 'component-code'];
  const comboQuantity = ['component-value-quantity', 'value-quantity'];
  expect(parse('Observation', 'combo-code', '8480-6').query.unions).toEqual({
    Observation: { 'combo-code': comboCode },
  });
  expect(parse('DiagnosticReport', 'result.combo-code', 'x').query.unions).toEqual({
    Observation: { 'combo-code': comboCode },
  });
  expect(parse('Patient', '_has:Observation:patient:combo-code', 'x').query.unions).toEqual({
    Observation: { 'combo-code': comboCode },
  });
  expect(parse('Observation', '_sort', '-combo-value-quantity').query.unions).toEqual({
    Observation: { 'combo-value-quantity': comboQuantity },
  });
  expect(parse('Observation', 'code', '8480-6').query.unions).toBeUndefined();
});

test('numbers and quantities: lt, le, gt and ge compare with the exact value; eq, ne and ap with its precision', () => {
  const value = (v: string) => (conditions('Observation', 'value-quantity', v)[0] as { values: unknown[] }).values[0];
  expect(value('lt10')).toEqual({ prefix: 'lt', low: 10, high: 10 });
  expect(value('ge10.0')).toEqual({ prefix: 'ge', low: 10, high: 10 });
  expect(value('10')).toEqual({ prefix: 'eq', low: 9.5, high: 10.5 });
  expect(value('ne10')).toEqual({ prefix: 'ne', low: 9.5, high: 10.5 });
  const date = (conditions('Observation', 'date', 'lt2025-06-01')[0] as { values: { low: number; high: number }[] })
    .values[0];
  expect(date.high - date.low).toBe(86_399_999);
});

test('_list is the reverse chain of List.item from the named Lists', () => {
  expect(conditions('Patient', '_list', 'a,b')).toEqual([
    { kind: 'has', sourceType: 'List', param: 'item', condition: { kind: 'id', ids: ['a', 'b'] } },
  ]);
  expect(() => parse('Patient', '_list', '$current-allergies', false)).toThrow(/not a List id/);
  expect(() => parse('Patient', '_list:x', 'a', false)).toThrow(/modifier :x/);
});

test('near: a point and a radius in km per value', () => {
  expect(conditions('Location', 'near', '52.5|4.9|2|mi,0|0')).toEqual([
    {
      kind: 'near',
      param: 'near',
      values: [
        { latitude: 52.5, longitude: 4.9, distanceKm: 2 * 1.609344 },
        { latitude: 0, longitude: 0, distanceKm: 10 },
      ],
    },
  ]);
  expect(conditions('Location', 'near', '-1.5|+2|500|m')[0]).toMatchObject({
    values: [{ latitude: -1.5, longitude: 2, distanceKm: 0.5 }],
  });
  expect(() => parse('Location', 'near', '1|2||km|')).toThrow(/two to four parts/);
  expect(conditions('Location', 'near', '1|2||km')[0]).toMatchObject({ values: [{ distanceKm: 10 }] });
  // Other special parameters (custom ones: R4 defines only near) cannot be searched: ignored leniently.
  const custom = SearchParameterRegistry.withBaseParameters();
  custom.addSearchParameter({
    resourceType: 'SearchParameter',
    url: 'http://example.org/SearchParameter/fuzzy',
    name: 'fuzzy',
    status: 'active',
    description: 'A special parameter this server has no logic for',
    code: 'fuzzy',
    base: ['Patient'],
    type: 'special',
    expression: 'Patient.name',
  });
  const fuzzy = parseSearchParams(custom, ['Patient'], [['fuzzy', 'x']], { strict: false });
  expect(fuzzy.unknown).toEqual([{ name: 'fuzzy', reason: 'special parameters are not supported yet' }]);
});

test('canonical references keep their version; :below asks for the versions under it', () => {
  expect(conditions('QuestionnaireResponse', 'questionnaire', 'http://x/q|2')).toEqual([
    { kind: 'reference', param: 'questionnaire', values: [{ url: 'http://x/q|2' }] },
  ]);
  expect(conditions('QuestionnaireResponse', 'questionnaire:below', 'http://x/q|2')).toEqual([
    { kind: 'reference', param: 'questionnaire', values: [{ url: 'http://x/q|2', below: true }] },
  ]);
  expect(() => parse('QuestionnaireResponse', 'questionnaire:below', 'Questionnaire/1')).toThrow(/canonical URL/);
});

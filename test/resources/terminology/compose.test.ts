// Value set composition below the HTTP edge: every compose filter operator, imports and intersections,
// pre-expanded value sets, the hierarchy index and typeahead ranking, and the 400s of broken definitions.
import type { CodeSystem, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { FhirError } from '../../../resources/errors';
import { Repository } from '../../../resources/repository';
import { CodeSystemIndex } from '../../../resources/terminology/code-system-index';
import { composeValueSet } from '../../../resources/terminology/compose';
import { expandValueSet } from '../../../resources/terminology/expand';
import { TerminologySources } from '../../../resources/terminology/sources';
import { subsumption } from '../../../resources/terminology/subsumes';
import { typeahead } from '../../../resources/terminology/typeahead';
import { startTestApp, type TestApp } from '../../support/app';
import { LAB, labCodeSystem, loadTerminology, VS } from './fixtures';

let t: TestApp;
let sources: TerminologySources;
beforeAll(async () => {
  t = await startTestApp();
  await loadTerminology(t);
});
beforeEach(() => {
  sources = new TerminologySources(new Repository(t.services, SYSTEM_ACCESS));
});
afterAll(() => t.close());

const inline = (...include: ValueSetComposeInclude[]): { valueSet: ValueSet } => ({
  valueSet: { resourceType: 'ValueSet', status: 'active', compose: { include } },
});
const codesOf = async (...include: ValueSetComposeInclude[]) =>
  (await composeValueSet(sources, inline(...include))).items.map((item) => item.concept.code);
const filtered = (property: string, op: string, value: string): ValueSetComposeInclude => ({
  system: LAB,
  filter: [{ property, op: op as 'is-a', value }],
});

async function rejection(work: Promise<unknown>): Promise<FhirError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FhirError);
  return error as FhirError;
}

describe('compose filters', () => {
  test('is-not-a, generalizes, not-in and exists', async () => {
    expect(await codesOf(filtered('concept', 'is-not-a', 'CHEM'))).toEqual(['HEM', 'HGB', 'OLD', 'UA']);
    expect(await codesOf(filtered('concept', 'generalizes', 'HBA1C'))).toEqual(['CHEM', 'HEM', 'HBA1C']);
    expect(await codesOf(filtered('scale', 'not-in', 'Qn'))).toEqual(['CHEM', 'HEM', 'OLD', 'UA']);
    expect(await codesOf(filtered('scale', 'exists', 'false'))).toEqual(['CHEM', 'HEM', 'OLD']);
  });

  test('computed properties: parent, child, inactive and display', async () => {
    expect(await codesOf(filtered('parent', '=', 'HEM'))).toEqual(['HGB', 'HBA1C']);
    expect(await codesOf(filtered('child', '=', 'HGB'))).toEqual(['HEM']);
    expect(await codesOf(filtered('inactive', '=', 'true'))).toEqual(['GLU-F', 'OLD']);
    expect(await codesOf(filtered('display', 'regex', 'Glucose.*'))).toEqual(['GLU', 'GLU-F']);
  });

  test('several filters of one include all apply', async () => {
    const include: ValueSetComposeInclude = {
      system: LAB,
      filter: [
        { property: 'concept', op: 'is-a', value: 'CHEM' },
        { property: 'inactive', op: '=', value: 'false' },
      ],
    };
    expect(await codesOf(include)).toEqual(['CHEM', 'GLU', 'NA', 'HBA1C']);
  });

  test.each([
    ['a hierarchy operator on another property', filtered('scale', 'is-a', 'Qn'), 'concept'],
    ['a code the hierarchy filter names that does not exist', filtered('concept', 'is-a', 'NOPE'), 'NOPE'],
    ['an invalid regex', filtered('code', 'regex', '(['), 'regular expression'],
    ['a regex too long to run against every concept', filtered('code', 'regex', 'a'.repeat(201)), '200'],
    [
      'a filter without a value',
      { system: LAB, filter: [{ property: 'concept', op: 'is-a' } as never] },
      'property, op and value',
    ],
    ['an include naming neither system nor value set', {}, 'neither'],
  ])('%s is a 400', async (_case, include, mentioned) => {
    const error = await rejection(codesOf(include as ValueSetComposeInclude));
    expect(error.status).toBe(400);
    expect(error.message).toContain(mentioned);
  });
});

describe('imports and special value sets', () => {
  test('an include with a system and a value set is their intersection', async () => {
    expect(await codesOf({ system: LAB, valueSet: [VS('chemistry')] })).toEqual(['CHEM', 'GLU', 'NA', 'HBA1C']);
    expect(await codesOf({ valueSet: [VS('chemistry'), VS('below-hem')] })).toEqual(['HBA1C']);
  });

  test('a value set defined only by its expansion expands from it', async () => {
    const preExpanded: ValueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      expansion: {
        timestamp: '2026-01-01T00:00:00Z',
        contains: [
          {
            system: 'urn:x',
            code: 'group',
            display: 'Group',
            abstract: true,
            contains: [{ system: 'urn:x', code: 'old', display: 'Old one', inactive: true }],
          },
          { display: 'a heading without a code', contains: [{ system: 'urn:x', code: 'new', display: 'New one' }] },
        ],
      },
    };
    const expanded = await expandValueSet(sources, { valueSet: preExpanded }, { activeOnly: true, parameters: [] });
    expect(expanded.expansion?.contains).toEqual([
      { system: 'urn:x', code: 'group', display: 'Group', abstract: true },
      { system: 'urn:x', code: 'new', display: 'New one' },
    ]);
    const noDefinition = { valueSet: { resourceType: 'ValueSet', status: 'active' } as ValueSet };
    expect((await rejection(composeValueSet(sources, noDefinition))).status).toBe(400);
  });

  test('an import cycle is a 400, not a stack overflow', async () => {
    for (const [id, other] of [
      ['loop-a', 'loop-b'],
      ['loop-b', 'loop-a'],
    ]) {
      await t
        .api()
        .put(`/fhir/ValueSet/${id}`)
        .set('Content-Type', 'application/fhir+json')
        .send({
          resourceType: 'ValueSet',
          id,
          url: VS(id),
          status: 'active',
          compose: { include: [{ valueSet: [VS(other)] }] },
        });
    }
    const error = await rejection(composeValueSet(sources, await sources.valueSet(VS('loop-a'))));
    expect(error.status).toBe(400);
    expect(error.message).toContain('cycle');
  });

  test('codes a value set enumerates for a system without concepts expand as listed', async () => {
    const items = await composeValueSet(
      sources,
      inline({ system: 'http://snomed.info/sct', concept: [{ code: '22298006', display: 'Myocardial infarction' }] }),
    );
    expect(items.items.map((i) => [i.concept.code, i.concept.display])).toEqual([
      ['22298006', 'Myocardial infarction'],
    ]);
  });

  test('a version that is not there is unknown', async () => {
    const error = await rejection(codesOf({ system: LAB, version: '1' }));
    expect(error.message).toContain('version 1');
    expect(await codesOf({ system: LAB, version: '2', concept: [{ code: 'NA' }] })).toEqual(['NA']);
  });
});

describe('index, typeahead and subsumption', () => {
  const index = new CodeSystemIndex(labCodeSystem as CodeSystem, 'test');

  test('hierarchy from nesting and parent properties; cycles in properties do not loop', () => {
    const position = (code: string) => index.position(code) as number;
    expect([...index.descendants(position('CHEM'))].map((p) => index.concepts[p].code).sort()).toEqual(
      ['GLU', 'GLU-F', 'HBA1C', 'NA'].sort(),
    );
    const cyclic = new CodeSystemIndex(
      {
        resourceType: 'CodeSystem',
        status: 'active',
        content: 'complete',
        url: 'urn:cycle',
        concept: [
          { code: 'a', property: [{ code: 'parent', valueCode: 'b' }] },
          { code: 'b', property: [{ code: 'parent', valueCode: 'a' }] },
        ],
      },
      'cycle',
    );
    expect(subsumption(cyclic, 'a', 'b')).toBe('subsumes');
    expect(cyclic.ancestors(0).has(0)).toBe(false);
  });

  test('typeahead ranks exact code, then display prefix, then word prefix, stable within a rank', async () => {
    const composition = await composeValueSet(sources, inline({ system: LAB }));
    const codes = (filter: string, count = 100) =>
      typeahead(composition, filter, {}, 0, count).page.map((i) => i.concept.code);
    expect(codes('glu')).toEqual(['GLU', 'GLU-F', 'OLD']);
    expect(codes('  ')).toEqual(composition.items.map((i) => i.concept.code));
    expect(codes('in')).toEqual(['GLU', 'NA', 'HGB', 'HBA1C']);
    // The page is cut from the ranks; the total still counts every match.
    const limited = typeahead(composition, 'glu', {}, 1, 1);
    expect([limited.total, limited.page.map((i) => i.concept.code)]).toEqual([3, ['GLU-F']]);
    const kept = typeahead(composition, 'glu', { activeOnly: true }, 0, 100);
    expect([kept.total, kept.page.map((i) => i.concept.code)]).toEqual([1, ['GLU']]);
    const selectable = typeahead(composition, 'c', { activeOnly: true, excludeNotForUI: true }, 0, 100);
    expect(selectable.page.map((i) => i.concept.code)).toEqual([]);
    expect(typeahead(composition, 'c', {}, 0, 100).page.map((i) => i.concept.code)).toEqual(['CHEM']);
  });

  test('typeahead over several code systems and value-set displays keeps the value set order', async () => {
    const composition = await composeValueSet(
      sources,
      inline(
        { system: 'http://hl7.org/fhir/administrative-gender' },
        { system: LAB, concept: [{ code: 'HGB', display: 'Haemoglobin' }, { code: 'UA' }] },
        { system: LAB, filter: [{ property: 'concept', op: 'is-a', value: 'HEM' }] },
      ),
    );
    const codes = (filter: string, shaping = {}) =>
      typeahead(composition, filter, shaping, 0, 10).page.map((i) => i.concept.code);
    expect(codes('h')).toEqual(['HGB', 'HEM', 'HBA1C']);
    expect(codes('ua')).toEqual(['UA']);
    expect(codes('fem')).toEqual(['female']);
    expect(codes('male')).toEqual(['male']);
    expect(codes('blood', { activeOnly: true })).toEqual(['HBA1C']);
  });

  test('LAB version 2 subsumes across multiple parents', () => {
    expect(subsumption(index, 'CHEM', 'HBA1C')).toBe('subsumes');
    expect(() => subsumption(index, 'X', 'CHEM')).toThrow('X');
  });
});

// The $everything walk plan against the search-parameter registry: every care date names a date parameter of
// its type, the anchor comes first and alone, types share one search per compartment parameter unless the
// caller's grants narrow them, and a type in the compartment by several parameters is walked by each in turn.
import type { AccessContext } from '../../../resources/access';
import { SearchParameterRegistry } from '../../../resources/search/registry';
import { SELF } from '../../../resources/search/compartments';
import { CARE_DATE_PARAMS } from '../../../resources/everything/care-dates';
import { nameableTypes, walkSegments, walkedTypes } from '../../../resources/everything/plan';

const registry = SearchParameterRegistry.withBaseParameters();
const grant = (level: 'patient' | 'user', resourceType: string) => ({
  level,
  resourceType,
  permissions: new Set(['r', 's'] as const),
});

test('each care date is a date search parameter of its type, and each such type is in the Patient compartment', () => {
  const walked = new Set(walkedTypes(registry, 'Patient').map((w) => w.type));
  for (const [type, param] of Object.entries(CARE_DATE_PARAMS)) {
    expect([type, registry.get(type, param)?.type]).toEqual([type, 'date']);
    expect([type, walked.has(type)]).toEqual([type, true]);
  }
});

test('the anchor is walked first by itself; the others share searches per parameter, in a fixed order', () => {
  const segments = walkSegments(registry, 'Patient');
  expect(segments[0]).toEqual({ types: ['Patient'], param: SELF, earlier: { Patient: [] } });
  expect(segments.filter((s) => s.types.includes('Patient'))).toHaveLength(1);
  const observation = segments.filter((s) => s.types.includes('Observation'));
  expect(observation.map((s) => [s.param, s.earlier.Observation])).toEqual([
    ['subject', []],
    ['performer', ['subject']],
  ]);
  expect(segments.length).toBeLessThan(40);
  expect(Math.max(...segments.map((s) => s.types.length))).toBe(8);
  expect(segments.some((s) => s.types.includes('AuditEvent'))).toBe(false);
  expect(walkSegments(registry, 'Encounter')[0]).toEqual({
    types: ['Encounter'],
    param: SELF,
    earlier: { Encounter: [] },
  });
});

test('care dates split shared searches so each carries its date parameter', () => {
  const segments = walkSegments(registry, 'Patient', { byCareDate: true });
  for (const segment of segments) {
    for (const type of segment.types) expect([type, segment.careDate]).toEqual([type, CARE_DATE_PARAMS[type]]);
  }
});

test('types without a search grant are left out; narrowed types get searches of their own', () => {
  const access: AccessContext = {
    actor: 'user/u',
    patient: 'p1',
    grants: [grant('patient', 'Observation'), grant('user', 'Condition'), grant('user', 'AllergyIntolerance')],
  };
  const segments = walkSegments(registry, 'Patient', { access });
  const types = segments.flatMap((s) => s.types).sort();
  expect(types).toEqual([
    'AllergyIntolerance',
    'AllergyIntolerance',
    'AllergyIntolerance',
    'Condition',
    'Condition',
    'Observation',
    'Observation',
  ]);
  for (const segment of segments.filter((s) => s.types.includes('Observation')))
    expect(segment.types).toEqual(['Observation']);
  expect(segments.find((s) => s.param === 'patient')?.types).toEqual(['AllergyIntolerance', 'Condition']);
});

test('_type may name walked and supporting types', () => {
  const patientTypes = nameableTypes(registry, 'Patient');
  expect(patientTypes.has('Observation') && patientTypes.has('Practitioner')).toBe(true);
  expect(patientTypes.has('Questionnaire')).toBe(false);
  expect(nameableTypes(registry, 'Encounter').has('Patient')).toBe(true);
});

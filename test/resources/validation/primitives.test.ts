// R4 primitives beyond their JSON-schema patterns: 32-bit integer ranges and dates that exist in the calendar.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateResource, warmUpValidation } from '../../../resources/validation';
import { calendarDateExists } from '../../../resources/validation/calendar';

beforeAll(() => {
  warmUpValidation();
});

const observation = (extra: Record<string, unknown>): Record<string, unknown> => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Glucose' },
  ...extra,
});

const errors = (resource: unknown): OperationOutcomeIssue[] =>
  validateResource(resource).filter((i) => i.severity === 'error');

describe('integers are 32-bit', () => {
  const withInteger = (valueInteger: number): unknown => observation({ valueInteger });
  const withCount = (count: number): unknown => ({ resourceType: 'Patient', multipleBirthInteger: count });

  test.each([-2147483648, 0, 2147483647])('integer %d is accepted', (n) => {
    expect(errors(withInteger(n))).toEqual([]);
  });

  test.each([2147483648, -2147483649, 1e15, 2 ** 53 + 2])('integer %d is refused', (n) => {
    const [issue, ...more] = errors(withInteger(n));
    expect(more).toEqual([]);
    expect(issue).toMatchObject({ code: 'value', expression: ['Observation.value'] });
    expect(issue.diagnostics).toBe(`Invalid integer: ${n} is outside -2147483648..2147483647`);
  });

  test('a named integer element, not only a choice', () => {
    expect(errors(withCount(2147483647))).toEqual([]);
    expect(errors(withCount(2147483648))[0]).toMatchObject({ expression: ['Patient.multipleBirth'] });
    const sequence = { resourceType: 'MolecularSequence', coordinateSystem: 0, start: 4294967296 } as const;
    expect(errors(sequence).map((i) => i.expression?.[0])).toEqual(['MolecularSequence.start']);
  });

  test('a fraction is not an integer', () => {
    const [issue] = errors(withInteger(1.5));
    expect(issue).toMatchObject({ code: 'value', expression: ['Observation.value'] });
    expect(issue.diagnostics).toBe('Invalid integer: 1.5 is not a whole number');
  });

  test('unsignedInt is 0..2147483647', () => {
    const attachment = (size: number): unknown => ({ resourceType: 'Media', status: 'completed', content: { size } });
    expect(errors(attachment(0))).toEqual([]);
    expect(errors(attachment(2147483647))).toEqual([]);
    expect(errors(attachment(-1))[0].diagnostics).toBe('Invalid unsignedInt: -1 is outside 0..2147483647');
    expect(errors(attachment(2147483648))[0]).toMatchObject({ expression: ['Media.content.size'] });
  });

  test('positiveInt is 1..2147483647, also as an extension value', () => {
    const ext = (valuePositiveInt: number): unknown =>
      observation({ extension: [{ url: 'http://example.org/count', valuePositiveInt }] });
    expect(errors(ext(1))).toEqual([]);
    expect(errors(ext(2147483647))).toEqual([]);
    expect(errors(ext(0))[0]).toMatchObject({
      code: 'value',
      diagnostics: 'Invalid positiveInt: 0 is outside 1..2147483647',
      expression: ['Observation.extension[0].value'],
    });
    expect(errors(ext(2147483648))[0].diagnostics).toBe('Invalid positiveInt: 2147483648 is outside 1..2147483647');
    const sampled = { origin: { value: 0 }, period: 1, dimensions: 0, data: 'E' };
    expect(errors(observation({ valueSampledData: sampled }))[0]).toMatchObject({
      expression: ['Observation.value.dimensions'],
    });
  });

  test('decimals keep their range and precision', () => {
    expect(errors(observation({ valueQuantity: { value: 1e300 } }))).toEqual([]);
    expect(errors(observation({ valueQuantity: { value: 2147483648.25 } }))).toEqual([]);
  });

  test('integer64 is not an R4 type', () => {
    const issues = errors(observation({ extension: [{ url: 'http://example.org/big', valueInteger64: '5' }] }));
    expect(issues).toContainEqual(
      expect.objectContaining({ code: 'structure', expression: ['Observation.extension[0].valueInteger64'] }),
    );
  });
});

describe('dates exist in the calendar', () => {
  test.each([
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['1900-02-29', false],
    ['2023-02-29', false],
    ['2024-02-30', false],
    ['2024-02-31', false],
    ['2024-04-31', false],
    ['2024-06-30', true],
    ['2024-12-31', true],
    ['2024-01-31T10:00:00Z', true],
    ['2023-02-29T10:00:00Z', false],
    ['2024', true],
    ['2024-02', true],
    ['not a date', true],
    ['2024-13-01', true],
  ])('calendarDateExists(%s) is %s (shapes are the pattern’s to judge)', (value, exists) => {
    expect(calendarDateExists(value)).toBe(exists);
  });

  test('date: a day that does not exist is refused, a leap day is not', () => {
    const patient = (birthDate: string): unknown => ({ resourceType: 'Patient', birthDate });
    expect(errors(patient('2024-02-29'))).toEqual([]);
    expect(errors(patient('2000-02-29'))).toEqual([]);
    const [issue, ...more] = errors(patient('2023-02-29'));
    expect(more).toEqual([]);
    expect(issue).toEqual({
      severity: 'error',
      code: 'value',
      diagnostics: "Invalid date: '2023-02-29' names a day that does not exist",
      expression: ['Patient.birthDate'],
    });
    expect(errors(patient('1900-02-29'))).toHaveLength(1);
  });

  test('dateTime and instant, named and in choice elements', () => {
    expect(errors(observation({ effectiveDateTime: '2024-02-31T08:00:00Z' }))[0]).toMatchObject({
      code: 'value',
      expression: ['Observation.effective'],
    });
    expect(errors(observation({ effectiveInstant: '2023-02-29T08:00:00.000Z' }))[0].expression).toEqual([
      'Observation.effective',
    ]);
    expect(errors(observation({ issued: '2021-04-31T08:00:00Z' }))[0].expression).toEqual(['Observation.issued']);
    const period = observation({ effectivePeriod: { start: '2024-02-29', end: '2024-09-31' } });
    expect(errors(period).map((i) => i.expression?.[0])).toEqual(['Observation.effective.end']);
    expect(errors(observation({ effectiveDateTime: '2024-02-29T23:59:60+14:00' }))).toEqual([]);
  });

  test('arrays of dates are checked item by item', () => {
    const timing = { event: ['2024-02-29', '2023-02-29'] };
    const request = {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/p' },
    };
    const issues = errors({ ...request, occurrenceTiming: timing });
    expect(issues.map((i) => i.expression?.[0])).toEqual(['ServiceRequest.occurrence.event[1]']);
  });

  test.each([
    ['month 13', '2024-13-01'],
    ['month 00', '2024-00-10'],
    ['day 00', '2024-01-00'],
    ['day 32', '2024-01-32'],
  ])('the pattern still refuses %s', (_name, birthDate) => {
    const [issue] = errors({ resourceType: 'Patient', birthDate });
    expect(issue).toMatchObject({ code: 'value', expression: ['Patient.birthDate'] });
    expect(issue.diagnostics).toMatch(/^Invalid date format/);
  });

  test.each(['2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z', '2024-01-01T10:00:00+14:30'])(
    'hour 24, minute 60 and offsets beyond 14:00 are refused: %s',
    (effectiveDateTime) => {
      const issues = errors(observation({ effectiveDateTime }));
      expect(issues).toHaveLength(1);
      expect(issues[0].diagnostics).toMatch(/^Invalid dateTime format/);
    },
  );
});

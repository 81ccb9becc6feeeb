import { MAX_INSTANT, MIN_INSTANT } from '../../../../resources/search/index-entry';
import { dateEntries, dateRange } from '../../../../resources/search/types/date';

const ms = (iso: string): number => Date.parse(iso);

describe('dateRange', () => {
  it.each([
    ['2020', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z'],
    ['2020-02', '2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z'],
    ['2021-12', '2021-12-01T00:00:00.000Z', '2021-12-31T23:59:59.999Z'],
    ['2020-03-28', '2020-03-28T00:00:00.000Z', '2020-03-28T23:59:59.999Z'],
    ['2020-03-28T10:15:30Z', '2020-03-28T10:15:30.000Z', '2020-03-28T10:15:30.999Z'],
    ['2020-03-28T10:15:30+02:00', '2020-03-28T08:15:30.000Z', '2020-03-28T08:15:30.999Z'],
    ['2020-03-28T10:15:30-05:30', '2020-03-28T15:45:30.000Z', '2020-03-28T15:45:30.999Z'],
    ['2020-03-28T10:15:30.5Z', '2020-03-28T10:15:30.500Z', '2020-03-28T10:15:30.599Z'],
    ['2020-03-28T10:15:30.25Z', '2020-03-28T10:15:30.250Z', '2020-03-28T10:15:30.259Z'],
    ['2020-03-28T10:15:30.123Z', '2020-03-28T10:15:30.123Z', '2020-03-28T10:15:30.123Z'],
    ['2020-03-28T10:15:30.123456Z', '2020-03-28T10:15:30.123Z', '2020-03-28T10:15:30.123Z'],
    ['2020-03-28T10:15Z', '2020-03-28T10:15:00.000Z', '2020-03-28T10:15:59.999Z'],
    ['2020-03-28T10:15:30', '2020-03-28T10:15:30.000Z', '2020-03-28T10:15:30.999Z'],
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z', '2017-01-01T00:00:00.999Z'],
  ])('%s -> [%s, %s] (no zone: UTC)', (value, low, high) => {
    expect(dateRange(value)).toEqual({ low: ms(low), high: ms(high) });
  });

  it('takes years before 100 literally', () => {
    const range = dateRange('0050-06-15');
    expect(new Date(range!.low).toISOString()).toBe('0050-06-15T00:00:00.000Z');
    expect(new Date(dateRange('0001')!.high).toISOString()).toBe('0001-12-31T23:59:59.999Z');
  });

  it.each([
    '',
    'yesterday',
    '2021-02-29',
    '2020-13',
    '2020-00-10',
    '2020-04-31',
    '2020-01-01T24:00:00Z',
    '2020-01-01T10:61:00Z',
    '2020-01-01T10:00:00+15:00',
    '20200101',
    '2020-1-1',
  ])('rejects %j', (value) => {
    expect(dateRange(value)).toBeUndefined();
  });
});

describe('dateEntries', () => {
  it('date, dateTime and instant values', () => {
    expect(dateEntries({ type: 'date', data: '1974-12-25' }, 'birthdate')).toEqual([
      { type: 'date', param: 'birthdate', low: ms('1974-12-25T00:00:00Z'), high: ms('1974-12-25T23:59:59.999Z') },
    ]);
    expect(dateEntries({ type: 'instant', data: '2015-02-07T13:28:17.239+02:00' }, 'issued')[0].low).toBe(
      ms('2015-02-07T11:28:17.239Z'),
    );
  });

  it('Period: from the start of its start to the end of its end; missing ends are open', () => {
    const period = (data: object) => dateEntries({ type: 'Period', data }, 'date')[0];
    expect(period({ start: '2020-01', end: '2020-03-15' })).toMatchObject({
      low: ms('2020-01-01T00:00:00Z'),
      high: ms('2020-03-15T23:59:59.999Z'),
    });
    expect(period({ start: '2020-01-01' })).toMatchObject({ low: ms('2020-01-01T00:00:00Z'), high: MAX_INSTANT });
    expect(period({ end: '2020-01-01' })).toMatchObject({ low: MIN_INSTANT, high: ms('2020-01-01T23:59:59.999Z') });
  });

  it('Period: nothing when it is empty or an end is unreadable', () => {
    expect(dateEntries({ type: 'Period', data: {} }, 'date')).toEqual([]);
    expect(dateEntries({ type: 'Period', data: { start: '2020', end: 'soon' } }, 'date')).toEqual([]);
    expect(dateEntries({ type: 'Period', data: { start: 2020 } }, 'date')).toEqual([]);
  });

  it('Timing: the outer limits of its events and repeat.boundsPeriod', () => {
    const timing = {
      event: ['2020-05-03T08:00:00Z', '2020-05-01T08:00:00Z'],
      repeat: { boundsPeriod: { start: '2020-04-30', end: '2020-05-02' }, frequency: 2, period: 1, periodUnit: 'd' },
    };
    expect(dateEntries({ type: 'Timing', data: timing }, 'date')).toEqual([
      { type: 'date', param: 'date', low: ms('2020-04-30T00:00:00Z'), high: ms('2020-05-03T08:00:00.999Z') },
    ]);
    expect(dateEntries({ type: 'Timing', data: { repeat: { boundsPeriod: { start: '2020' } } } }, 'd')[0].high).toBe(
      MAX_INSTANT,
    );
    expect(
      dateEntries({ type: 'Timing', data: { repeat: { boundsDuration: { value: 5 } }, event: [7] } }, 'd'),
    ).toEqual([]);
  });

  it('nothing for other data types', () => {
    expect(dateEntries({ type: 'Age', data: { value: 5 } }, 'd')).toEqual([]);
    expect(dateEntries({ type: 'boolean', data: true }, 'd')).toEqual([]);
  });
});

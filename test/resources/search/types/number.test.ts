import { MAX_NUMBER, MIN_NUMBER, numberEntries, numberRange } from '../../../../resources/search/types/number';

describe('numberRange', () => {
  it.each([
    ['100', 99.5, 100.5],
    ['100.00', 99.995, 100.005],
    ['2.0', 1.95, 2.05],
    ['0.1', 0.05, 0.15],
    ['-3', -3.5, -2.5],
    ['+7', 6.5, 7.5],
    ['1e2', 50, 150],
    ['1.5e-7', 1.45e-7, 1.55e-7],
    ['1e+21', 5e20, 1.5e21],
    [' 42 ', 41.5, 42.5],
  ])('%s -> [%d, %d]', (written, low, high) => {
    expect(numberRange(written)).toEqual({ low, high });
  });

  it.each(['', 'abc', '1.2.3', '0x10', '1e', '.5', 'Infinity', '1e999'])('rejects %j', (written) => {
    expect(numberRange(written)).toBeUndefined();
  });
});

describe('numberEntries', () => {
  it('reads JSON numbers through their shortest written form', () => {
    expect(numberEntries({ type: 'decimal', data: 0.25 }, 'probability')).toEqual([
      { type: 'number', param: 'probability', low: 0.245, high: 0.255 },
    ]);
    expect(numberEntries({ type: 'integer', data: 3 }, 'n')[0]).toMatchObject({ low: 2.5, high: 3.5 });
    expect(numberEntries({ type: 'string', data: '12' }, 'n')[0]).toMatchObject({ low: 11.5, high: 12.5 });
  });

  it('Range: from its low bound to its high bound, an absent bound open', () => {
    expect(numberEntries({ type: 'Range', data: { low: { value: 1 }, high: { value: 5 } } }, 'n')[0]).toMatchObject({
      low: 0.5,
      high: 5.5,
    });
    expect(numberEntries({ type: 'Range', data: { low: { value: 1 } } }, 'n')[0]).toMatchObject({ high: MAX_NUMBER });
    expect(numberEntries({ type: 'Range', data: { high: { value: 1 } } }, 'n')[0]).toMatchObject({ low: MIN_NUMBER });
    expect(numberEntries({ type: 'Range', data: {} }, 'n')).toEqual([]);
  });

  it('a Duration (Encounter.length) by its value', () => {
    expect(numberEntries({ type: 'Duration', data: { value: 90, unit: 'min' } }, 'length')[0]).toMatchObject({
      low: 89.5,
      high: 90.5,
    });
    expect(numberEntries({ type: 'Age', data: { value: 7 } }, 'n')[0]).toMatchObject({ low: 6.5, high: 7.5 });
    expect(numberEntries({ type: 'Quantity', data: { value: 0.5 } }, 'n')[0]).toMatchObject({ low: 0.45, high: 0.55 });
    expect(numberEntries({ type: 'Quantity', data: 'x' }, 'n')).toEqual([]);
  });

  it('nothing for values that are not numbers', () => {
    expect(numberEntries({ type: 'string', data: 'first' }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'decimal', data: Number.NaN }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'boolean', data: true }, 'n')).toEqual([]);
  });
});

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
  it('a stored number is its exact value, not a precision range', () => {
    expect(numberEntries({ type: 'decimal', data: 0.25 }, 'probability')).toEqual([
      { type: 'number', param: 'probability', low: 0.25, high: 0.25 },
    ]);
    expect(numberEntries({ type: 'integer', data: 3 }, 'n')[0]).toMatchObject({ low: 3, high: 3 });
    expect(numberEntries({ type: 'decimal', data: 27 }, 'n')[0]).toMatchObject({ low: 27, high: 27 });
    expect(numberEntries({ type: 'decimal', data: -1.5e-7 }, 'n')[0]).toMatchObject({ low: -1.5e-7, high: -1.5e-7 });
    expect(numberEntries({ type: 'string', data: '12' }, 'n')[0]).toMatchObject({ low: 12, high: 12 });
    expect(numberEntries({ type: 'string', data: ' 100.00 ' }, 'n')[0]).toMatchObject({ low: 100, high: 100 });
  });

  it('Range: from its low bound to its high bound, an absent bound open', () => {
    expect(numberEntries({ type: 'Range', data: { low: { value: 1 }, high: { value: 5 } } }, 'n')[0]).toMatchObject({
      low: 1,
      high: 5,
    });
    expect(numberEntries({ type: 'Range', data: { low: { value: 1 } } }, 'n')[0]).toMatchObject({
      low: 1,
      high: MAX_NUMBER,
    });
    expect(numberEntries({ type: 'Range', data: { high: { value: 1 } } }, 'n')[0]).toMatchObject({
      low: MIN_NUMBER,
      high: 1,
    });
    expect(numberEntries({ type: 'Range', data: {} }, 'n')).toEqual([]);
  });

  it('a Duration (Encounter.length) by its value', () => {
    expect(numberEntries({ type: 'Duration', data: { value: 90, unit: 'min' } }, 'length')[0]).toMatchObject({
      low: 90,
      high: 90,
    });
    expect(numberEntries({ type: 'Age', data: { value: 7 } }, 'n')[0]).toMatchObject({ low: 7, high: 7 });
    expect(numberEntries({ type: 'Quantity', data: { value: 0.5 } }, 'n')[0]).toMatchObject({ low: 0.5, high: 0.5 });
    expect(numberEntries({ type: 'Quantity', data: 'x' }, 'n')).toEqual([]);
  });

  it('nothing for values that are not numbers', () => {
    expect(numberEntries({ type: 'string', data: 'first' }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'decimal', data: Number.NaN }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'boolean', data: true }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'string', data: '0x10' }, 'n')).toEqual([]);
    expect(numberEntries({ type: 'string', data: '1e999' }, 'n')).toEqual([]);
  });
});

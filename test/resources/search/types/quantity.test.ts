import { MAX_NUMBER, MIN_NUMBER } from '../../../../resources/search/types/number';
import { CURRENCY_SYSTEM, quantityEntries } from '../../../../resources/search/types/quantity';

const UCUM = 'http://unitsofmeasure.org';

describe('quantityEntries', () => {
  it('Quantity: its exact value (no precision range), system, code and unit', () => {
    const weight = { value: 185, unit: 'lbs', system: UCUM, code: '[lb_av]' };
    expect(quantityEntries({ type: 'Quantity', data: weight }, 'value-quantity')).toEqual([
      {
        type: 'quantity',
        param: 'value-quantity',
        low: 185,
        high: 185,
        system: UCUM,
        code: '[lb_av]',
        unit: 'lbs',
      },
    ]);
  });

  it.each(['Age', 'Duration', 'Count', 'Distance', 'SimpleQuantity', 'MoneyQuantity'])(
    '%s is read as a Quantity',
    (type) => {
      expect(quantityEntries({ type, data: { value: 2.5, code: 'a', system: UCUM } }, 'q')[0]).toMatchObject({
        low: 2.5,
        high: 2.5,
        code: 'a',
        unit: null,
      });
    },
  );

  it('a comparator opens the range on its side', () => {
    const q = (comparator: string) => quantityEntries({ type: 'Quantity', data: { value: 5, comparator } }, 'q')[0];
    expect(q('<')).toMatchObject({ low: MIN_NUMBER, high: 5 });
    expect(q('<=')).toMatchObject({ low: MIN_NUMBER, high: 5 });
    expect(q('>')).toMatchObject({ low: 5, high: MAX_NUMBER });
    expect(q('>=')).toMatchObject({ low: 5, high: MAX_NUMBER });
    expect(q('ad')).toMatchObject({ low: 5, high: 5 });
  });

  it('Money: the currency is the code, in the ISO 4217 system', () => {
    expect(quantityEntries({ type: 'Money', data: { value: 100.5, currency: 'EUR' } }, 'total')).toEqual([
      { type: 'quantity', param: 'total', low: 100.5, high: 100.5, system: CURRENCY_SYSTEM, code: 'EUR', unit: null },
    ]);
    expect(quantityEntries({ type: 'Money', data: { value: 3 } }, 'total')[0]).toMatchObject({
      low: 3,
      high: 3,
      system: null,
      code: null,
    });
  });

  it('Range: from the low bound to the high bound, units from either', () => {
    const range = { low: { value: 10, unit: 'mg', system: UCUM, code: 'mg' }, high: { value: 20, unit: 'mg' } };
    expect(quantityEntries({ type: 'Range', data: range }, 'context-quantity')).toEqual([
      { type: 'quantity', param: 'context-quantity', low: 10, high: 20, system: UCUM, code: 'mg', unit: 'mg' },
    ]);
    expect(quantityEntries({ type: 'Range', data: { high: { value: 3, code: 'a' } } }, 'q')[0]).toMatchObject({
      low: MIN_NUMBER,
      high: 3,
      code: 'a',
    });
  });

  it('nothing without a value, for SampledData, or for non-objects', () => {
    expect(quantityEntries({ type: 'Quantity', data: { unit: 'mg' } }, 'q')).toEqual([]);
    expect(quantityEntries({ type: 'Money', data: { currency: 'EUR' } }, 'q')).toEqual([]);
    expect(quantityEntries({ type: 'Range', data: {} }, 'q')).toEqual([]);
    expect(quantityEntries({ type: 'SampledData', data: { origin: { value: 0 }, data: '1 2' } }, 'q')).toEqual([]);
    expect(quantityEntries({ type: 'Quantity', data: 5 }, 'q')).toEqual([]);
  });
});

// Quantity parameters: the value (a point range, opened by a comparator) with its system, code and unit, for Quantity and its
// profiles (Age, Duration ...), Money (currency as an ISO 4217 code) and Range (as used by context-quantity).
import type { QuantityEntry } from '../index-entry';
import { MAX_NUMBER, MIN_NUMBER, rangeOf, rangeOfRange, type NumericRange } from './number';
import { isObject, text, type JsonObject, type TypedValue } from './value';

type Quantity = Omit<QuantityEntry, 'type' | 'param'>;

export const CURRENCY_SYSTEM = 'urn:iso:std:iso:4217';

/** A comparator opens the range on its side: `<5 mg` is anything below 5 mg. */
const COMPARATOR_BOUNDS: Record<string, ((range: NumericRange) => NumericRange) | undefined> = {
  '<': (range) => ({ low: MIN_NUMBER, high: range.high }),
  '<=': (range) => ({ low: MIN_NUMBER, high: range.high }),
  '>': (range) => ({ low: range.low, high: MAX_NUMBER }),
  '>=': (range) => ({ low: range.low, high: MAX_NUMBER }),
};

const units = (data: JsonObject) => ({
  system: text(data.system) ?? null,
  code: text(data.code) ?? null,
  unit: text(data.unit) ?? null,
});

// UCUM canonical forms (mg -> g, value scaled) belong here as a second entry per Quantity, so that
// `value-quantity=0.005|http://unitsofmeasure.org|g` finds 5 mg; the query side would canonicalize the same way.
function quantity(data: JsonObject): Quantity | undefined {
  const value = rangeOf(data.value);
  if (!value) {
    return undefined;
  }
  const bounds = COMPARATOR_BOUNDS[String(data.comparator)];
  return { ...(bounds ? bounds(value) : value), ...units(data) };
}

function money(data: JsonObject): Quantity | undefined {
  const range = rangeOf(data.value);
  const currency = text(data.currency) ?? null;
  return range && { ...range, system: currency && CURRENCY_SYSTEM, code: currency, unit: null };
}

/** A Range's units come from whichever bound is present (both should agree). */
function range(data: JsonObject): Quantity | undefined {
  const bounds = rangeOfRange(data);
  const bound = [data.low, data.high].find(isObject);
  return bounds && bound && { ...bounds, ...units(bound) };
}

// SampledData is listed by value-quantity but has no single value to search; it yields nothing.
const QUANTITY_BY_TYPE: Record<string, ((data: JsonObject) => Quantity | undefined) | undefined> = {
  Quantity: quantity,
  SimpleQuantity: quantity,
  MoneyQuantity: quantity,
  Age: quantity,
  Count: quantity,
  Distance: quantity,
  Duration: quantity,
  Money: money,
  Range: range,
};

export function quantityEntries(value: TypedValue, param: string): QuantityEntry[] {
  const convert = QUANTITY_BY_TYPE[value.type];
  const entry = convert && isObject(value.data) ? convert(value.data) : undefined;
  return entry ? [{ type: 'quantity', param, ...entry }] : [];
}

// Number parameters. A SEARCH value stands for the range its written precision implies (R4 search, "number"):
// `100` -> [99.5, 100.5], `100.00` -> [99.995, 100.005], `1e2` -> [50, 150] (one significant digit). A STORED
// value is the exact number (ge27.2 must not find 27), so the index keeps it as a point range.
import type { NumberEntry } from '../index-entry';
import { finiteNumber, isObject, type JsonObject, type TypedValue } from './value';

export interface NumericRange {
  low: number;
  high: number;
}

const DECIMAL = /^[+-]?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Rounds away the binary noise of `value ± half` at the digit just below the written precision. */
function atDigits(value: number, digits: number): number {
  return digits > 0 && digits <= 100 ? Number(value.toFixed(digits)) : value;
}

/** The range a decimal as written implies, or undefined when it is not a decimal. */
export function numberRange(written: string): NumericRange | undefined {
  const match = DECIMAL.exec(written.trim());
  const value = Number(written);
  if (!match || !Number.isFinite(value)) {
    return undefined;
  }
  // The last written digit is worth 10^-decimals; half of that either side.
  const decimals = (match[2]?.length ?? 0) - Number(match[3] ?? 0);
  const half = 5 * 10 ** -(decimals + 1);
  return { low: atDigits(value - half, decimals + 1), high: atDigits(value + half, decimals + 1) };
}

/** Lowest and highest representable numbers: the open ends of a Range or a `<`/`>` comparator. */
export const MIN_NUMBER = -Number.MAX_VALUE;
export const MAX_NUMBER = Number.MAX_VALUE;

/** A stored JSON number (or numeric string) as the point range [value, value]. */
export function rangeOf(value: unknown): NumericRange | undefined {
  const number = typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : finiteNumber(value);
  return number === undefined || !Number.isFinite(number) ? undefined : { low: number, high: number };
}

/** A Range: from the low bound's range to the high bound's, an absent bound open. */
export function rangeOfRange(range: JsonObject): NumericRange | undefined {
  const low = isObject(range.low) ? rangeOf(range.low.value) : undefined;
  const high = isObject(range.high) ? rangeOf(range.high.value) : undefined;
  return low || high ? { low: low?.low ?? MIN_NUMBER, high: high?.high ?? MAX_NUMBER } : undefined;
}

const RANGE_BY_TYPE: Record<string, ((data: JsonObject) => NumericRange | undefined) | undefined> = {
  Range: rangeOfRange,
  // Number parameters on Quantity-typed elements (Encounter.length is a Duration) search its value.
  Quantity: (data) => rangeOf(data.value),
  Duration: (data) => rangeOf(data.value),
  Age: (data) => rangeOf(data.value),
};

function valueRange(value: TypedValue): NumericRange | undefined {
  const range = RANGE_BY_TYPE[value.type];
  if (range) {
    return isObject(value.data) ? range(value.data) : undefined;
  }
  return rangeOf(value.data);
}

export function numberEntries(value: TypedValue, param: string): NumberEntry[] {
  const range = valueRange(value);
  return range ? [{ type: 'number', param, low: range.low, high: range.high }] : [];
}

// The values a search expression yields, as (FHIR data type, JSON) pairs the per-type converters dispatch on,
// plus the small readers they share. The type comes from the FHIRPath model, or from the value's shape if unknown.
import fhirpath from 'fhirpath';

/** One value found by a search expression. */
export interface TypedValue {
  /** FHIR data type name (`HumanName`, `dateTime`, `Patient` for a resource ...), or `unknown`. */
  type: string;
  data: unknown;
}

/** The parts of a fhirpath.js ResourceNode that extraction reads. */
interface NodeLike {
  data: unknown;
  fhirNodeDataType: string | null;
}

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A non-blank string, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A finite number, or undefined. */
export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The elements of a repeating element (or the single value of a non-repeating one). */
export function list(value: unknown): unknown[] {
  if (value === undefined || value === null) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

// How to tell an object's data type when the model cannot (custom expressions, values reached through
// %resource or computed by functions). First match wins, so more specific shapes come first.
const hasAny =
  (...keys: string[]) =>
  (data: JsonObject): boolean =>
    keys.some((key) => key in data);

const SHAPES: [string, (data: JsonObject) => boolean][] = [
  ['CodeableConcept', hasAny('coding')],
  ['HumanName', hasAny('family', 'given')],
  ['Address', hasAny('line', 'city', 'postalCode', 'country', 'district', 'state')],
  ['Money', hasAny('currency')],
  ['Quantity', (data) => typeof data.value === 'number'],
  ['Reference', hasAny('reference')],
  ['Period', hasAny('start', 'end')],
  ['Timing', hasAny('event', 'repeat')],
  ['Range', hasAny('low', 'high')],
  ['Coding', hasAny('code', 'display')],
  ['Identifier', hasAny('value', 'system')],
];

function typeOfShape(data: JsonObject): string {
  if (typeof data.resourceType === 'string') {
    return data.resourceType;
  }
  const shape = SHAPES.find(([, matches]) => matches(data));
  return shape ? shape[0] : 'unknown';
}

const JS_TYPES: Record<string, string | undefined> = { string: 'string', boolean: 'boolean', number: 'decimal' };

/** FHIRPath system types (`System.String`) map to the FHIR primitive the converters know. */
const SYSTEM_TYPES: Record<string, string> = {
  'System.String': 'string',
  'System.Boolean': 'boolean',
  'System.Integer': 'integer',
  'System.Decimal': 'decimal',
  'System.Date': 'date',
  'System.DateTime': 'dateTime',
  'System.Time': 'time',
};

const isNode = (value: unknown): value is NodeLike => isObject(value) && 'fhirNodeDataType' in value && 'data' in value;

/** fhirpath.js wraps decimals (FP_Decimal), computed dates and integer64 (BigInt); extraction wants JSON values. */
function plain(data: unknown): unknown {
  if (typeof data === 'bigint') {
    return Number(data);
  }
  if (!isObject(data) || Object.getPrototypeOf(data) === Object.prototype) {
    return data;
  }
  return fhirpath.resolveInternalTypes(data);
}

function typeOf(declared: string | null, data: unknown): string {
  if (declared && declared !== 'Element' && declared !== 'BackboneElement') {
    return SYSTEM_TYPES[declared] ?? declared;
  }
  return isObject(data) ? typeOfShape(data) : (JS_TYPES[typeof data] ?? 'unknown');
}

/** Typed values of an evaluation result; empty values (a primitive with only extensions) are left out. */
export function typedValues(results: unknown[]): TypedValue[] {
  const values: TypedValue[] = [];
  for (const result of results) {
    const node = isNode(result) ? result : { data: result, fhirNodeDataType: null };
    const data = plain(node.data);
    if (data !== undefined && data !== null && data !== '') {
      values.push({ type: typeOf(node.fhirNodeDataType, data), data });
    }
  }
  return values;
}

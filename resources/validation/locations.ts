// FHIRPath locations for issues. JSON names a choice element by its type (`valueBoolean`) and a primitive's id and
// extensions by `_name`; FHIRPath names both by the element (`value`, `name`). The R4 type definitions tell which
// JSON keys are choices; a key the definitions do not know (an unknown property) is kept as written.
import { capitalize, tryGetDataType, type InternalTypeSchema } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions';

/** One step of a JSON path: a property name or an array index. */
export type JsonStep = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A property step in a FHIRPath expression; names that are not identifiers are quoted with backticks. */
export function propertyStep(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `.\`${name.replace(/`/g, '\\`')}\``;
}

/** The element a JSON key of an object of `type` stands for, and that element's type when it has only one. */
interface ElementOfKey {
  element: string;
  type?: string;
}

/** Per type schema, its JSON keys (`multipleBirthBoolean`, `gender`) resolved once. */
const keyTables = new WeakMap<InternalTypeSchema, Map<string, ElementOfKey>>();

function keyTable(schema: InternalTypeSchema): Map<string, ElementOfKey> {
  let table = keyTables.get(schema);
  if (!table) {
    table = new Map();
    for (const [name, element] of Object.entries(schema.elements)) {
      const types = element.type ?? [];
      if (!name.endsWith('[x]')) {
        table.set(name, { element: name, type: types.length === 1 ? types[0].code : undefined });
        continue;
      }
      const base = name.slice(0, -3);
      for (const { code } of types) {
        table.set(base + capitalize(code), { element: base, type: code });
      }
    }
    keyTables.set(schema, table);
  }
  return table;
}

/** The type schema of a JSON value of FHIR type `type`; a nested resource (type Resource, or the root) has its own. */
function schemaOf(type: string | undefined, value: unknown): InternalTypeSchema | undefined {
  if (type === undefined || type === 'Resource') {
    const resourceType = isObject(value) ? value.resourceType : undefined;
    return typeof resourceType === 'string' ? tryGetDataType(resourceType) : undefined;
  }
  return tryGetDataType(type);
}

/**
 * The element `name` stands for in an object of `schema`: a declared element, a choice named by its type, or
 * (Medplum's `value[x]` with the suffix dropped) a choice element named by its base, typed by the key present.
 */
function elementOf(schema: InternalTypeSchema, name: string, object: unknown): ElementOfKey | undefined {
  const table = keyTable(schema);
  const resolved = table.get(name);
  if (resolved || !schema.elements[`${name}[x]`]) {
    return resolved;
  }
  const present = isObject(object) ? Object.keys(object).find((k) => table.get(k)?.element === name) : undefined;
  return { element: name, type: present ? table.get(present)?.type : undefined };
}

/**
 * The FHIRPath expression of the place that `steps` lead to in `resource`: `Patient.name[0].given[1]`,
 * `Observation.value` (for valueQuantity), `Patient.birthDate` (for `_birthDate`).
 */
export function fhirPathOf(resource: unknown, steps: readonly JsonStep[]): string {
  loadFhirDefinitions();
  let expression = String((resource as { resourceType?: unknown }).resourceType);
  let value: unknown = resource;
  // The FHIR type of `value`; undefined for a resource (typed by its resourceType). null: not known.
  let type: string | undefined | null = undefined;
  for (const step of steps) {
    if (typeof step === 'number') {
      expression += `[${step}]`;
      value = Array.isArray(value) ? value[step] : undefined;
      continue;
    }
    // Medplum leaves out some indices: the first item stands for all.
    const object = Array.isArray(value) ? value[0] : value;
    const schema: InternalTypeSchema | undefined = type === null ? undefined : schemaOf(type, object);
    const name = step.length > 1 && step.startsWith('_') ? step.slice(1) : step;
    const resolved: ElementOfKey | undefined = schema ? elementOf(schema, name, object) : undefined;
    expression += propertyStep(resolved?.element ?? step);
    value = isObject(object) ? object[step] : undefined;
    // A primitive's `_name` object holds only an id and extensions: an Element.
    type = resolved ? (step !== name ? 'Element' : (resolved.type ?? null)) : null;
  }
  return expression;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STEP = /\.(?:`((?:[^`\\]|\\.)*)`|([^.[`]+(?:\[x\])?))((?:\[\d+\])*)/y;

/**
 * Rewrites an expression over the JSON (`Observation.component[1].valueBoolean`, Medplum's `Observation.value[x]`)
 * into FHIRPath. Anything it cannot parse is returned unchanged.
 */
export function toFhirPath(resource: unknown, expression: string): string {
  const dot = expression.indexOf('.');
  if (dot < 0) {
    return expression;
  }
  const steps: JsonStep[] = [];
  STEP.lastIndex = dot;
  while (STEP.lastIndex < expression.length) {
    const m = STEP.exec(expression);
    if (!m) {
      return expression;
    }
    const name = m[1] !== undefined ? m[1].replace(/\\`/g, '`') : m[2];
    steps.push(name.endsWith('[x]') ? name.slice(0, -3) : name);
    for (const index of m[3].matchAll(/\[(\d+)\]/g)) {
      steps.push(Number(index[1]));
    }
  }
  const root = expression.slice(0, dot);
  const rooted = isObject(resource) && resource.resourceType === root ? resource : { resourceType: root };
  return fhirPathOf(rooted, steps);
}

/** The FHIRPath location of the first occurrence of a JSON property anywhere in the resource, optionally only where
 * it holds `value`. */
export function locateProperty(resource: unknown, key: string, value?: unknown): string | undefined {
  const steps = stepsTo(resource, key, value);
  return steps && fhirPathOf(resource, steps);
}

function stepsTo(node: unknown, key: string, value: unknown): JsonStep[] | undefined {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = stepsTo(node[i], key, value);
      if (found) {
        return [i, ...found];
      }
    }
    return undefined;
  }
  if (!isObject(node)) {
    return undefined;
  }
  if (key in node && (value === undefined || node[key] === value)) {
    return [key];
  }
  for (const [name, child] of Object.entries(node)) {
    const found = stepsTo(child, key, value);
    if (found) {
      return [name, ...found];
    }
  }
  return undefined;
}

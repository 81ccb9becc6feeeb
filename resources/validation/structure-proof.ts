// A fast proof that @medplum/core's validateResource would find nothing wrong with a resource (base definition,
// no profile). Medplum's validator crawls every element of every type's schema, present or not, building a typed
// value and a path string for each: ~175 µs for an average resource of the benchmark's data, most of a write's
// CPU. This walks only the keys that are present, from tables compiled once per type, and applies Medplum's own
// checks (cardinality, JSON types, primitive formats, reference targets, the error-severity invariants through
// Medplum's FHIRPath engine): ~26 µs. It only ever says "proven valid" or "don't know": any shape it does not
// mirror exactly (primitive extensions, patterns, slices, nulls, empty values, anything Medplum would report,
// even as a warning) returns false, and the caller runs Medplum for the verdict and its messages. The
// differential test holds the two to the same answer over real and mutated content.
import {
  capitalize,
  fhirTypeToJsType,
  HTTP_HL7_ORG,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  UCUM,
  validationRegexes,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/** Invariants Medplum does not evaluate (its skippedConstraintKeys). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const HL7_TYPES = `${HTTP_HL7_ORG}/fhir/StructureDefinition/`;
const MEDPLUM_TYPES = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;

type JsType = 'string' | 'number' | 'boolean';

/** What a JSON key of an object of some type stands for. */
interface KeyRule {
  /** The schema element: `subject`, or `value[x]` for `valueQuantity`. */
  element: string;
  /** The FHIR type the key's values have. */
  type: string;
  isArray: boolean;
  min: number;
  max: number;
  /** Set for primitive types. */
  jsType?: JsType;
  format?: RegExp;
  invariants: FhirPathAtom[];
  /** Reference target profiles Medplum would check. */
  targets?: string[];
  /** false when Medplum does something with this key that the proof does not mirror. */
  mirrored: boolean;
}

interface TypeRules {
  keys: Map<string, KeyRule>;
  /** Elements with min > 0, each with the keys that carry it. */
  required: { element: string; keys: string[] }[];
  /** The type's own invariants; Medplum checks them on the root resource only. */
  invariants: FhirPathAtom[];
}

/** Keyed by the schema object, so a schema Medplum replaces gets new rules. */
const compiled = new WeakMap<InternalTypeSchema, TypeRules>();
const parsedInvariants = new Map<string, FhirPathAtom>();

/** True only if Medplum's validateResource(resource) would return no issue at all. */
export function provablyValid(resource: Resource): boolean {
  const schema = resourceSchema(resource);
  if (!schema) return false;
  const root = toTypedValue(resource);
  const rules = rulesOf(schema);
  const proof = new Proof(root);
  return proof.invariantsHold(rules.invariants, root) && proof.resourceValid(resource, rules);
}

function resourceSchema(value: unknown): InternalTypeSchema | undefined {
  const type = (value as { resourceType?: unknown }).resourceType;
  const schema = typeof type === 'string' ? tryGetDataType(type) : undefined;
  return schema?.kind === 'resource' ? schema : undefined;
}

class Proof {
  private readonly ucum = toTypedValue(UCUM);
  /** The resource being walked: the root, or a contained one (FHIRPath's %resource). */
  private resource: TypedValue;

  constructor(private readonly root: TypedValue) {
    this.resource = root;
  }

  resourceValid(resource: Resource, rules: TypeRules): boolean {
    const outer = this.resource;
    this.resource = toTypedValue(resource);
    try {
      return this.objectValid(resource as unknown as Record<string, unknown>, rules, true);
    } finally {
      this.resource = outer;
    }
  }

  private objectValid(object: Record<string, unknown>, rules: TypeRules, isResource = false): boolean {
    const choicesSeen = new Set<string>();
    let keyCount = 0;
    for (const key in object) {
      keyCount++;
      if (key === 'resourceType' && isResource) continue;
      const rule = rules.keys.get(key);
      if (!rule?.mirrored || !Object.hasOwn(object, key)) return false;
      if (rule.element !== key) {
        if (choicesSeen.has(rule.element)) return false;
        choicesSeen.add(rule.element);
      }
      if (!this.propertyValid(object[key], rule)) return false;
    }
    if (keyCount === 0) return false;
    return rules.required.every(({ keys }) => keys.some((key) => Object.hasOwn(object, key)));
  }

  private propertyValid(value: unknown, rule: KeyRule): boolean {
    if (Array.isArray(value) !== rule.isArray) return false;
    const values = rule.isArray ? (value as unknown[]) : [value];
    if (values.length === 0 || values.length < rule.min || values.length > rule.max) return false;
    for (const item of values) {
      if (!this.valueValid(item, rule)) return false;
    }
    return true;
  }

  private valueValid(value: unknown, rule: KeyRule): boolean {
    if (rule.jsType) {
      return primitiveValid(value, rule) && this.invariantsHold(rule.invariants, { type: rule.type, value });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    if (rule.type === 'Resource') {
      // A nested resource (contained, Bundle.entry.resource) is walked as its own type, with itself as %resource.
      const schema = resourceSchema(value);
      return (
        schema !== undefined &&
        this.invariantsHold(rule.invariants, { type: schema.type, value }) &&
        this.resourceValid(value as Resource, rulesOf(schema))
      );
    }
    if (rule.targets && !referenceTargetValid(value as { reference?: unknown }, rule.targets)) return false;
    const schema = tryGetDataType(rule.type);
    return (
      schema !== undefined &&
      this.invariantsHold(rule.invariants, { type: rule.type, value }) &&
      this.objectValid(value as Record<string, unknown>, rulesOf(schema))
    );
  }

  invariantsHold(invariants: FhirPathAtom[], value: TypedValue): boolean {
    if (invariants.length === 0) return true;
    const variables = { '%context': value, '%ucum': this.ucum, '%resource': this.resource, '%rootResource': this.root };
    try {
      return invariants.every((atom) => {
        const result = atom.eval({ variables }, [value]);
        return result.length === 1 && result[0].value?.valueOf() === true;
      });
    } catch {
      return false;
    }
  }
}

function primitiveValid(value: unknown, rule: KeyRule): boolean {
  if (typeof value !== rule.jsType) return false;
  if (rule.jsType === 'string') {
    const text = value as string;
    return text.trim() !== '' && text.length <= MAX_STRING && (!rule.format || rule.format.test(text));
  }
  if (rule.jsType === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return false;
    if (rule.type === 'integer' || rule.type === 'positiveInt' || rule.type === 'unsignedInt') {
      if (!Number.isInteger(n)) return false;
    }
    return !(rule.type === 'positiveInt' && n <= 0) && !(rule.type === 'unsignedInt' && n < 0);
  }
  return true;
}

/** Medplum's referenceTypeCheck, which warns when a literal reference names a type the element does not allow. */
function referenceTargetValid(reference: { reference?: unknown }, targets: string[]): boolean {
  if (typeof reference.reference !== 'string' || reference.reference.startsWith('#')) return true;
  const text = reference.reference;
  const type = text.includes('?') ? text.split('?')[0] : text.split('/')[0];
  if (!type) return true;
  for (const target of targets) {
    if (target === `${HL7_TYPES}Resource` || target === HL7_TYPES + type || target === MEDPLUM_TYPES + type)
      return true;
    if (!target.startsWith(HL7_TYPES) && !target.startsWith(MEDPLUM_TYPES)) return true;
  }
  return false;
}

function rulesOf(schema: InternalTypeSchema): TypeRules {
  let rules = compiled.get(schema);
  if (!rules) {
    rules = compileRules(schema);
    compiled.set(schema, rules);
  }
  return rules;
}

function compileRules(schema: InternalTypeSchema): TypeRules {
  const keys = new Map<string, KeyRule>();
  const required: TypeRules['required'] = [];
  for (const [name, element] of Object.entries(schema.elements)) {
    const isChoice = name.endsWith('[x]');
    const base = isChoice ? name.slice(0, -3) : name;
    const types = element.type ?? [];
    const ruleKeys: string[] = [];
    for (const { code } of isChoice ? types : types.slice(0, 1)) {
      const key = isChoice ? base + capitalize(code) : name;
      // Two elements claiming one key: leave it to Medplum.
      const clash = keys.has(key);
      keys.set(key, keyRule(schema, name, key, code, element, !clash && (isChoice || types.length === 1)));
      ruleKeys.push(key);
    }
    if (element.min > 0) required.push({ element: name, keys: ruleKeys });
  }
  return { keys, required, invariants: invariantsOf(schema.constraints) };
}

function keyRule(
  schema: InternalTypeSchema,
  name: string,
  key: string,
  type: string,
  element: InternalSchemaElement,
  unambiguous: boolean,
): KeyRule {
  const jsType = (fhirTypeToJsType as Record<string, JsType | undefined>)[type];
  const targets = type === 'Reference' ? element.type.find((t) => t.code === 'Reference')?.targetProfile : undefined;
  const mirrored =
    unambiguous &&
    element.path.slice(element.path.lastIndexOf('.') + 1) === name &&
    !element.pattern &&
    !element.fixed &&
    !element.slicing &&
    (jsType !== undefined || type === 'Resource' || tryGetDataType(type) !== undefined) &&
    choiceElementMedplumReads(schema, key) === (name.endsWith('[x]') ? name : undefined);
  return {
    element: name,
    type,
    isArray: element.isArray === true,
    min: element.min,
    max: element.max ?? Infinity,
    jsType,
    format: jsType === 'string' ? validationRegexes[type] : undefined,
    invariants: invariantsOf(element.constraints),
    targets,
    mirrored,
  };
}

/**
 * The choice element Medplum's checkAdditionalProperties would take `key` for: it splits the key before each
 * capital letter and tries `prefix[x]` for each growing prefix.
 */
function choiceElementMedplumReads(schema: InternalTypeSchema, key: string): string | undefined {
  let prefix = '';
  for (const part of key.split(/(?=[A-Z])/g)) {
    prefix += part;
    if (schema.elements[`${prefix}[x]`]) return `${prefix}[x]`;
  }
  return undefined;
}

function invariantsOf(constraints: InternalSchemaElement['constraints']): FhirPathAtom[] {
  return (constraints ?? [])
    .filter((c) => c.severity === 'error' && !SKIPPED_CONSTRAINTS.has(c.key))
    .map((c) => {
      let atom = parsedInvariants.get(c.expression);
      if (!atom) {
        atom = parseFhirPath(c.expression);
        parsedInvariants.set(c.expression, atom);
      }
      return atom;
    });
}

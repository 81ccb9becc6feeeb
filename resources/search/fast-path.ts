// Evaluates the plain member paths most search expressions are (`Observation.code`, `Resource.meta.tag`,
// `Observation.value.ofType(Quantity)`) straight over the JSON, typing each value from the FHIRPath R4 model.
// fhirpath.js costs ~4 µs per evaluation even on an absent element; this costs a property read.
import r4 from 'fhirpath/fhir-context/r4';
import { referenceTargetType } from './types/reference';

/** A value found by a fast path, shaped like the fhirpath.js ResourceNode fields extraction reads. */
export interface FastNode {
  data: unknown;
  fhirNodeDataType: string;
  /** The element path (`Observation.component`), the context for relative expressions evaluated on the node. */
  path: string;
}

export type FastEvaluator = (input: unknown, env?: Record<string, unknown>) => FastNode[];

/** One way an element step can match: its JSON key (`valueQuantity` for a choice) and what it leads to. */
interface Branch {
  key: string;
  type: string;
  path: string;
  /** The branches of the next step, or null when this step is the last. */
  next: Branch[] | null;
  /** Run-time filter from a `where(...)` step: keeps only matching items. */
  accept?: (item: unknown) => boolean;
}

const model = {
  path2Type: r4.path2Type as Record<string, string | undefined>,
  choiceTypePaths: r4.choiceTypePaths as Record<string, string[] | undefined>,
  elsewhere: r4.pathsDefinedElsewhere as Record<string, string | undefined>,
  parents: r4.type2Parent as Record<string, string | undefined>,
};

type Filter = (item: unknown) => boolean;
type Step = { element: string } | { ofType: string } | { filter: Filter };

const ELEMENT = /^[a-z][A-Za-z0-9]*$/;
const OF_TYPE = /^ofType\(([A-Za-z][A-Za-z0-9]*)\)$/;
const START = /^(?:[A-Z][A-Za-z0-9]*|%resource|%rootResource)$/;

// The `where()` forms the spec's expressions use, as run-time filters: `.where(resolve() is T)` as rewritten by
// expression.ts, and an element compared with a string literal (`telecom.where(system='phone')`).
const WHERE_FILTERS: [RegExp, (match: RegExpExecArray) => Filter][] = [
  [
    /^where\(hmsReferenceTo\('([A-Za-z][A-Za-z0-9]*)'\)\)$/,
    ([, type]) =>
      (item) =>
        referenceTargetType(item) === type,
  ],
  [
    /^where\(([a-z][A-Za-z0-9]*) ?= ?'([^'\\]*)'\)$/,
    ([, element, literal]) =>
      (item) =>
        (item as Record<string, unknown>)[element] === literal,
  ],
];

function whereFilter(part: string): Filter | undefined {
  for (const [pattern, filter] of WHERE_FILTERS) {
    const match = pattern.exec(part);
    if (match) {
      return filter(match);
    }
  }
  return undefined;
}

/** `Type.a.ofType(T).b` -> its start (`Type`, `%resource`, or undefined when relative) and steps; or undefined. */
function parsePath(term: string): { start?: string; steps: Step[] } | undefined {
  const parts = term.split('.');
  const start = START.test(parts[0]) ? parts.shift() : undefined;
  const steps: Step[] = [];
  for (const part of parts) {
    const ofType = OF_TYPE.exec(part);
    const filter = whereFilter(part);
    if (ofType) {
      steps.push({ ofType: ofType[1] });
    } else if (filter) {
      steps.push({ filter });
    } else if (ELEMENT.test(part)) {
      steps.push({ element: part });
    } else {
      return undefined;
    }
  }
  return { start, steps };
}

/**
 * FHIRPath's System types that no FHIR type shares a name with, and the FHIR primitives fhirpath.js converts to
 * each (its fhir2SystemAutomaticConversion): `value.ofType(DateTime)` also selects a `date` or an `instant`.
 */
const SYSTEM_TYPES: Record<string, readonly string[] | undefined> = {
  Boolean: ['boolean'],
  String: ['string', 'uri', 'code', 'oid', 'id', 'uuid', 'markdown', 'base64Binary'],
  Integer: ['integer', 'unsignedInt', 'positiveInt'],
  Decimal: ['decimal'],
  DateTime: ['date', 'dateTime', 'instant'],
  Time: ['time'],
};

const isKnownType = (type: string): boolean => type in model.parents || SYSTEM_TYPES[type] !== undefined;

function isOfType(actual: string, wanted: string): boolean {
  const converted = SYSTEM_TYPES[wanted];
  if (converted) return converted.includes(actual);
  for (let type: string | undefined = actual; type; type = model.parents[type]) {
    if (type === wanted) {
      return true;
    }
  }
  return false;
}

const CONTAINER_TYPES = new Set(['BackboneElement', 'Element']);

/** Where a node's children are defined: a backbone element's own path, else its data type. */
function contextOf(type: string, path: string): string {
  return CONTAINER_TYPES.has(type) ? (model.elsewhere[path] ?? path) : type;
}

/** Inherited elements: a type's parent type; a backbone element's BackboneElement. */
function parentContext(context: string): string | undefined {
  return context.includes('.') ? 'BackboneElement' : model.parents[context];
}

function branch(key: string, path: string): Branch | undefined {
  const type = model.path2Type[path] ?? model.path2Type[model.elsewhere[path] ?? ''];
  return type ? { key, type, path, next: null } : undefined;
}

/** The ways element `name` exists in `context` (one per choice type), or undefined when the model lacks it. */
function resolveElement(context: string, name: string): Branch[] | undefined {
  for (let owner: string | undefined = context; owner; owner = parentContext(owner)) {
    const path = `${owner}.${name}`;
    const choices = model.choiceTypePaths[path];
    const branches = choices
      ? choices.map((suffix) => branch(name + suffix, path + suffix))
      : [branch(name, path)].filter((found) => found);
    if (branches.length > 0) {
      return branches.every((found) => found) ? (branches as Branch[]) : undefined;
    }
  }
  return undefined;
}

const isPrimitive = (type: string): boolean => type.startsWith('System.') || /^[a-z]/.test(type);

/** Narrows an element's branches: statically by type (`ofType`), or at run time (`where`). */
function applyFilter(branches: Branch[], step: Step): Branch[] | undefined {
  if ('ofType' in step) {
    return isKnownType(step.ofType) ? branches.filter((b) => isOfType(b.type, step.ofType)) : undefined;
  }
  const { filter } = step as { filter: Filter };
  return branches.map((b) => {
    const previous = b.accept;
    return { ...b, accept: previous ? (item: unknown) => previous(item) && filter(item) : filter };
  });
}

/** Compiles steps from a context into branches; undefined when any step needs fhirpath.js after all. */
function compileSteps(context: string, steps: Step[]): Branch[] | undefined {
  const [first, ...rest] = steps;
  if (!('element' in first)) {
    return undefined;
  }
  let branches = resolveElement(context, first.element);
  while (branches && rest.length > 0 && !('element' in rest[0])) {
    branches = applyFilter(branches, rest.shift() as Step);
  }
  if (!branches || rest.length === 0) {
    return branches;
  }
  const continued: Branch[] = [];
  for (const found of branches) {
    if (found.type === 'Resource' || isPrimitive(found.type)) {
      return undefined; // a contained resource's type is only known at run time; primitives have no children
    }
    const next = compileSteps(contextOf(found.type, found.path), rest);
    if (!next) {
      return undefined;
    }
    continued.push({ ...found, next });
  }
  return continued;
}

function visit(item: unknown, found: Branch, out: FastNode[]): void {
  if (item === null || item === undefined) {
    return;
  }
  if (found.accept && !found.accept(item)) {
    return;
  }
  if (found.next) {
    walk(item, found.next, out);
    return;
  }
  const type = found.type === 'Resource' ? String((item as { resourceType?: string }).resourceType) : found.type;
  out.push({ data: item, fhirNodeDataType: type, path: found.path });
}

function walk(data: unknown, branches: Branch[], out: FastNode[]): void {
  if (typeof data !== 'object' || data === null) {
    return;
  }
  for (const found of branches) {
    const value = (data as Record<string, unknown>)[found.key];
    if (Array.isArray(value)) {
      value.forEach((item) => visit(item, found, out));
    } else {
      visit(value, found, out);
    }
  }
}

interface NodeInput {
  data: unknown;
  fhirNodeDataType: string | null;
  path: string | null;
}

const isNodeInput = (input: unknown): input is NodeInput =>
  typeof input === 'object' && input !== null && 'fhirNodeDataType' in input && 'data' in input;

/** The data and the context (type or backbone path) of an evaluation input: a resource or a node. */
function focus(input: unknown): { data: unknown; context?: string; path?: string } {
  if (isNodeInput(input)) {
    const type = input.fhirNodeDataType ?? '';
    const path = input.path ?? type;
    return { data: input.data, context: contextOf(type, path), path };
  }
  const resourceType = (input as { resourceType?: unknown } | undefined)?.resourceType;
  return typeof resourceType === 'string'
    ? { data: input, context: resourceType, path: resourceType }
    : { data: input };
}

/** Branches compiled once per context met at run time (relative and %resource paths). */
function perContext(steps: Step[]): (context: string) => Branch[] | undefined {
  const cache = new Map<string, Branch[] | undefined>();
  return (context) => {
    if (!cache.has(context)) {
      cache.set(context, compileSteps(context, steps));
    }
    return cache.get(context);
  };
}

/** A term's evaluator, or undefined when the term is not a plain path this module can compile. */
function compileTerm(term: string): FastEvaluator | undefined {
  const parsed = parsePath(term);
  // A type the model does not know (`ofType(DateTime)`, a System type) would fail only later, per context.
  if (!parsed || parsed.steps.some((step) => 'ofType' in step && !isKnownType(step.ofType))) {
    return undefined;
  }
  const { start, steps } = parsed;
  if (steps.length === 0) {
    return start && start !== '%resource' && start !== '%rootResource' ? selfEvaluator(start) : undefined;
  }
  if (start === '%resource' || start === '%rootResource') {
    const branchesFor = perContext(steps);
    return (_input, env) => evaluate(focus(env?.[start.slice(1)]), branchesFor);
  }
  if (start) {
    const branches = compileSteps(start, steps);
    return branches && fixedStartEvaluator(start, branches);
  }
  const branchesFor = perContext(steps);
  return (input) => evaluate(focus(input), branchesFor);
}

function evaluate(
  { data, context }: { data: unknown; context?: string },
  branchesFor: (context: string) => Branch[] | undefined,
): FastNode[] {
  const branches = context ? branchesFor(context) : undefined;
  const out: FastNode[] = [];
  if (branches) {
    walk(data, branches, out);
  }
  return out;
}

const ABSTRACT_STARTS = new Set(['Resource', 'DomainResource']);

/** `Observation.code`: applies to an Observation only (or to any resource for `Resource.` paths). */
function fixedStartEvaluator(start: string, branches: Branch[]): FastEvaluator {
  return (input) => {
    const { data, context } = focus(input);
    const out: FastNode[] = [];
    if (context === start || ABSTRACT_STARTS.has(start)) {
      walk(data, branches, out);
    }
    return out;
  };
}

/** `Observation` alone (a composite's root): the resource itself. */
function selfEvaluator(start: string): FastEvaluator {
  return (input) => {
    const { data, context, path } = focus(input);
    return context === start ? [{ data, fhirNodeDataType: start, path: path ?? start }] : [];
  };
}

/**
 * A direct evaluator for a union whose terms are all plain member paths (elements and `ofType()` of model
 * types); undefined for anything else (functions, operators, indexers), which fhirpath.js evaluates.
 */
export function compileFastPath(terms: string[]): FastEvaluator | undefined {
  const evaluators = terms.map(compileTerm);
  if (evaluators.length === 0 || !evaluators.every((evaluator) => evaluator)) {
    return undefined;
  }
  const compiled = evaluators as FastEvaluator[];
  return compiled.length === 1 ? compiled[0] : (input, env) => compiled.flatMap((evaluator) => evaluator(input, env));
}

// Turns a SearchParameter's FHIRPath expression into what extraction runs for one resource type: the union terms
// for that type only, rewritten so they evaluate offline and without singleton errors, compiled once and cached.
import fhirpath, { type UserInvocationTable } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { compileFastPath } from './fast-path';
import { abstractBaseTypes, isResourceType } from './resource-types';
import { referenceTargetType } from './types/reference';

/**
 * A compiled expression. Its results carry `data` and `fhirNodeDataType` (fhirpath.js ResourceNodes, or the
 * fast path's plain nodes) or are computed values (booleans ...); `typedValues` reads all of them.
 */
export type Evaluator = (input: unknown, env?: Record<string, unknown>) => unknown[];

/** The function `resolve() is Type` is rewritten to; named so that it cannot clash with a FHIRPath function. */
const REFERENCE_TO_FUNCTION = 'hmsReferenceTo';

const OPEN = '([{';
const CLOSE = ')]}';

/** Index of the closing quote of the string literal or quoted identifier opening at `open` (or the text's end). */
function skipQuoted(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === quote) {
      return i;
    }
  }
  return text.length;
}

const isQuote = (ch: string): boolean => ch === "'" || ch === '`';

/**
 * Calls `visit(index, depth)` for every character outside string literals and quoted identifiers, with its
 * bracket depth; `visit` returning true stops the scan.
 */
function scanCode(text: string, visit: (index: number, depth: number) => boolean | void): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (isQuote(ch)) {
      i = skipQuoted(text, i);
      continue;
    }
    if (CLOSE.includes(ch)) {
      depth--;
    }
    if (visit(i, depth)) {
      return;
    }
    if (OPEN.includes(ch)) {
      depth++;
    }
  }
}

/** The terms of an expression's top-level union (`a | b | (c as T)` -> three terms); strings are respected. */
export function splitUnion(expression: string): string[] {
  const terms: string[] = [];
  let start = 0;
  scanCode(expression, (i, depth) => {
    if (depth === 0 && expression[i] === '|') {
      terms.push(expression.slice(start, i));
      start = i + 1;
    }
  });
  terms.push(expression.slice(start));
  return terms.map((term) => term.trim()).filter(Boolean);
}

/** The type a term starts from (`Patient` in `(Patient.deceased as dateTime)`), or undefined for a relative term. */
function leadingType(term: string): string | undefined {
  const match = /^[\s(]*([A-Z][A-Za-z0-9]*)(?![A-Za-z0-9(])/.exec(term);
  const name = match?.[1];
  return name && (isResourceType(name) || name === 'Resource' || name === 'DomainResource') ? name : undefined;
}

/** Whether an expression has a binary operator (or any space) outside brackets and strings. */
function hasTopLevelOperator(text: string): boolean {
  let found = false;
  scanCode(text, (i, depth) => (found = depth === 0 && ' +-*/&|=<>!~'.includes(text[i])));
  return found;
}

function matchingClose(text: string, open: number): number {
  let close = -1;
  scanCode(text.slice(open), (i, depth) => {
    if (i > 0 && depth === 0 && CLOSE.includes(text[open + i])) {
      close = open + i;
      return true;
    }
  });
  return close;
}

/**
 * `(path as Type)` -> `path.ofType(Type)`: fhirpath.js throws on `as` over more than one item, which the spec's
 * own expressions do (`(Observation.component.value as Quantity)` with two components). `ofType` filters instead.
 */
function rewriteAsOperator(expression: string): string {
  let out = '';
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (isQuote(ch)) {
      const end = skipQuoted(expression, i);
      out += expression.slice(i, end + 1);
      i = end;
    } else if (ch !== '(' || /[\w`]$/.test(out)) {
      out += ch; // not a bracket, or a function call's bracket (the name touches it, unlike `and (`)
    } else {
      const close = matchingClose(expression, i);
      if (close < 0) {
        return out + expression.slice(i);
      }
      const inner = rewriteAsOperator(expression.slice(i + 1, close));
      out += asToOfType(inner) ?? `(${inner})`;
      i = close;
    }
  }
  return out;
}

function asToOfType(inner: string): string | undefined {
  const match = /^(.*\S)\s+as\s+([A-Za-z][\w.]*)\s*$/s.exec(inner);
  if (!match || hasTopLevelOperator(match[1])) {
    return undefined;
  }
  return `${match[1]}.ofType(${match[2]})`;
}

/** Applies `rewrite` to the parts of an expression outside string literals and quoted identifiers. */
function rewriteCode(expression: string, rewrite: (code: string) => string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    if (isQuote(expression[i])) {
      const end = skipQuoted(expression, i);
      out += rewrite(expression.slice(start, i)) + expression.slice(i, end + 1);
      start = end + 1;
      i = end;
    }
  }
  return out + rewrite(expression.slice(start));
}

// `.as(T)` has the same singleton trap as the operator. `resolve() is T` needs the referenced resource, which
// extraction does not have: it becomes a test of the reference itself (its `Type/id`, absolute URL or `type`).
const CODE_REWRITES: [RegExp, string][] = [
  [/\.as\(/g, '.ofType('],
  [/\bresolve\(\)\s+is\s+(?:FHIR\.)?([A-Za-z][A-Za-z0-9]*)/g, `${REFERENCE_TO_FUNCTION}('$1')`],
  [/\bresolve\(\)\.is\((?:FHIR\.)?([A-Za-z][A-Za-z0-9]*)\)/g, `${REFERENCE_TO_FUNCTION}('$1')`],
];

/** Rewrites an expression so that fhirpath.js evaluates it offline and without singleton errors. */
export function rewriteForOffline(expression: string): string {
  const code = rewriteCode(expression, (part) =>
    CODE_REWRITES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), part),
  );
  return rewriteAsOperator(code);
}

/**
 * The part of a (possibly multi-type) expression that applies to `resourceType`: the top-level union terms that
 * start from that type, from `Resource`/`DomainResource` when the type inherits them, or from no type at all
 * (relative terms), rewritten for offline evaluation. Undefined when no term applies.
 */
export function expressionForType(expression: string, resourceType: string): string | undefined {
  const applicable = new Set([resourceType, ...abstractBaseTypes(resourceType)]);
  const terms = splitUnion(expression).filter((term) => {
    const type = leadingType(term);
    return type === undefined || applicable.has(type);
  });
  return terms.length > 0 ? terms.map(rewriteForOffline).join(' | ') : undefined;
}

function referenceTo(values: unknown[], type: string): boolean[] {
  return values.map((value) => referenceTargetType(fhirpath.util.valData(value)) === type);
}

const OFFLINE_FUNCTIONS: UserInvocationTable = {
  [REFERENCE_TO_FUNCTION]: { fn: referenceTo, arity: { 1: ['String'] } },
  // A resolve() left in a custom expression would throw (fhirpath.js resolves over HTTP, async only): nothing.
  resolve: { fn: () => [], arity: { 0: [] } },
};

const compiled = new Map<string, Evaluator>();

function compileWithFhirPath(expression: string): Evaluator {
  return fhirpath.compile(expression, r4, {
    async: false,
    resolveInternalTypes: false,
    userInvocationTable: OFFLINE_FUNCTIONS,
  }) as Evaluator;
}

/**
 * Compiles an (already rewritten) expression once per process; later calls return the cached evaluator. Plain
 * member paths get the direct JSON evaluator (its nodes carry data, type and path, but are not fhirpath.js
 * nodes); `fhirpathOnly` asks for real fhirpath.js nodes, for results that fhirpath.js expressions evaluate further.
 */
export function compileExpression(expression: string, fhirpathOnly = false): Evaluator {
  const key = fhirpathOnly ? `fhirpath:${expression}` : expression;
  let evaluator = compiled.get(key);
  if (!evaluator) {
    const fast = fhirpathOnly ? undefined : compileFastPath(splitUnion(expression));
    evaluator = fast ?? compileWithFhirPath(expression);
    compiled.set(key, evaluator);
  }
  return evaluator;
}

/** Whether an expression is evaluated without fhirpath.js (see compileExpression). */
export function isFastPath(expression: string): boolean {
  return compileFastPath(splitUnion(expression)) !== undefined;
}

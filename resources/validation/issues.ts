// OperationOutcome issue helpers shared by the validation stages: building, locating (FHIRPath-style
// expressions over the resource JSON) and de-duplicating issues.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

export function issue(
  severity: IssueSeverity,
  code: IssueCode,
  diagnostics: string,
  expression?: string,
): OperationOutcomeIssue {
  return expression ? { severity, code, diagnostics, expression: [expression] } : { severity, code, diagnostics };
}

export function errorIssue(code: IssueCode, diagnostics: string, expression?: string): OperationOutcomeIssue {
  return issue('error', code, diagnostics, expression);
}

/** True when any issue is an error (or fatal): the resource must not be stored. */
export function hasErrors(issues: readonly OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

export function expressionOf(i: OperationOutcomeIssue): string {
  return i.expression?.[0] ?? '';
}

/** The expression without array indices: Medplum reports some problems per element, not per repetition. */
export function unindexed(expression: string): string {
  return expression.replace(/\[\d+\]/g, '');
}

/** Keeps the first of issues that say the same thing at the same place. */
export function dedupeIssues(issues: readonly OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.code}|${expressionOf(i)}|${i.diagnostics ?? ''}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A property step in a FHIRPath expression; names that are not identifiers are quoted with backticks. */
export function propertyStep(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `.\`${name.replace(/`/g, '\\`')}\``;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns Medplum's `name[x]` steps into the concrete property present in the resource (`deceased[x]` ->
 * `deceasedBoolean`), so its expressions match the JSON-schema ones. Steps that cannot be resolved stay as they are.
 */
export function resolveChoiceSteps(resource: Json, expression: string): string {
  if (!expression.includes('[x]')) {
    return expression;
  }
  const [root, ...steps] = expression.split('.');
  let current: Json = resource;
  const resolved = steps.map((step) => {
    const [, name, index] = /^(.*?)((?:\[\d+\])?)$/.exec(step) as RegExpExecArray;
    const container = Array.isArray(current) ? current[0] : current;
    const key = isObject(container) ? concreteKey(container, name) : name;
    current = isObject(container) ? container[key] : undefined;
    if (index && Array.isArray(current)) {
      current = current[Number(index.slice(1, -1))];
    }
    return key + index;
  });
  return [root, ...resolved].join('.');
}

function concreteKey(obj: Record<string, Json>, name: string): string {
  if (!name.endsWith('[x]')) {
    return name;
  }
  const prefix = name.slice(0, -3);
  return Object.keys(obj).find((k) => k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length))) ?? name;
}

/**
 * The FHIRPath-style location of the first occurrence of a property anywhere in the resource, optionally only
 * where it holds `value`.
 */
export function locateProperty(resource: Json, rootPath: string, key: string, value?: Json): string | undefined {
  if (Array.isArray(resource)) {
    for (let i = 0; i < resource.length; i++) {
      const found = locateProperty(resource[i], `${rootPath}[${i}]`, key, value);
      if (found) {
        return found;
      }
    }
    return undefined;
  }
  if (!isObject(resource)) {
    return undefined;
  }
  if (key in resource && (value === undefined || resource[key] === value)) {
    return rootPath + propertyStep(key);
  }
  for (const [name, child] of Object.entries(resource)) {
    const found = locateProperty(child, rootPath + propertyStep(name), key, value);
    if (found) {
      return found;
    }
  }
  return undefined;
}

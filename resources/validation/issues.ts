// OperationOutcome issue helpers shared by the validation stages: building and de-duplicating issues (their
// FHIRPath locations come from locations.ts).
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

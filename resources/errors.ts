// Errors a client can cause, each carrying the HTTP status and the OperationOutcome that explains it.
// They are thrown anywhere below the HTTP edge and rendered in one place (server/fhir/http.ts).
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    /** HTTP headers the response must carry, e.g. Allow on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(outcome.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
  }
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function issue(code: IssueCode, diagnostics: string, expression?: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) };
}

const fail = (status: number, code: IssueCode) => (diagnostics: string, expression?: string) =>
  new FhirError(status, outcome([issue(code, diagnostics, expression)]));

export const badRequest = fail(400, 'invalid');
export const notFound = fail(404, 'not-found');
export const notAllowed = fail(405, 'not-supported');
export const notAcceptable = fail(406, 'not-supported');
export const conflict = fail(409, 'conflict');
export const gone = fail(410, 'deleted');
export const preconditionFailed = fail(412, 'conflict');
export const tooLarge = fail(413, 'too-costly');
export const unsupportedMediaType = fail(415, 'not-supported');
export const unprocessable = fail(422, 'processing');
export const tooCostly = fail(400, 'too-costly');

/** 400 for validation failures: one OperationOutcome listing every issue found. */
export function invalidResource(issues: OperationOutcomeIssue[]): FhirError {
  return new FhirError(400, outcome(issues));
}

export function informational(diagnostics: string): OperationOutcome {
  return outcome([{ severity: 'information', code: 'informational', diagnostics }]);
}

/** 403: the caller is known but was not granted this. */
export const forbidden = fail(403, 'forbidden');

// $subsumes: how code A relates to code B in one code system's hierarchy. Equal codes are `equivalent`
// (reflexive, also when they differ only in case in a case-insensitive system); `subsumes` means A is an
// ancestor of B. A code the system does not have makes the question unanswerable: a 400 naming it.
import { badRequest } from '../errors';
import type { CodeSystemIndex } from './code-system-index';

export type SubsumptionOutcome = 'equivalent' | 'subsumes' | 'subsumed-by' | 'not-subsumed';

export function subsumption(index: CodeSystemIndex, codeA: string, codeB: string): SubsumptionOutcome {
  const a = positionOf(index, codeA, 'codeA');
  const b = positionOf(index, codeB, 'codeB');
  if (a === b) return 'equivalent';
  if (index.ancestors(b).has(a)) return 'subsumes';
  if (index.ancestors(a).has(b)) return 'subsumed-by';
  return 'not-subsumed';
}

function positionOf(index: CodeSystemIndex, code: string, parameter: string): number {
  const position = index.position(code);
  if (position === undefined) throw badRequest(`The code ${code} is not in the code system ${index.url}`, parameter);
  return position;
}

// Result-shaping search parameters: _include, _revinclude, _summary and _elements. They change what a
// search returns, not which resources match; parse.ts hands them here.
import type { SearchParameterRegistry } from './registry';

export interface IncludeSpec {
  /** The resource type whose reference parameter is followed (`Observation` in `Observation:subject`). */
  sourceType: string;
  /** Reference search parameter code, or `*` for all reference parameters of sourceType. */
  param: string;
  /** Optional target type restriction (`Observation:subject:Patient`). */
  targetType?: string;
  /** `:iterate` (or the R4 alias `:recurse`): also follow from included resources. */
  iterate: boolean;
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface ResultShaping {
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  summary?: SummaryMode;
  /** Top-level element names to keep (`_elements`). */
  elements?: string[];
}

export const SHAPING_PARAMETERS = new Set(['_include', '_revinclude', '_summary', '_elements']);

export function emptyShaping(): ResultShaping {
  return { include: [], revinclude: [], summary: undefined, elements: undefined };
}

/**
 * Applies one shaping parameter (name may carry a modifier, e.g. `_include:iterate`); returns why it cannot
 * be applied, or undefined. Malformed values throw a 400.
 */
export function applyShapingParameter(
  _registry: SearchParameterRegistry,
  _shaping: ResultShaping,
  name: string,
  _value: string,
): string | undefined {
  return `${name} is not supported yet`;
}

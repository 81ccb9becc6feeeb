// Result-shaping search parameters: _include, _revinclude, _summary and _elements. They change what a
// search returns, not which resources match; parse.ts hands them here.
import { badRequest } from '../errors';
import { isResourceType } from '../definitions';
import { unsupportedModifier } from './parse-values';
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

const SUMMARY_MODES = new Set<string>(['true', 'text', 'data', 'count', 'false']);
const INCLUDE_MODIFIERS = new Set(['iterate', 'recurse']);
const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function emptyShaping(): ResultShaping {
  return { include: [], revinclude: [], summary: undefined, elements: undefined };
}

/**
 * Applies one shaping parameter (name may carry a modifier, e.g. `_include:iterate`); returns why it cannot
 * be applied, or undefined. Malformed values throw a 400.
 */
export function applyShapingParameter(
  registry: SearchParameterRegistry,
  shaping: ResultShaping,
  name: string,
  value: string,
): string | undefined {
  const colon = name.indexOf(':');
  const code = colon < 0 ? name : name.slice(0, colon);
  const modifier = colon < 0 ? undefined : name.slice(colon + 1);
  if (code === '_include' || code === '_revinclude') {
    if (modifier !== undefined && !INCLUDE_MODIFIERS.has(modifier)) unsupportedModifier(modifier, name);
    const spec = parseIncludeSpec(registry, value, modifier !== undefined);
    if (typeof spec === 'string') return spec;
    (code === '_include' ? shaping.include : shaping.revinclude).push(spec);
    return undefined;
  }
  if (modifier !== undefined) unsupportedModifier(modifier, name);
  if (code === '_summary') {
    if (!SUMMARY_MODES.has(value)) throw badRequest('_summary must be true, text, data, count or false', name);
    shaping.summary = value as SummaryMode;
    return undefined;
  }
  shaping.elements = [...(shaping.elements ?? []), ...parseElements(value, name)];
  return undefined;
}

/** `Source:param[:Target]` with param a reference parameter of Source, or `*`; a string says why not. */
export function parseIncludeSpec(
  registry: SearchParameterRegistry,
  value: string,
  iterate: boolean,
): IncludeSpec | string {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) return `"${value}" is not of the form Type:parameter[:targetType]`;
  const [sourceType, param, targetType] = parts;
  if (!isResourceType(sourceType)) return `unknown resource type "${sourceType}"`;
  if (targetType !== undefined && !isResourceType(targetType)) return `unknown resource type "${targetType}"`;
  if (param !== '*') {
    const definition = registry.get(sourceType, param);
    if (definition?.type !== 'reference') return `"${param}" is not a reference parameter of ${sourceType}`;
    const targets = definition.targets;
    if (targetType && targets.length > 0 && !targets.includes(targetType)) {
      return `${sourceType}:${param} cannot refer to ${targetType}`;
    }
  }
  return { sourceType, param, ...(targetType ? { targetType } : {}), iterate };
}

function parseElements(value: string, name: string): string[] {
  const names = value.split(',').map((element) => topLevelName(element.trim()));
  if (names.some((element) => !ELEMENT_NAME.test(element))) {
    throw badRequest('_elements takes a comma-separated list of top-level element names', name);
  }
  return names;
}

/** `Patient.name` names the same top-level element as `name`; deeper paths are not supported (left invalid). */
function topLevelName(element: string): string {
  const [head, ...rest] = element.split('.');
  if (rest.length === 1 && isResourceType(head)) return rest[0];
  return rest.length === 0 ? head : element;
}

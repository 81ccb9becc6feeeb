// _summary and _elements: cut a resource down to the requested top-level elements, using the base
// StructureDefinitions' isSummary and min > 0 flags, and tag the result SUBSETTED as R4 requires.
import { tryGetDataType } from '@medplum/core';
import type { Coding, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../definitions';
import type { ResultShaping } from './result-params';

export const SUBSETTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
};

/** Kept in every subset: without them the resource cannot be identified or versioned. */
const ALWAYS_KEPT = ['resourceType', 'id', 'meta'];

/** True when resources are returned cut down (so they carry the SUBSETTED tag). */
export function isSubsetting(shaping: ResultShaping): boolean {
  const summary = shaping.summary;
  return summary === 'true' || summary === 'text' || summary === 'data' || shaping.elements !== undefined;
}

/** The stored JSON as the shaping asks for it; unchanged when nothing is subsetted. */
export function shapeResourceJson(json: string, shaping: ResultShaping): string {
  if (!isSubsetting(shaping)) return json;
  return JSON.stringify(shapeResource(JSON.parse(json) as Resource, shaping));
}

export function shapeResource(resource: Resource, shaping: ResultShaping): Resource {
  const keep = keptElements(resource.resourceType, shaping);
  const shaped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (keep(elementName(key))) shaped[key] = value;
  }
  const meta = (shaped.meta ?? {}) as NonNullable<Resource['meta']>;
  shaped.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return shaped as unknown as Resource;
}

/** `_birthDate` (the primitive's extensions) goes with `birthDate`. */
function elementName(key: string): string {
  return key.startsWith('_') ? key.slice(1) : key;
}

function keptElements(type: string, shaping: ResultShaping): (key: string) => boolean {
  const { summary: summaryProps, mandatory, choices } = typeElements(type);
  const named = (key: string, names: Iterable<string>): boolean => matchesAny(key, names, choices);
  const always = (key: string): boolean => ALWAYS_KEPT.includes(key) || named(key, mandatory);
  if (shaping.summary === 'true') return (key) => always(key) || named(key, summaryProps);
  if (shaping.summary === 'text') return (key) => always(key) || key === 'text';
  const elements = shaping.elements;
  if (shaping.summary === 'data') {
    return (key) => key !== 'text' && (elements === undefined || always(key) || named(key, elements));
  }
  return (key) => always(key) || named(key, elements ?? []);
}

/** `valueQuantity` is the choice element `value` (`value[x]`), but `statusReason` is not `status`. */
function matchesAny(key: string, names: Iterable<string>, choices: ReadonlySet<string>): boolean {
  for (const name of names) {
    if (key === name) return true;
    if (choices.has(name) && key.startsWith(name) && /^[A-Z]/.test(key.slice(name.length))) return true;
  }
  return false;
}

interface TypeElements {
  summary: ReadonlySet<string>;
  mandatory: ReadonlySet<string>;
  /** Choice elements by base name (`value` for `value[x]`). */
  choices: ReadonlySet<string>;
}

const cache = new Map<string, TypeElements>();

function typeElements(type: string): TypeElements {
  let found = cache.get(type);
  if (!found) {
    loadFhirDefinitions();
    const schema = tryGetDataType(type);
    const choices = Object.keys(schema?.elements ?? {})
      .filter((name) => name.endsWith('[x]'))
      .map((name) => name.slice(0, -3));
    found = {
      summary: schema?.summaryProperties ?? new Set(),
      mandatory: schema?.mandatoryProperties ?? new Set(),
      choices: new Set(choices),
    };
    cache.set(type, found);
  }
  return found;
}

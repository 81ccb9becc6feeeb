// Reference parameters: what a Reference, canonical or uri points at, as target type + id (local `Type/id`),
// URL (absolute, urn:uuid, canonical without its |version) and the Reference's logical identifier.
import type { ReferenceEntry } from '../index-entry';
import { isResourceType } from '../resource-types';
import { isObject, text, type JsonObject, type TypedValue } from './value';

export interface ParsedReference {
  type?: string;
  id?: string;
  /** Set for absolute references (http..., urn:uuid:...), without any `/_history/v`. */
  url?: string;
}

const FHIR_ID = '[A-Za-z0-9\\-.]{1,64}';
const RELATIVE = new RegExp(`^([A-Z][A-Za-z]+)/(${FHIR_ID})(?:/_history/${FHIR_ID})?$`);
const URL_TAIL = new RegExp(`/([A-Z][A-Za-z]+)/(${FHIR_ID})$`);
const HISTORY = new RegExp(`/_history/${FHIR_ID}$`);
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const BARE_ID = new RegExp(`^${FHIR_ID}$`);

/**
 * Reads a reference string: `Patient/1` and `Patient/1/_history/2` -> type + id; `https://x/fhir/Patient/1` ->
 * url + type + id; `urn:uuid:...` and contained `#x` -> url; a bare `1` -> id only. Conditional references
 * (`Patient?identifier=...`, resolved by transactions before storage) give undefined.
 */
export function parseReference(reference: string): ParsedReference | undefined {
  // A contained reference is a value (it counts for :missing), with nothing to resolve outside the resource.
  if (reference.startsWith('#')) {
    return reference.length > 1 ? { url: reference } : undefined;
  }
  if (reference.includes('?')) {
    return undefined;
  }
  const relative = RELATIVE.exec(reference);
  if (relative) {
    return isResourceType(relative[1]) ? { type: relative[1], id: relative[2] } : undefined;
  }
  if (SCHEME.test(reference)) {
    const url = reference.replace(HISTORY, '');
    const tail = URL_TAIL.exec(url);
    return tail && isResourceType(tail[1]) ? { url, type: tail[1], id: tail[2] } : { url };
  }
  return BARE_ID.test(reference) ? { id: reference } : undefined;
}

/** The resource type a Reference (or reference string, or resource) points at, when it can be told offline. */
export function referenceTargetType(data: unknown): string | undefined {
  if (typeof data === 'string') {
    return parseReference(data)?.type;
  }
  if (!isObject(data)) {
    return undefined;
  }
  if (typeof data.resourceType === 'string') {
    return data.resourceType;
  }
  const reference = text(data.reference);
  return (reference ? parseReference(reference)?.type : undefined) ?? text(data.type);
}

type Target = Omit<ReferenceEntry, 'type' | 'param'>;

const allowed = (type: string, targets: readonly string[]): boolean =>
  targets.length === 0 || targets.includes(type) || targets.includes('Resource');

function target(parsed: ParsedReference, identifier: JsonObject, targets: readonly string[]): Target | undefined {
  const known = parsed.type && parsed.id && allowed(parsed.type, targets);
  const entry = {
    targetType: known ? (parsed.type ?? null) : null,
    targetId: known ? (parsed.id ?? null) : null,
    url: parsed.url ?? null,
    identifierSystem: text(identifier.system) ?? null,
    identifierValue: text(identifier.value) ?? null,
  };
  return (entry.targetId ?? entry.url ?? entry.identifierValue) ? entry : undefined;
}

/** A Reference: its `reference` (a bare id takes `Reference.type`, or the only target) and its `identifier`. */
function reference(data: JsonObject, targets: readonly string[]): Target | undefined {
  const raw = text(data.reference);
  const parsed = (raw ? parseReference(raw) : undefined) ?? {};
  if (parsed.id && !parsed.type) {
    parsed.type = text(data.type) ?? (targets.length === 1 ? targets[0] : undefined);
  }
  return target(parsed, isObject(data.identifier) ? data.identifier : {}, targets);
}

/**
 * A canonical is indexed by its version-independent URL (`http://x/Questionnaire/q|2.0` as `http://x/...q`) and,
 * when it names a version, also as written: `questionnaire=http://x/...q|2.0` asks for that version.
 */
function canonical(data: string): Target[] {
  const url = text(data.split('|')[0]);
  if (!url) return [];
  const unversioned = target({ url }, {}, []) as Target;
  return data === url ? [unversioned] : [unversioned, { ...unversioned, url: data }];
}

/** A uri (or plain string) may hold a relative or absolute reference; a bare word is no reference. */
function uri(data: string, targets: readonly string[]): Target | undefined {
  const parsed = parseReference(data);
  return parsed?.type || parsed?.url ? target(parsed, {}, targets) : undefined;
}

/** A resource reached through the expression itself (Bundle.entry[0].resource for Bundle-composition). */
function resource(data: JsonObject, targets: readonly string[]): Target | undefined {
  const type = String(data.resourceType);
  const id = text(data.id);
  return id ? target({ type, id }, {}, targets) : undefined;
}

function referenceTargets(value: TypedValue, targets: readonly string[]): Target[] {
  const { type, data } = value;
  if (typeof data === 'string' && type === 'canonical') {
    return canonical(data);
  }
  const found = typeof data === 'string' ? uri(data, targets) : objectTarget(data, targets);
  return found ? [found] : [];
}

function objectTarget(data: unknown, targets: readonly string[]): Target | undefined {
  if (!isObject(data)) {
    return undefined;
  }
  return typeof data.resourceType === 'string' ? resource(data, targets) : reference(data, targets);
}

/**
 * The entries for one reference-like value. A relative reference to a type outside the parameter's targets keeps
 * only its URL and identifier parts (and yields nothing when it has none).
 */
export function referenceEntries(value: TypedValue, param: string, targets: readonly string[]): ReferenceEntry[] {
  return referenceTargets(value, targets).map((entry) => ({ type: 'reference', param, ...entry }));
}

// The parameters of a Bulk Data `$export` kick-off (Bulk Data 2.0 export.html), checked and normalised:
// from the URL (GET) or a Parameters body (POST), repeated comma lists merged. Anything wrong is a 400; an
// unsupported parameter is a 400 too, unless the client asked for `Prefer: handling=lenient`, when it is
// ignored and listed in the manifest's `error`.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError, badRequest, issue, outcome } from '../errors';
import { isResourceType } from '../search/resource-types';
import type { SearchParamPairs } from '../search/parse';

export type ExportLevel = 'system' | 'patient' | 'group';

export interface ExportRequest {
  level: ExportLevel;
  groupId?: string;
  /** `_type`, when given. */
  types?: string[];
  /** `_since` as an ISO instant. */
  since?: string;
  /** `_typeFilter` queries by type; several for one type are OR-ed. */
  typeFilters: Record<string, SearchParamPairs[]>;
  /** `_elements`: names for every type (`all`) and for one type (`Type.element`). */
  elements?: { all: string[]; byType: Record<string, string[]> };
  /** `patient` (POST only): the ids of the Patients to export. */
  patients?: string[];
  /** Parameters ignored under `handling=lenient`, for the manifest's `error`. */
  ignored: string[];
}

export interface KickOff {
  level: ExportLevel;
  groupId?: string;
  method: 'GET' | 'POST';
  query: SearchParamPairs;
  body?: unknown;
  lenient: boolean;
}

export const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/** Parameters of the search machinery that a `_typeFilter` query may not carry. */
const NOT_FILTERS = new Set([
  '_include',
  '_revinclude',
  '_sort',
  '_count',
  '_cursor',
  '_elements',
  '_summary',
  '_total',
]);

/** Parameters the server takes but does not act on (they shape the kick-off response only). */
const PASSIVE = new Set(['_format', '_pretty']);

const ELEMENT = /^[a-z][A-Za-z0-9]*$/;
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

type Handler = (request: ExportRequest, values: string[], kickOff: KickOff) => void;

const PARAMETERS: Record<string, Handler> = {
  _outputFormat: (_, values) => {
    for (const format of values) {
      if (!NDJSON_FORMATS.has(format)) {
        throw badRequest(`_outputFormat ${format} is not supported: use application/fhir+ndjson`, '_outputFormat');
      }
    }
  },
  _since: (request, values) => (request.since = parseSince(values[values.length - 1])),
  _type: (request, values) => (request.types = uniqueTypes(commaList(values), '_type')),
  _elements: (request, values) => (request.elements = parseElements(commaList(values))),
  _typeFilter: (request, values) => (request.typeFilters = parseTypeFilters(values)),
  patient: (request, values, kickOff) => (request.patients = parsePatients(values, kickOff)),
  // Not supported: the latest Provenance per exported resource cannot be collected per search page without
  // writing a Provenance that targets several exported resources once per page that finds it.
  includeAssociatedData: (request, values, kickOff) => {
    const text = `includeAssociatedData=${values.join(',')} is not supported: no associated data is exported`;
    if (!kickOff.lenient) {
      throw notSupported(`${text} (send Prefer: handling=lenient to go on without it)`, 'includeAssociatedData');
    }
    request.ignored.push(text);
  },
};

export function parseExportRequest(kickOff: KickOff): ExportRequest {
  const request: ExportRequest = { level: kickOff.level, groupId: kickOff.groupId, typeFilters: {}, ignored: [] };
  const byName = new Map<string, string[]>();
  for (const [name, value] of [...kickOff.query, ...bodyParameters(kickOff)]) {
    byName.set(name, [...(byName.get(name) ?? []), value]);
  }
  for (const [name, values] of byName) {
    const handler = PARAMETERS[name];
    if (handler) handler(request, values, kickOff);
    else if (!PASSIVE.has(name)) unknownParameter(request, name, kickOff.lenient);
  }
  if (request.patients && kickOff.method !== 'POST') throw badRequest('The patient parameter needs POST', 'patient');
  if (request.patients && kickOff.level === 'system') {
    throw badRequest('The patient parameter is for Patient and Group exports, not system-level ones', 'patient');
  }
  return request;
}

/** 400 for a parameter the server knows but does not implement. */
function notSupported(diagnostics: string, parameter: string): FhirError {
  return new FhirError(400, outcome([issue('not-supported', diagnostics, parameter)]));
}

function unknownParameter(request: ExportRequest, name: string, lenient: boolean): void {
  if (!lenient) throw badRequest(`$export does not support the parameter ${name}`, name);
  request.ignored.push(`The parameter ${name} is not supported and was ignored`);
}

/** A POST's Parameters as name/value pairs (references as their `reference`). */
function bodyParameters(kickOff: KickOff): SearchParamPairs {
  if (kickOff.body === undefined) return [];
  const body = kickOff.body as Parameters;
  if (body?.resourceType !== 'Parameters') throw badRequest('The body of a POST $export must be a Parameters resource');
  return (body.parameter ?? []).map((p) => [p.name, parameterValue(p)]);
}

function parameterValue(parameter: ParametersParameter): string {
  const value =
    parameter.valueString ??
    parameter.valueCode ??
    parameter.valueInstant ??
    parameter.valueDateTime ??
    parameter.valueUri ??
    parameter.valueReference?.reference;
  if (typeof value !== 'string') throw badRequest(`Parameter ${parameter.name} has no value $export understands`);
  return value;
}

function commaList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function uniqueTypes(types: string[], parameter: string): string[] {
  for (const type of types) {
    if (!isResourceType(type)) throw badRequest(`${parameter}: "${type}" is not a resource type`, parameter);
  }
  return [...new Set(types)];
}

function parseSince(value: string): string {
  const at = DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw badRequest(`_since "${value}" is not a FHIR instant`, '_since');
  if (at > Date.now()) throw badRequest(`_since ${value} is in the future`, '_since');
  return new Date(at).toISOString();
}

function parseElements(names: string[]): ExportRequest['elements'] {
  const elements = { all: [] as string[], byType: {} as Record<string, string[]> };
  for (const name of names) {
    const [first, second] = name.split('.');
    const typed = second !== undefined;
    const element = typed ? second : first;
    if (!ELEMENT.test(element) || name.split('.').length > 2 || (typed && !isResourceType(first))) {
      throw badRequest(`_elements "${name}" is not an element name or Type.element`, '_elements');
    }
    if (typed) (elements.byType[first] ??= []).push(element);
    else elements.all.push(element);
  }
  return elements;
}

/** `Type?query` items; an item's own commas are percent-encoded, so a comma before `Type?` starts the next. */
function parseTypeFilters(values: string[]): Record<string, SearchParamPairs[]> {
  const filters: Record<string, SearchParamPairs[]> = {};
  for (const item of values.flatMap((v) => v.split(/,(?=[A-Z][A-Za-z]*\?)/))) {
    const question = item.indexOf('?');
    const type = question < 0 ? item : item.slice(0, question);
    if (question < 0 || !isResourceType(type)) {
      throw badRequest(`_typeFilter "${item}" is not of the form ResourceType?search`, '_typeFilter');
    }
    const query = [...new URLSearchParams(item.slice(question + 1))];
    const misplaced = query.find(([name]) => NOT_FILTERS.has(name.split(':')[0]));
    if (misplaced) throw badRequest(`_typeFilter may not contain ${misplaced[0]}`, '_typeFilter');
    if (query.length === 0) throw badRequest(`_typeFilter "${item}" has no search parameters`, '_typeFilter');
    (filters[type] ??= []).push(query);
  }
  return filters;
}

function parsePatients(values: string[], kickOff: KickOff): string[] {
  if (kickOff.method !== 'POST') throw badRequest('The patient parameter needs POST', 'patient');
  return [
    ...new Set(
      values.map((reference) => {
        const match = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
        if (!match) throw badRequest(`patient "${reference}" is not a reference to a Patient`, 'patient');
        return match[1];
      }),
    ),
  ];
}

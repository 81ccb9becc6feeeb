// FHIRPath Patch (R4 fhirpatch.html): a Parameters resource read into a list of operations. Everything that
// makes a patch malformed (unknown operation type, missing or repeated parts, a path that is not FHIRPath)
// is a 400 here, before the stored resource is read.
import fhirpath from 'fhirpath';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../errors';

export const MAX_OPERATIONS = 1000;
const MAX_PATH_LENGTH = 2000;

export type OperationType = 'add' | 'insert' | 'delete' | 'replace' | 'move';

/** The `value` of an operation: a typed value (`valueDate`, `valueHumanName` ...), or parts for a complex one. */
export type PatchValue =
  | { kind: 'typed'; type: string; value: unknown; extension?: unknown }
  | { kind: 'parts'; parts: ParametersParameter[] }
  | { kind: 'resource'; value: unknown };

export interface PatchOperation {
  /** Position in the Parameters, for error messages: `Parameters.parameter[n]`. */
  where: string;
  type: OperationType;
  /** The path as the patch gave it, for messages. */
  path: string;
  /** The path as evaluated (see `quoteKeywordMembers`). */
  expression: string;
  name?: string;
  value?: PatchValue;
  index?: number;
  source?: number;
  destination?: number;
}

/** A parsed FHIRPath Patch; a class so that the repository can tell it from a JSON Patch array. */
export class FhirPathPatch {
  constructor(readonly operations: PatchOperation[]) {}
}

type PartName = 'type' | 'path' | 'name' | 'value' | 'index' | 'source' | 'destination';

/** The parts each operation type needs; no other part is allowed. */
const REQUIRED_PARTS: Record<OperationType, PartName[]> = {
  add: ['type', 'path', 'name', 'value'],
  insert: ['type', 'path', 'index', 'value'],
  delete: ['type', 'path'],
  replace: ['type', 'path', 'value'],
  move: ['type', 'path', 'source', 'destination'],
};

export function isParameters(body: unknown): body is Parameters {
  return isRecord(body) && body.resourceType === 'Parameters';
}

export function parseFhirPathPatch(body: Parameters): FhirPathPatch {
  const parameters = body.parameter ?? [];
  if (!Array.isArray(parameters)) throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
  if (parameters.length > MAX_OPERATIONS) {
    throw badRequest(`A FHIRPath Patch may hold at most ${MAX_OPERATIONS} operations`, 'Parameters.parameter');
  }
  return new FhirPathPatch(parameters.map((parameter, i) => parseOperation(parameter, `Parameters.parameter[${i}]`)));
}

function parseOperation(parameter: unknown, where: string): PatchOperation {
  if (!isRecord(parameter) || parameter.name !== 'operation') {
    throw badRequest(`${where}: every parameter of a FHIRPath Patch must be named "operation"`, where);
  }
  if (!Array.isArray(parameter.part)) throw badRequest(`${where}: an operation needs parts`, `${where}.part`);
  const parts = partsByName(parameter.part, where);
  const type = stringPart(parts.get('type'), 'type', where, 'valueCode');
  if (!type || !(type in REQUIRED_PARTS)) {
    throw badRequest(`${where}: unknown operation type "${type}" (add, insert, delete, replace or move)`, where);
  }
  const required = REQUIRED_PARTS[type as OperationType];
  for (const name of required) {
    if (!parts.has(name)) throw badRequest(`${where}: a ${type} operation needs a "${name}" part`, `${where}.part`);
  }
  for (const name of parts.keys()) {
    if (!required.includes(name)) {
      throw badRequest(`${where}: a ${type} operation takes no "${name}" part`, `${where}.part`);
    }
  }
  return {
    where,
    type: type as OperationType,
    ...checkedPath(stringPart(parts.get('path'), 'path', where) as string, where),
    name: elementName(stringPart(parts.get('name'), 'name', where), where),
    value: parts.has('value') ? patchValue(parts.get('value') as Record<string, unknown>, `${where}.value`) : undefined,
    index: integerPart(parts.get('index'), 'index', where),
    source: integerPart(parts.get('source'), 'source', where),
    destination: integerPart(parts.get('destination'), 'destination', where),
  };
}

function partsByName(parts: unknown[], where: string): Map<PartName, Record<string, unknown>> {
  const byName = new Map<PartName, Record<string, unknown>>();
  parts.forEach((part, i) => {
    const name = isRecord(part) ? part.name : undefined;
    if (
      typeof name !== 'string' ||
      !['type', 'path', 'name', 'value', 'index', 'source', 'destination'].includes(name)
    ) {
      throw badRequest(`${where}.part[${i}]: unknown part "${String(name)}"`, `${where}.part[${i}]`);
    }
    if (byName.has(name as PartName))
      throw badRequest(`${where}: the "${name}" part is repeated`, `${where}.part[${i}]`);
    byName.set(name as PartName, part as Record<string, unknown>);
  });
  return byName;
}

function stringPart(
  part: Record<string, unknown> | undefined,
  name: string,
  where: string,
  preferred = 'valueString',
): string | undefined {
  if (!part) return undefined;
  const value = part[preferred] ?? part.valueString ?? part.valueCode;
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest(`${where}: the "${name}" part needs a non-empty ${preferred}`, `${where}.part`);
  }
  return value;
}

function integerPart(part: Record<string, unknown> | undefined, name: string, where: string): number | undefined {
  if (!part) return undefined;
  const value = part.valueInteger;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badRequest(`${where}: the "${name}" part needs a valueInteger of 0 or more`, `${where}.part`);
  }
  return value;
}

function checkedPath(path: string, where: string): { path: string; expression: string } {
  if (path.length > MAX_PATH_LENGTH) {
    throw badRequest(`${where}: the path is longer than ${MAX_PATH_LENGTH} characters`, `${where}.part`);
  }
  const expression = quoteKeywordMembers(path);
  try {
    fhirpath.parse(expression);
  } catch (error) {
    throw badRequest(`${where}: the path "${path}" is not valid FHIRPath: ${firstLine(error)}`, `${where}.part`);
  }
  return { path, expression };
}

/**
 * `Patient.text.div` names Narrative.div, but `div` and `mod` are FHIRPath operators, so fhirpath.js only
 * parses the member when quoted (Patient.text.`div`). The reference implementation and the HL7 test cases
 * write it bare, so a bare keyword right after a dot is quoted here (never inside a string or quoted name).
 */
export function quoteKeywordMembers(path: string): string {
  let result = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === "'" || ch === '`') {
      const end = closingQuote(path, i);
      result += path.slice(i, end + 1);
      i = end;
      continue;
    }
    const keyword = ch === '.' ? /^(div|mod)(?![A-Za-z0-9_])/.exec(path.slice(i + 1)) : null;
    if (keyword) {
      result += `.\`${keyword[1]}\``;
      i += keyword[1].length;
      continue;
    }
    result += ch;
  }
  return result;
}

/** Index of the quote closing the string or quoted name opened at `open` (or the last index). */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === text[open]) return i;
  }
  return text.length - 1;
}

function elementName(name: string | undefined, where: string): string | undefined {
  if (name !== undefined && !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
    throw badRequest(`${where}: "${name}" is not an element name`, `${where}.part`);
  }
  return name;
}

/** The value of a `value` part (or of a nested part): exactly one of value[x], part or resource. */
export function patchValue(part: Record<string, unknown>, where: string): PatchValue {
  const valueKeys = Object.keys(part).filter((key) => /^value[A-Z]/.test(key));
  const forms = valueKeys.length + (part.part !== undefined ? 1 : 0) + (part.resource !== undefined ? 1 : 0);
  if (forms !== 1) {
    throw badRequest(`${where}: a value needs exactly one of value[x], part or resource`, where);
  }
  if (part.resource !== undefined) {
    if (!isRecord(part.resource)) throw badRequest(`${where}: resource must be a resource`, where);
    return { kind: 'resource', value: part.resource };
  }
  if (part.part !== undefined) {
    if (!Array.isArray(part.part) || part.part.length === 0) {
      throw badRequest(`${where}: part must be a non-empty array`, where);
    }
    return { kind: 'parts', parts: part.part as ParametersParameter[] };
  }
  const key = valueKeys[0];
  const suffix = key.slice('value'.length);
  return { kind: 'typed', type: suffix, value: part[key], extension: part[`_${key}`] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

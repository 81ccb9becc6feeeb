// Token parameters: (system, code) pairs per the R4 search spec's token table, with the normalized display or
// text for `:text` and an Identifier's type for `:of-type`.
import type { TokenEntry } from '../index-entry';
import { normalizeString } from './string';
import { isObject, list, text, type JsonObject, type TypedValue } from './value';

type Token = Omit<TokenEntry, 'type' | 'param'>;

const normalizedText = (value: unknown): string | null => {
  const raw = text(value);
  return raw === undefined ? null : normalizeString(raw);
};

function coding(data: JsonObject): Token[] {
  const token = {
    system: text(data.system) ?? null,
    code: text(data.code) ?? null,
    text: normalizedText(data.display),
  };
  return (token.system ?? token.code ?? token.text) ? [token] : [];
}

/**
 * The codings, and the concept's text as an entry of its own unless a coding's display already carries the
 * same text: `:text` matches either, and each entry is one more index row to write.
 */
function codeableConcept(data: JsonObject): Token[] {
  const tokens = list(data.coding).filter(isObject).flatMap(coding);
  const conceptText = normalizedText(data.text);
  if (!conceptText || tokens.some((token) => token.text === conceptText)) return tokens;
  return [...tokens, { system: null, code: null, text: conceptText }];
}

/** Identifier: system|value, plus one entry per type coding so that `:of-type` can match any of them. */
function identifier(data: JsonObject): Token[] {
  const system = text(data.system) ?? null;
  const code = text(data.value) ?? null;
  if (system === null && code === null) {
    return [];
  }
  const type = isObject(data.type) ? data.type : {};
  const base = { system, code, text: normalizedText(type.text) };
  const typeCodings = list(type.coding).filter(isObject);
  if (typeCodings.length === 0) {
    return [{ ...base, typeSystem: null, typeCode: null }];
  }
  return typeCodings.map((c) => ({ ...base, typeSystem: text(c.system) ?? null, typeCode: text(c.code) ?? null }));
}

/** ContactPoint: the spec's table gives the value as the code and no system. */
function contactPoint(data: JsonObject): Token[] {
  const code = text(data.value);
  return code ? [{ system: null, code, text: null }] : [];
}

const TOKENS_BY_TYPE: Record<string, ((data: JsonObject) => Token[]) | undefined> = {
  Coding: coding,
  CodeableConcept: codeableConcept,
  Identifier: identifier,
  ContactPoint: contactPoint,
};

const PRIMITIVE_CODES: Record<string, ((data: never) => string | undefined) | undefined> = {
  string: text,
  boolean: (data: boolean) => String(data),
  number: (data: number) => String(data),
};

/** code, string, id, uri ... are their own code; booleans become `true`/`false`; all without a system. */
function primitiveToken(data: unknown): Token[] {
  const code = PRIMITIVE_CODES[typeof data]?.(data as never);
  return code === undefined ? [] : [{ system: null, code, text: null }];
}

function tokens(value: TypedValue): Token[] {
  const convert = TOKENS_BY_TYPE[value.type];
  if (convert) {
    return isObject(value.data) ? convert(value.data) : [];
  }
  return primitiveToken(value.data);
}

export function tokenEntries(value: TypedValue, param: string): TokenEntry[] {
  return tokens(value).map((token) => Object.assign({ type: 'token' as const, param }, token));
}

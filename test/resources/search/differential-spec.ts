// A small evaluator of FHIR R4 search semantics (search.html, 3.1.1.4-5) for the parameter types where the
// @medplum/core oracle departs from the spec (see differential-exceptions.ts). It reads the values of a
// parameter with @medplum/core's FHIRPath and applies the spec's matching rules to them.
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

export interface QueryPart {
  code: string;
  modifier?: string;
  value: string;
}

type Range = [number, number];
const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

export function valuesOf(resource: Resource, expression: string): TypedValue[] {
  return evalFhirPathTyped(expression, [toTypedValue(resource)]);
}

/** Case- and accent-insensitive form (search.html#string). */
export function normalize(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Splits on unescaped commas and removes the `\` escapes (search.html#escaping). */
export function orValues(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\([\\,$|])/g, '$1'))
    .filter((v) => v !== '');
}

export function stringsOf(values: TypedValue[]): string[] {
  const out: string[] = [];
  for (const { value } of values) {
    if (typeof value === 'string') out.push(value);
    else if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      for (const key of ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state']) {
        pushStrings(out, v[key]);
      }
      pushStrings(out, v.postalCode);
      pushStrings(out, v.country);
    }
  }
  return out;
}

function pushStrings(out: string[], value: unknown): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') out.push(item);
}

export function matchString(values: TypedValue[], part: QueryPart): boolean {
  const strings = stringsOf(values);
  return orValues(part.value).some((q) =>
    strings.some((s) => {
      if (part.modifier === 'exact') return s === q;
      if (part.modifier === 'contains') return normalize(s).includes(normalize(q));
      return normalize(s).startsWith(normalize(q));
    }),
  );
}

export function matchUri(values: TypedValue[], part: QueryPart): boolean {
  const uris = values.map((v) => v.value).filter((v): v is string => typeof v === 'string');
  return orValues(part.value).some((q) =>
    uris.some((u) => {
      if (part.modifier === 'below') return u.startsWith(q);
      if (part.modifier === 'above') return q.startsWith(u);
      return u === q;
    }),
  );
}

/** Texts associated with a code (search.html#token :text): CodeableConcept.text, Coding.display, Identifier.type.text. */
export function matchTokenText(values: TypedValue[], part: QueryPart): boolean {
  const texts = textsOf(values);
  return orValues(part.value).some((q) => texts.some((t) => normalize(t).startsWith(normalize(q))));
}

export function textsOf(values: TypedValue[]): string[] {
  const texts: string[] = [];
  for (const { value } of values) {
    if (!value || typeof value !== 'object') continue;
    const v = value as { text?: string; display?: string; coding?: { display?: string }[]; type?: { text?: string } };
    if (v.text) texts.push(v.text);
    if (v.display) texts.push(v.display);
    for (const c of v.coding ?? []) if (c.display) texts.push(c.display);
    if (v.type?.text) texts.push(v.type.text);
  }
  return texts;
}

export function splitPrefix(value: string): [string, string] {
  const prefix = value.slice(0, 2);
  return PREFIXES.includes(prefix) && !/^\d/.test(value) ? [prefix, value.slice(2)] : ['eq', value];
}

/** The instant range [low, high] (ms, inclusive) of a date, dateTime or instant at its precision. */
export function dateRange(text: string): Range | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(
    text,
  );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const offset =
    zone && zone !== 'Z'
      ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
      : 0;
  const at = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0): number =>
    Date.UTC(yy, mm, dd, hh, mn, ss, ms) - offset * 60000;
  const Y = Number(y);
  if (!mo) return [at(Y, 0, 1), at(Y + 1, 0, 1) - 1];
  const M = Number(mo) - 1;
  if (!d) return [at(Y, M, 1), at(Y, M + 1, 1) - 1];
  const D = Number(d);
  if (!h) return [at(Y, M, D), at(Y, M, D + 1) - 1];
  if (!s) return [at(Y, M, D, +h, +mi), at(Y, M, D, +h, +mi + 1) - 1];
  if (!frac) return [at(Y, M, D, +h, +mi, +s), at(Y, M, D, +h, +mi, +s + 1) - 1];
  const ms = Math.floor(Number(frac) * 1000);
  const t = at(Y, M, D, +h, +mi, +s, ms);
  return [t, t];
}

/** Ranges of date-typed values: primitives, Period, Timing (event and repeat.bounds). */
export function dateRangesOf(values: TypedValue[]): Range[] {
  const out: Range[] = [];
  for (const { value } of values) {
    if (typeof value === 'string') {
      const r = dateRange(value);
      if (r) out.push(r);
    } else if (value && typeof value === 'object') {
      const v = value as {
        start?: string;
        end?: string;
        event?: string[];
        repeat?: { boundsPeriod?: { start?: string; end?: string } };
      };
      if ('start' in v || 'end' in v) out.push(periodRange(v));
      for (const e of v.event ?? []) {
        const r = dateRange(e);
        if (r) out.push(r);
      }
      if (v.repeat?.boundsPeriod) out.push(periodRange(v.repeat.boundsPeriod));
    }
  }
  return out;
}

function periodRange(p: { start?: string; end?: string }): Range {
  const low = p.start ? (dateRange(p.start)?.[0] ?? -Infinity) : -Infinity;
  const high = p.end ? (dateRange(p.end)?.[1] ?? Infinity) : Infinity;
  return [low, high];
}

/** Prefix semantics over ranges (search.html#prefix). */
export function compareRanges(prefix: string, target: Range, search: Range): boolean {
  const [tl, th] = target;
  const [ql, qh] = search;
  const eq = ql <= tl && th <= qh;
  switch (prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
      return th > qh;
    case 'lt':
      return tl < ql;
    case 'ge':
      return th > qh || eq;
    case 'le':
      return tl < ql || eq;
    case 'sa':
      return tl > qh;
    case 'eb':
      return th < ql;
    default:
      return tl <= qh && th >= ql;
  }
}

export function matchDate(values: TypedValue[], part: QueryPart): boolean {
  const targets = dateRangesOf(values);
  return orValues(part.value).some((q) => {
    const [prefix, text] = splitPrefix(q);
    const search = dateRange(text);
    return search !== undefined && targets.some((t) => compareRanges(prefix, t, search));
  });
}

/** The implied precision range of a number as written, e.g. 100 -> [99.5, 100.5] (search.html#number). */
export function numberRange(text: string): Range {
  const n = Number(text);
  const decimals = /\.(\d+)/.exec(text.replace(/[eE].*$/, ''))?.[1].length ?? 0;
  const half = 0.5 * 10 ** -decimals;
  return [n - half, n + half];
}

/** Number prefixes against a target value taken as a point (search.html#number). */
export function compareNumber(prefix: string, target: number, text: string): boolean {
  const q = Number(text);
  const [low, high] = numberRange(text);
  const eq = target >= low && target < high;
  switch (prefix) {
    case 'eq':
    case 'ap':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
    case 'sa':
      return target > q;
    case 'lt':
    case 'eb':
      return target < q;
    case 'ge':
      return target >= q;
    default:
      return target <= q;
  }
}

export function matchNumber(values: TypedValue[], part: QueryPart): boolean {
  const numbers = values.map((v) => v.value).filter((v): v is number => typeof v === 'number');
  return orValues(part.value).some((q) => {
    const [prefix, text] = splitPrefix(q);
    return numbers.some((n) => compareNumber(prefix, n, text));
  });
}

interface QuantityLike {
  value?: number;
  system?: string;
  code?: string;
  unit?: string;
}

export function matchQuantity(values: TypedValue[], part: QueryPart): boolean {
  const quantities = values.map((v) => v.value as QuantityLike).filter((q) => q && typeof q.value === 'number');
  return orValues(part.value).some((q) => {
    const [num, system, code] = q.split('|');
    const [prefix, text] = splitPrefix(num);
    return quantities.some((quantity) => {
      if (!compareNumber(prefix, quantity.value as number, text)) return false;
      if (system && quantity.system !== system) return false;
      if (!code) return true;
      return system ? quantity.code === code : quantity.code === code || quantity.unit === code;
    });
  });
}

/** Reference forms (search.html#reference): [id], [type]/[id], :[type] modifier, absolute URL. */
export function matchReference(values: TypedValue[], part: QueryPart, baseUrl: string): boolean {
  const refs: string[] = [];
  for (const { value } of values) {
    const ref = (value as { reference?: string } | undefined)?.reference;
    if (typeof ref === 'string') refs.push(ref.startsWith(baseUrl + '/') ? ref.slice(baseUrl.length + 1) : ref);
  }
  return orValues(part.value).some((q) =>
    refs.some((ref) => {
      if (q.includes('/')) return ref === q;
      const [type, id] = ref.split('/');
      return id === q && (!part.modifier || part.modifier === type);
    }),
  );
}

export function matchReferenceIdentifier(values: TypedValue[], part: QueryPart): boolean {
  const ids: { system?: string; value?: string }[] = [];
  for (const { value } of values) {
    const identifier = (value as { identifier?: { system?: string; value?: string } } | undefined)?.identifier;
    if (identifier) ids.push(identifier);
  }
  return orValues(part.value).some((q) => {
    const bar = q.indexOf('|');
    if (bar < 0) return ids.some((i) => i.value === q);
    const system = q.slice(0, bar);
    const code = q.slice(bar + 1);
    return ids.some((i) => (system ? i.system === system : !i.system) && (!code || i.value === code));
  });
}

/** Token matching on codes (search.html#token): Coding, CodeableConcept, Identifier, ContactPoint, primitives. */
export function matchToken(values: TypedValue[], part: QueryPart): boolean {
  const tokens: { system?: string; code?: string }[] = [];
  for (const { value } of values) {
    if (typeof value === 'string' || typeof value === 'boolean') tokens.push({ code: String(value) });
    else if (value && typeof value === 'object') {
      const v = value as {
        system?: string;
        code?: string;
        value?: string;
        coding?: { system?: string; code?: string }[];
      };
      for (const c of v.coding ?? []) tokens.push({ system: c.system, code: c.code });
      if (v.code !== undefined) tokens.push({ system: v.system, code: v.code });
      if (v.value !== undefined) tokens.push({ system: v.system, code: v.value });
    }
  }
  return orValues(part.value).some((q) => {
    const bar = q.indexOf('|');
    if (bar < 0) return tokens.some((t) => t.code === q);
    const system = q.slice(0, bar);
    const code = q.slice(bar + 1);
    return tokens.some((t) => (system ? t.system === system : !t.system) && (!code || t.code === code));
  });
}

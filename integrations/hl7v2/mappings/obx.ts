// OBX (+ its NTEs) -> Observation per the v2-to-FHIR IG OBX map: the value by OBX-2 type, units, reference
// range, abnormal flags, status, performers, method, device. oru.ts decides grouping, keys and links.
import type {
  Address,
  Annotation,
  Attachment,
  CodeableConcept,
  Device,
  Identifier,
  Observation,
  ObservationComponent,
  ObservationReferenceRange,
  Organization,
  Patient,
  Practitioner,
  Quantity,
  Reference,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import type { V2Field, V2Segment } from '../message/v2-message';
import { tokenOf, type TransactionBuilder } from './bundle';
import type { MappingContext } from './context';
import {
  address,
  codeableConcept,
  dateTime,
  decimal,
  entityIdentifier,
  identifierSystem,
  practitioner,
  quantity,
} from './datatypes';
import { MappingError } from './types';

/** The value[x] choices an OBX-5 maps to. */
export type ObservationValue = Pick<
  Observation,
  | 'valueQuantity'
  | 'valueCodeableConcept'
  | 'valueString'
  | 'valueRange'
  | 'valueRatio'
  | 'valueTime'
  | 'valueDateTime'
  | 'valuePeriod'
>;

/** OBX-5 mapped: one value, or one per repetition (components), attachments (ED) and notes on the mapping. */
export interface MappedValue {
  value?: ObservationValue;
  components: ObservationValue[];
  attachments: Attachment[];
  notes: string[];
}

/** People and organisations named in segments, each created once per message and referenced after that. */
export interface Parties {
  practitioner(resource: Practitioner | undefined): Reference<Practitioner> | undefined;
  organization(resource: Organization | undefined): Reference<Organization> | undefined;
}

/** What the ORU group around an OBX supplies. */
export interface ObxLinks {
  /** The deterministic key the Observation is upserted on. */
  key: Identifier;
  subject: Reference<Patient>;
  basedOn?: Reference<ServiceRequest>[];
  specimen?: Reference<Specimen>;
  /** OBR-4: the code when OBX-3 is empty (a single unnamed result of the ordered test). */
  orderCode?: CodeableConcept;
  /** OBR-7, when OBX-14 is empty. */
  effective?: string;
  /** OBR-22. */
  issued?: string;
  /** The NTE segments after the OBX. */
  notes: V2Segment[];
  parties: Parties;
  /** ERR location prefix of this OBX, e.g. `OBX^3`. */
  location: string;
}

export interface MappedObservation {
  observation: Observation;
  /** ED data, for DiagnosticReport.presentedForm (R4 Observation has no attachment value). */
  attachments: Attachment[];
}

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const DATA_ABSENT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const LABORATORY: CodeableConcept = {
  coding: [
    {
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'laboratory',
      display: 'Laboratory',
    },
  ],
};

/** OBX-11 (table 0085) -> Observation.status; I/O (pending, order detail only) registered, R/S preliminary. */
export const OBSERVATION_STATUS: Record<string, Observation['status']> = {
  F: 'final',
  P: 'preliminary',
  C: 'corrected',
  A: 'amended',
  D: 'entered-in-error',
  W: 'entered-in-error',
  X: 'cancelled',
  N: 'cancelled',
  I: 'registered',
  O: 'registered',
  R: 'preliminary',
  S: 'preliminary',
  U: 'final',
};

/** OBX-11 codes that say there is no value, and why. */
const DATA_ABSENT: Record<string, { code: string; display: string }> = {
  X: { code: 'not-performed', display: 'Not Performed' },
  N: { code: 'not-asked', display: 'Not Asked' },
};

/** OBX-8 (table 0078) -> v3 ObservationInterpretation; the v2 codes are the v3 codes except these aliases. */
const INTERPRETATION_ALIASES: Record<string, string> = { 'H>': 'HU', 'L<': 'LU' };
const INTERPRETATION_DISPLAY: Record<string, string> = {
  N: 'Normal',
  L: 'Low',
  H: 'High',
  LL: 'Critical low',
  HH: 'Critical high',
  LU: 'Significantly low',
  HU: 'Significantly high',
  A: 'Abnormal',
  AA: 'Critical abnormal',
  '<': 'Off scale low',
  '>': 'Off scale high',
  U: 'Significant change up',
  D: 'Significant change down',
  B: 'Better',
  W: 'Worse',
  S: 'Susceptible',
  R: 'Resistant',
  I: 'Intermediate',
  MS: 'moderately susceptible',
  VS: 'very susceptible',
  SDD: 'Susceptible-dose dependent',
  NS: 'Non-susceptible',
  POS: 'Positive',
  NEG: 'Negative',
  IND: 'Indeterminate',
  DET: 'Detected',
  ND: 'Not detected',
  E: 'Equivocal',
  EX: 'outside threshold',
  HX: 'above high threshold',
  LX: 'below low threshold',
  RR: 'Reactive',
  WR: 'Weakly reactive',
  NR: 'Non-reactive',
  AC: 'Anti-complementary substances present',
  QCF: 'Quality control failure',
  TOX: 'Cytotoxic substance present',
  IE: 'Insufficient evidence',
  CAR: 'Carrier',
  EXP: 'Expected',
  UNE: 'Unexpected',
};

/** SN.1 comparators FHIR Quantity has. */
const COMPARATORS: Record<string, Quantity['comparator']> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

/** ED.2 type of data (table 0191) -> MIME top-level type. */
const MIME_TYPES: Record<string, string> = {
  AP: 'application',
  IM: 'image',
  AU: 'audio',
  TEXT: 'text',
  TX: 'text',
  MULTIPART: 'multipart',
};

const TEXT_TYPES = new Set(['ST', 'TX', 'FT', 'RP']);

/** OBX-5 per value type, one repetition at a time (text types are joined across repetitions instead). */
const VALUE_MAPS: Record<string, (field: V2Field, units: V2Field, context: MappingContext) => ObservationValue> = {
  NM: (field, units, context) => {
    const value = decimal(field.get(1));
    return value === undefined ? { valueString: textOf(field) } : { valueQuantity: quantity(value, units, context) };
  },
  SN: structuredNumeric,
  CE: coded,
  CWE: coded,
  CNE: coded,
  CF: coded,
  IS: coded,
  ID: coded,
  DT: pointInTime,
  DTM: pointInTime,
  TS: pointInTime,
  TM: (field) => {
    const time = timeOfDay(field.get(1));
    return time ? { valueTime: time } : { valueString: textOf(field) };
  },
  NR: (field, units, context) => {
    const low = decimal(field.get(1));
    const high = decimal(field.get(2));
    if (low === undefined && high === undefined) return { valueString: textOf(field) };
    return { valueRange: rangeOf(low, high, units, context) };
  },
  DR: (field, _units, context) => {
    const start = dateTime(field.get(1, 1), context);
    const end = dateTime(field.get(2, 1), context);
    if (!start && !end) return { valueString: textOf(field) };
    return { valuePeriod: { ...(start ? { start } : {}), ...(end ? { end } : {}) } };
  },
};

/** OBX -> Observation (and ED attachments for the report). Throws MappingError without a code or status. */
export function observationFromObx(obx: V2Segment, context: MappingContext, links: ObxLinks): MappedObservation {
  const code = codeableConcept(obx.field(3), context) ?? links.orderCode;
  if (!code) throw new MappingError('OBX-3 (observation identifier) is empty', `${links.location}^3`);
  const statusCode = obx.get(11);
  if (!statusCode) throw new MappingError('OBX-11 (observation result status) is empty', `${links.location}^11`);
  const status = OBSERVATION_STATUS[statusCode.toUpperCase()] ?? 'unknown';
  const absent = DATA_ABSENT[statusCode.toUpperCase()];
  const mapped = observationValue(obx, context);
  const notes = [...mapped.notes.map((text) => ({ text })), ...links.notes.map(noteFromNte(context))];
  const observation = compact<Observation>({
    resourceType: 'Observation',
    identifier: [links.key, entityIdentifier(obx.field(21), context)],
    basedOn: links.basedOn,
    status,
    category: [LABORATORY],
    code,
    subject: links.subject,
    effectiveDateTime: dateTime(obx.get(14), context) ?? links.effective,
    issued: links.issued,
    performer: performers(obx, context, links.parties),
    ...(absent ? {} : mapped.value),
    dataAbsentReason: absent ? { coding: [{ system: DATA_ABSENT_SYSTEM, ...absent }] } : undefined,
    interpretation: obx.repetitions(8).map(interpretation).filter(isDefined),
    note: notes.filter((n): n is Annotation => n !== undefined && n.text !== ''),
    bodySite: codeableConcept(obx.field(20), context),
    method: codeableConcept(obx.field(17), context),
    specimen: links.specimen,
    device: device(obx, context),
    referenceRange: referenceRange(obx, context),
    component: absent ? undefined : mapped.components.map((value): ObservationComponent => ({ code, ...value })),
  });
  return { observation, attachments: mapped.attachments };
}

/** OBX-5 by OBX-2: text types joined over repetitions, ED to attachments, others one value or components. */
export function observationValue(obx: V2Segment, context: MappingContext): MappedValue {
  const type = obx.get(2).toUpperCase();
  const repetitions = obx.repetitions(5);
  const result: MappedValue = { components: [], attachments: [], notes: [] };
  if (repetitions.length === 0) return result;
  if (type === 'ED') return { ...result, ...encapsulated(repetitions) };
  if (type === 'RP') return { ...result, ...pointers(repetitions) };
  const map = VALUE_MAPS[type];
  if (!map || TEXT_TYPES.has(type)) {
    const text = repetitions.map(textOf).join('\n');
    return text ? { ...result, value: { valueString: text } } : result;
  }
  const values = repetitions.map((field) => map(field, obx.field(6), context));
  return values.length === 1 ? { ...result, value: values[0] } : { ...result, components: values };
}

/** SN: `<^10` comparator, `^1^-^5` range, `^1^:^128` ratio, `^2^+` and `<>` as text. */
function structuredNumeric(field: V2Field, units: V2Field, context: MappingContext): ObservationValue {
  const [comparator, first, separator, second] = [1, 2, 3, 4].map((c) => field.get(c));
  const low = decimal(first);
  const high = decimal(second);
  const asText = { valueString: [comparator, first, separator, second].join('') };
  if (low === undefined) return asText;
  if (!separator && !second) {
    if (comparator && comparator !== '=' && !COMPARATORS[comparator]) return asText;
    const comparison = COMPARATORS[comparator];
    return { valueQuantity: { ...quantity(low, units, context), ...(comparison ? { comparator: comparison } : {}) } };
  }
  if (high === undefined) return asText;
  if (separator === '-') return { valueRange: rangeOf(low, high, units, context) };
  if (separator === ':' || separator === '/') {
    return { valueRatio: { numerator: { value: low }, denominator: { value: high } } };
  }
  return asText;
}

function coded(field: V2Field, _units: V2Field, context: MappingContext): ObservationValue {
  const concept = codeableConcept(field, context);
  return concept ? { valueCodeableConcept: concept } : { valueString: textOf(field) };
}

function pointInTime(field: V2Field, _units: V2Field, context: MappingContext): ObservationValue {
  const value = dateTime(field.get(1, 1), context);
  return value ? { valueDateTime: value } : { valueString: textOf(field) };
}

/** TM `hhmm[ss[.s]][+zzzz]` -> FHIR time (which has no zone). */
function timeOfDay(value: string): string | undefined {
  const match = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/.exec(value);
  if (!match || Number(match[1]) > 23) return undefined;
  return `${match[1]}:${match[2] ?? '00'}:${match[3] ?? '00'}${match[4] ?? ''}`;
}

function rangeOf(
  low: number | undefined,
  high: number | undefined,
  units: V2Field,
  context: MappingContext,
): NonNullable<Observation['valueRange']> {
  return {
    ...(low !== undefined ? { low: quantity(low, units, context) } : {}),
    ...(high !== undefined ? { high: quantity(high, units, context) } : {}),
  };
}

/** ED: Base64, Hex or ASCII data -> Attachment; the MIME type from ED.2 / ED.3. */
function encapsulated(repetitions: V2Field[]): Pick<MappedValue, 'attachments' | 'notes'> {
  const attachments = repetitions.map(attachmentOf).filter(isDefined);
  const notes = attachments.length > 0 ? ['Sent as encapsulated data (ED): see the report presentedForm.'] : [];
  return { attachments, notes };
}

function attachmentOf(field: V2Field): Attachment | undefined {
  const data = field.get(5);
  if (!data) return undefined;
  const encoding = field.get(4).toUpperCase();
  const base64 =
    encoding === 'BASE64'
      ? data.replace(/\s+/g, '')
      : Buffer.from(data, encoding === 'HEX' ? 'hex' : 'utf8').toString('base64');
  if (!base64) return undefined;
  const top = MIME_TYPES[field.get(2).toUpperCase()] ?? 'application';
  const subtype = field.get(3).toLowerCase() || 'octet-stream';
  return { contentType: `${top}/${subtype}`, data: base64 };
}

/** RP: the pointer as text, with what it points at in a note. */
function pointers(repetitions: V2Field[]): Pick<MappedValue, 'value' | 'notes'> {
  const text = repetitions.map((field) => field.get(1)).filter((p) => p !== '');
  if (text.length === 0) return { notes: [] };
  const described = repetitions
    .map((field) => [field.get(3), field.get(4)].filter((p) => p !== '').join('/'))
    .filter((d) => d !== '');
  const kind = described.length > 0 ? ` (${described.join(', ')})` : '';
  const holder = repetitions[0].get(2) ? ` held by ${repetitions[0].get(2)}` : '';
  return { value: { valueString: text.join('\n') }, notes: [`Reference pointer (RP) to data${kind}${holder}.`] };
}

/** OBX-7 -> referenceRange: text always; low/high from `70-110`, `4.3 to 6.2`, `70_105`, `<9`, `>=5`. */
export function referenceRange(obx: V2Segment, context: MappingContext): ObservationReferenceRange[] | undefined {
  const field = obx.field(7);
  if (field.isEmpty) return undefined;
  const text = Array.from({ length: field.size }, (_, i) => field.get(i + 1))
    .filter((part) => part !== '')
    .join(' ');
  const bounds = rangeBounds(text);
  const units = obx.field(6);
  return [
    compact<ObservationReferenceRange>({
      low: bounds.low !== undefined ? quantity(bounds.low, units, context) : undefined,
      high: bounds.high !== undefined ? quantity(bounds.high, units, context) : undefined,
      text,
    }),
  ];
}

const NUMBER = '([+-]?\\d+(?:\\.\\d+)?|[+-]?\\.\\d+)';
const RANGE_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => { low?: number; high?: number }]> = [
  [new RegExp(`^${NUMBER}\\s*(?:-|_|–|to|\\.\\.)\\s*${NUMBER}(?![\\d.])`, 'i'), (m) => ({ low: +m[1], high: +m[2] })],
  [new RegExp(`^(?:<=?|≤|up to)\\s*${NUMBER}(?![\\d.])`, 'i'), (m) => ({ high: +m[1] })],
  [new RegExp(`^(?:>=?|≥)\\s*${NUMBER}(?![\\d.])`), (m) => ({ low: +m[1] })],
];

export function rangeBounds(text: string): { low?: number; high?: number } {
  for (const [pattern, bounds] of RANGE_PATTERNS) {
    const match = pattern.exec(text.trim());
    if (match) return bounds(match);
  }
  return {};
}

/** One OBX-8 repetition -> a v3 interpretation coding (a code outside it keeps the v2 table's system). */
function interpretation(field: V2Field): CodeableConcept | undefined {
  const sent = field.get(1);
  if (!sent) return undefined;
  const code = INTERPRETATION_ALIASES[sent] ?? sent;
  const display = INTERPRETATION_DISPLAY[code];
  if (!display) {
    return { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0078', code: sent }] };
  }
  return { coding: [{ system: INTERPRETATION_SYSTEM, code, display }] };
}

/** OBX-23 (+24 address) performing organisation, else OBX-15 producer; OBX-16 observers; OBX-25 director. */
function performers(
  obx: V2Segment,
  context: MappingContext,
  parties: Parties,
): Reference<Organization | Practitioner>[] {
  const lab = obx.field(23).isEmpty
    ? producer(obx.field(15), context)
    : organization(obx.field(23), context, address(obx.field(24)));
  return [
    parties.organization(lab),
    ...obx.repetitions(16).map((f) => parties.practitioner(practitioner(f, context))),
    ...obx.repetitions(25).map((f) => parties.practitioner(practitioner(f, context))),
  ].filter(isDefined);
}

/** XON -> Organization: name XON.1, identifier XON.10 (XON.3 before v2.5) in XON.6's authority, type XON.7. */
export function organization(field: V2Field, context: MappingContext, at?: Address): Organization | undefined {
  if (field.isEmpty) return undefined;
  const value = field.get(10) || field.get(3);
  const [namespace = '', universalId = '', universalType = ''] = field.subcomponents(6);
  const typeCode = field.get(7);
  const id: Identifier | undefined = value
    ? compact<Identifier>({
        type: typeCode ? { coding: [{ system: V2_0203, code: typeCode }] } : undefined,
        system: identifierSystem(namespace, universalId, universalType, context),
        value,
      })
    : undefined;
  const name = field.get(1) || undefined;
  if (!id && !name) return undefined;
  return compact<Organization>({ resourceType: 'Organization', identifier: [id], name, address: [at] });
}

/** OBX-15 producer's ID (CWE) -> Organization: the code in the coding system's namespace, the text as name. */
function producer(field: V2Field, context: MappingContext): Organization | undefined {
  const value = field.get(1);
  if (!value) return undefined;
  const system = identifierSystem(field.get(3), '', '', context);
  return compact<Organization>({
    resourceType: 'Organization',
    identifier: [{ system, value }],
    name: field.get(2) || undefined,
  });
}

/** OBX-18 equipment instance identifiers: logical references (the analyser is not registered as a Device). */
function device(obx: V2Segment, context: MappingContext): Reference<Device> | undefined {
  const first = obx.repetitions(18)[0];
  const id = first ? entityIdentifier(first, context) : undefined;
  return id ? { identifier: id, display: id.value } : undefined;
}

/** NTE -> Annotation: NTE-3 repetitions as lines, NTE-6 (v2.6+) as time. */
export const noteFromNte =
  (context: MappingContext) =>
  (nte: V2Segment): Annotation | undefined => {
    const text = nteText(nte);
    if (!text) return undefined;
    const time = dateTime(nte.get(6), context);
    return { text, ...(time ? { time } : {}) };
  };

export const nteText = (nte: V2Segment): string => nte.repetitions(3).map(textOf).join('\n').trim();

/**
 * Creates each practitioner and organisation once per message by conditional create on its identifier (a
 * result never overwrites what registration knows about them); one without an identifier is only named.
 */
export function partiesOf(builder: TransactionBuilder): Parties {
  const created = new Map<string, string>();
  const reference = <T extends Practitioner | Organization>(
    resource: T | undefined,
    display: string | undefined,
  ): Reference<T> | undefined => {
    if (!resource) return undefined;
    const id = resource.identifier?.[0];
    if (!id?.value) return display ? { display } : undefined;
    const key = `${resource.resourceType}|${tokenOf(id)}`;
    let fullUrl = created.get(key);
    if (!fullUrl) {
      fullUrl = builder.createIfAbsent(resource, id);
      created.set(key, fullUrl);
    }
    return compact<Reference<T>>({ reference: fullUrl, display });
  };
  return {
    practitioner: (resource) => reference(resource, personName(resource)),
    organization: (resource) => reference(resource, resource?.name),
  };
}

const personName = (resource: Practitioner | undefined): string | undefined => {
  const name = resource?.name?.[0];
  const text = [...(name?.prefix ?? []), ...(name?.given ?? []), name?.family].filter(Boolean).join(' ');
  return text || undefined;
};

/** A repetition's text: its components (a sender's unescaped `^`) rejoined, trailing empty ones dropped. */
export function textOf(field: V2Field): string {
  if (field.isEmpty) return '';
  const parts = Array.from({ length: field.size }, (_, i) => field.get(i + 1));
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('^');
}

export const isDefined = <T>(value: T | undefined): value is T => value !== undefined;

/** An object as mapped: any element may be undefined, and so may any item of an array element. */
export type Loose<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends Array<infer U> ? Array<U | undefined> | undefined : T[K] | undefined;
};

/**
 * Drops undefined values, empty arrays and empty objects (and undefined array items) one level deep, so a
 * mapped element never carries an empty value.
 */
export function compact<T extends object>(value: Loose<T>): T {
  const entries = Object.entries(value)
    .map(([k, v]) => [k, Array.isArray(v) ? v.filter(isDefined) : v] as const)
    .filter(([, v]) => v !== undefined && v !== '' && !isEmptyContainer(v));
  return Object.fromEntries(entries) as T;
}

const isEmptyContainer = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && Object.keys(value).length === 0;

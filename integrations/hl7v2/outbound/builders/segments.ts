// Shared pieces of the outbound builders (FHIR -> HL7 v2 text): a segment joiner that escapes every leaf
// value, MSH, PID, PV1, and the CX / EI / XCN / CWE / TS data types built from FHIR resources.
import type {
  Address,
  ChargeItem,
  CodeableConcept,
  Coding,
  ContactPoint,
  Encounter,
  HumanName,
  Identifier,
  Patient,
  Practitioner,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import { escapeValue } from '../../message/escape';
import { OWN_NAMESPACE } from '../../mappings/context';

export interface OutboundHeader {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-10, given by the caller (the durable queue), never generated here. */
  controlId: string;
  /** MSH-7. */
  time: Date;
  processingId: 'P' | 'T' | 'D';
  version: '2.3' | '2.4' | '2.5' | '2.5.1';
  /** MSH-18 when set ('UNICODE UTF-8' or '8859/1'). */
  charset?: string;
  /** Offset (`+0100`) TS values are written in. */
  timezone: string;
}

export interface OrderInput {
  serviceRequest: ServiceRequest;
  patient: Patient;
  requester?: Practitioner;
  encounter?: Encounter;
  specimen?: Specimen[];
  structure: 'ORM_O01' | 'OML_O21';
  event: 'new' | 'cancel' | 'change';
}

export interface ChargeInput {
  chargeItem: ChargeItem;
  patient: Patient;
  encounter?: Encounter;
  performer?: Practitioner;
}

export interface AdtInput {
  trigger: 'A01' | 'A03' | 'A04' | 'A08' | 'A11';
  patient: Patient;
  encounter?: Encounter;
  attending?: Practitioner;
}

/** The FHIR input cannot make a valid message (e.g. no ServiceRequest.id for the placer number). */
export class OutboundBuildError extends Error {
  constructor(
    message: string,
    /** The v2 field that cannot be filled, e.g. `ORC-2`. */
    readonly location: string,
  ) {
    super(message);
  }
}

// ---- Joiner ---------------------------------------------------------------------------------------------

/** One value, escaped when joined; undefined and '' are empty. */
export type Leaf = string | undefined;
/** A component: one value or its sub-components. */
export type Component = Leaf | readonly Leaf[];
/** One repetition of a field: one value or its components. */
export type Repetition = Leaf | readonly Component[];
/** Several repetitions of a field (`~`); build it with `repeat()`. */
export interface Repeated {
  readonly repetitions: readonly Repetition[];
}
export type Field = Repetition | Repeated;
/** A segment's fields by their 1-based number. */
export type Fields = Readonly<Record<number, Field | undefined>>;

export const repeat = (repetitions: readonly Repetition[]): Repeated => ({ repetitions });

/** Components by 1-based position, for sparse types such as XCN: `positional({ 1: id, 9: authority })`. */
export function positional(components: Readonly<Record<number, Component>>): Component[] {
  const positions = Object.keys(components).map(Number);
  const size = positions.length > 0 ? Math.max(...positions) : 0;
  return Array.from({ length: size }, (_, i) => components[i + 1]);
}

/** Joins parts, dropping the trailing empty ones (v2 leaves them out). */
const joinTrimmed = (parts: readonly string[], separator: string): string => {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return parts.slice(0, end).join(separator);
};

const encodeComponent = (component: Component): string =>
  typeof component === 'object' ? joinTrimmed(component.map(encodeLeaf), '&') : encodeLeaf(component);

const encodeLeaf = (leaf: Leaf): string => (leaf ? escapeValue(leaf) : '');

const encodeRepetition = (repetition: Repetition): string =>
  typeof repetition === 'object' ? joinTrimmed(repetition.map(encodeComponent), '^') : encodeLeaf(repetition);

const isRepeated = (field: Field | undefined): field is Repeated =>
  typeof field === 'object' && !Array.isArray(field) && 'repetitions' in field;

function encodeField(field: Field | undefined): string {
  if (isRepeated(field)) {
    return field.repetitions
      .map(encodeRepetition)
      .filter((r) => r !== '')
      .join('~');
  }
  return encodeRepetition(field as Repetition);
}

function encodeFields(fields: Fields, first: number): string {
  const numbers = Object.keys(fields).map(Number);
  const last = numbers.length > 0 ? Math.max(...numbers) : 0;
  const encoded: string[] = [];
  for (let n = first; n <= last; n++) encoded.push(encodeField(fields[n]));
  return joinTrimmed(encoded, '|');
}

/** A segment from its fields by number; every leaf is escaped, trailing empty fields are left out. */
export function segment(name: string, fields: Fields): string {
  const body = encodeFields(fields, 1);
  return body ? `${name}|${body}` : name;
}

/** Segments joined with CR, no trailing CR. */
export const joinSegments = (segments: readonly (string | undefined)[]): string =>
  segments.filter((s): s is string => s !== undefined).join('\r');

// ---- Versions and MSH -----------------------------------------------------------------------------------

/** True when `version` is earlier than `than` (`2.3` < `2.3.1` < `2.4`). */
export function versionBefore(version: string, than: string): boolean {
  const parts = (v: string) => v.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [a, b] = [parts(version), parts(than)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** MSH-9: the message structure (9.3) exists from v2.3.1; ORM^O01 is always sent without it. */
export function messageType(code: string, trigger: string, structure: string, version: string): Repetition {
  const withStructure = code !== 'ORM' && !versionBefore(version, '2.3.1');
  return withStructure ? [code, trigger, structure] : [code, trigger];
}

/** MSH with `^~\&`, original-mode acknowledgment (MSH-15/16 empty) and MSH-18 when a charset is given. */
export function mshSegment(header: OutboundHeader, type: Repetition): string {
  const fields: Fields = {
    3: header.sendingApplication,
    4: header.sendingFacility,
    5: header.receivingApplication,
    6: header.receivingFacility,
    7: ts(header.time, header.timezone),
    9: type,
    10: header.controlId,
    11: header.processingId,
    12: header.version,
    18: header.charset,
  };
  return `MSH|^~\\&|${encodeFields(fields, 3)}`;
}

/** EVN: event type (EVN-1, kept for pre-2.5 receivers) and the recorded time (EVN-2). */
export const evnSegment = (trigger: string, header: OutboundHeader): string =>
  segment('EVN', { 1: trigger, 2: ts(header.time, header.timezone) });

// ---- TS -------------------------------------------------------------------------------------------------

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function offsetMinutes(timezone: string): number {
  if (timezone === 'Z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(timezone);
  if (!match) throw new OutboundBuildError(`Invalid timezone offset "${timezone}"`, 'MSH-7');
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

function formatInstant(instant: Date, timezone: string): string {
  const offset = offsetMinutes(timezone);
  const local = new Date(instant.getTime() + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return (
    `${pad(local.getUTCFullYear(), 4)}${pad(local.getUTCMonth() + 1)}${pad(local.getUTCDate())}` +
    `${pad(local.getUTCHours())}${pad(local.getUTCMinutes())}${pad(local.getUTCSeconds())}${zone}`
  );
}

/**
 * FHIR date / dateTime (or a Date) -> v2 TS. Dates keep their precision (`2024`, `202403`, `20240305`); a
 * time is written to the second in the given offset, with that offset (`20240305102030+0100`).
 */
export function ts(value: string | Date | undefined, timezone: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : formatInstant(value, timezone);
  if (!value.includes('T')) return /^\d{4}(-\d{2}){0,2}$/.test(value) ? value.replace(/-/g, '') : undefined;
  const instant = new Date(value);
  return Number.isNaN(instant.getTime()) ? undefined : formatInstant(instant, timezone);
}

// ---- Identifiers (CX, EI) -------------------------------------------------------------------------------

/** A v2-0203 type code of an Identifier (MR, PI, VN, FILL ...), else its first code. */
export function identifierType(id: Identifier): string | undefined {
  const codings = id.type?.coding ?? [];
  return (codings.find((c) => c.system === 'http://terminology.hl7.org/CodeSystem/v2-0203') ?? codings[0])?.code;
}

/**
 * An identifier system as a v2 assigning authority (HD: namespace & universal id & type). Systems the inbound
 * side made from a bare namespace (`urn:hms:v2:LAB`) go back to that namespace; OIDs are ISO; other URIs URI.
 */
export function assigningAuthority(system: string | undefined): Leaf[] | undefined {
  if (!system) return undefined;
  const own = /^urn:hms:v2:([^:]+)$/.exec(system);
  if (own) return [decodeURIComponent(own[1])];
  if (system.startsWith('urn:oid:')) return [undefined, system.slice('urn:oid:'.length), 'ISO'];
  return [undefined, system, 'URI'];
}

/** Identifier -> CX: value^^^authority^type. */
export function cx(id: Identifier, type = identifierType(id)): Repetition | undefined {
  if (!id.value) return undefined;
  return [id.value, undefined, undefined, assigningAuthority(id.system), type];
}

/** Our own resource id in our own namespace, as a CX (`<id>^^^HMS^PI`). */
export const ownCx = (id: string, type: string): Repetition => [id, undefined, undefined, OWN_NAMESPACE, type];

/**
 * Identifier -> EI parts (value, namespace, universal id, type): components for ORC-2/3, or sub-components
 * when placed inside one component (EIP in SPM-2).
 */
export function ei(id: Identifier): Leaf[] | undefined {
  if (!id.value) return undefined;
  return [id.value, ...(assigningAuthority(id.system) ?? [])];
}

/** Our placer order number: the ServiceRequest id in our namespace, resolved back by the ORU mapping. */
export function placerNumber(request: ServiceRequest): Repetition {
  if (!request.id) throw new OutboundBuildError('The ServiceRequest has no id for the placer order number', 'ORC-2');
  return [request.id, OWN_NAMESPACE];
}

/** The lab's filler order number: a ServiceRequest identifier of type FILL. */
export function fillerNumber(request: ServiceRequest): Repetition | undefined {
  const filler = request.identifier?.find((id) => identifierType(id) === 'FILL');
  return filler ? ei(filler) : undefined;
}

// ---- Codes (CWE) ----------------------------------------------------------------------------------------

/** FHIR code systems -> v2 coding system names (table 0396); other URIs are sent as they are. */
const SYSTEM_NAMES: Record<string, string> = {
  'http://loinc.org': 'LN',
  'http://snomed.info/sct': 'SCT',
  'http://unitsofmeasure.org': 'UCUM',
  'http://www.ama-assn.org/go/cpt': 'C4',
  'http://hl7.org/fhir/sid/icd-10': 'I10',
  'http://hl7.org/fhir/sid/icd-10-cm': 'I10C',
  'http://hl7.org/fhir/sid/icd-9-cm': 'I9C',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RXNORM',
  'http://hl7.org/fhir/sid/ndc': 'NDC',
  'http://hl7.org/fhir/sid/cvx': 'CVX',
};

/** A coding's system as a v2 name: table 0396 names, `HL7nnnn` tables, local (`L`) without a system. */
export function systemName(system: string | undefined): string {
  if (!system) return 'L';
  const named = SYSTEM_NAMES[system];
  if (named) return named;
  const table = /^http:\/\/terminology\.hl7\.org\/CodeSystem\/v2-(\d{4})$/.exec(system);
  if (table) return `HL7${table[1]}`;
  const local = /^urn:hms:v2:codesystem:(.+)$/.exec(system);
  return local ? decodeURIComponent(local[1]) : system;
}

const codingComponents = (coding: Coding | undefined, text?: string): Component[] =>
  coding?.code ? [coding.code, coding.display ?? text, systemName(coding.system)] : [];

/** A coding -> CWE: code^display^system name. */
export const cweOfCoding = (coding: Coding): Repetition => codingComponents(coding);

/**
 * CodeableConcept -> CWE from its first coding (code^display^system; the second coding as the alternate
 * 4-6); only text -> `^text`.
 */
export function cwe(concept: CodeableConcept | undefined): Repetition | undefined {
  if (!concept) return undefined;
  const [first, second] = (concept.coding ?? []).filter((c) => c.code);
  if (!first) return concept.text ? [undefined, concept.text] : undefined;
  return [...codingComponents(first, concept.text), ...codingComponents(second)];
}

// ---- People (XPN, XCN, XAD, XTN) ------------------------------------------------------------------------

/** HumanName.use -> XPN.7 name type (table 0200). */
const NAME_TYPES: Record<string, string> = {
  official: 'L',
  usual: 'D',
  maiden: 'M',
  nickname: 'N',
  anonymous: 'S',
  old: 'C',
  temp: 'T',
};

const middleNames = (name: HumanName): string | undefined => name.given?.slice(1).join(' ') || undefined;

/** HumanName -> XPN: family^given^middle^suffix^prefix^^type. */
export const xpn = (name: HumanName): Repetition => [
  name.family,
  name.given?.[0],
  middleNames(name),
  name.suffix?.join(' '),
  name.prefix?.join(' '),
  undefined,
  name.use ? NAME_TYPES[name.use] : undefined,
];

/**
 * Practitioner -> XCN: id^family^given^middle^suffix^prefix^^^authority^^^^type. The id is the first
 * business identifier, else our own resource id in our namespace.
 */
export function xcn(practitioner: Practitioner | undefined): Repetition | undefined {
  if (!practitioner) return undefined;
  const name = practitioner.name?.[0];
  const id = practitioner.identifier?.find((i) => i.value);
  const idComponents: Readonly<Record<number, Component>> = id
    ? { 1: id.value, 9: assigningAuthority(id.system), 13: identifierType(id) }
    : { 1: practitioner.id, 9: practitioner.id ? OWN_NAMESPACE : undefined };
  const nameComponents = name
    ? { 2: name.family, 3: name.given?.[0], 4: middleNames(name), 5: name.suffix?.join(' '), 6: name.prefix?.join(' ') }
    : {};
  const components = positional({ ...idComponents, ...nameComponents });
  return components.some((c) => c) ? components : undefined;
}

/** Address.use -> XAD.7 address type (table 0190). */
const ADDRESS_TYPES: Record<string, string> = { home: 'H', work: 'O', temp: 'C' };

/** Address -> XAD: street^other^city^state^zip^country^type^^district. */
export const xad = (address: Address): Repetition => [
  address.line?.[0],
  address.line?.slice(1).join(', ') || undefined,
  address.city,
  address.state,
  address.postalCode,
  address.country,
  address.use ? ADDRESS_TYPES[address.use] : undefined,
  undefined,
  address.district,
];

/** ContactPoint.system -> XTN.3 equipment type (table 0202). */
const EQUIPMENT: Record<string, string> = { phone: 'PH', fax: 'FX', pager: 'BP', email: 'Internet' };

/** ContactPoint -> XTN: `number^use^equipment` for phones, `^NET^Internet^address` for email. */
export function xtn(point: ContactPoint): Repetition | undefined {
  if (!point.value || !point.system) return undefined;
  if (point.system === 'email') return [undefined, 'NET', 'Internet', point.value];
  const equipment = point.use === 'mobile' ? 'CP' : EQUIPMENT[point.system];
  if (!equipment) return undefined;
  return [point.value, point.use === 'work' ? 'WPN' : 'PRN', equipment];
}

// ---- PID ------------------------------------------------------------------------------------------------

/** Patient.gender -> PID-8 (table 0001). */
const SEX: Record<string, string> = { male: 'M', female: 'F', other: 'O', unknown: 'U' };

/** PID-3: every business identifier, then our own id (`<id>^^^HMS^PI`) for the receiver to echo. */
function patientIdentifiers(patient: Patient): Repetition[] {
  const business = (patient.identifier ?? []).map((id) => cx(id)).filter((r) => r !== undefined);
  const own = patient.id ? [ownCx(patient.id, 'PI')] : [];
  const all = [...business, ...own];
  if (all.length === 0) throw new OutboundBuildError('The Patient has neither an identifier nor an id', 'PID-3');
  return all;
}

/** PID-13 home (and other) numbers, PID-14 work numbers. */
const telecoms = (patient: Patient, work: boolean): Repeated =>
  repeat((patient.telecom ?? []).filter((t) => (t.use === 'work') === work).map(xtn));

/** Patient -> PID: identifiers, names, birth date, sex, addresses, home / work telecom, death. */
export function pidSegment(patient: Patient, timezone: string): string {
  return segment('PID', {
    1: '1',
    3: repeat(patientIdentifiers(patient)),
    5: repeat((patient.name ?? []).map(xpn)),
    7: ts(patient.birthDate, timezone),
    8: patient.gender ? SEX[patient.gender] : undefined,
    11: repeat((patient.address ?? []).map(xad)),
    13: telecoms(patient, false),
    14: telecoms(patient, true),
    29: ts(patient.deceasedDateTime, timezone),
    30: deceasedIndicator(patient),
  });
}

/** PID-30: Y when a death is recorded (as a time or a flag), N when explicitly alive. */
function deceasedIndicator(patient: Patient): Leaf {
  if (patient.deceasedDateTime || patient.deceasedBoolean) return 'Y';
  return patient.deceasedBoolean === false ? 'N' : undefined;
}

// ---- PV1 ------------------------------------------------------------------------------------------------

/** Encounter.class (v3 ActCode) -> PV1-2 patient class (table 0004). */
const PATIENT_CLASS: Record<string, string> = {
  IMP: 'I',
  ACUTE: 'I',
  NONAC: 'I',
  AMB: 'O',
  OBSENC: 'O',
  SS: 'O',
  VR: 'O',
  HH: 'O',
  EMER: 'E',
  PRENC: 'P',
};

/** PV1-19: the visit number identifier (type VN), else the first identifier, else our own Encounter id. */
function visitNumber(encounter: Encounter): Repetition | undefined {
  const ids = (encounter.identifier ?? []).filter((id) => id.value);
  const visit = ids.find((id) => identifierType(id) === 'VN') ?? ids[0];
  if (visit) return cx(visit, 'VN');
  return encounter.id ? ownCx(encounter.id, 'VN') : undefined;
}

/** PV1-3: the current (else first) location's display, as the point of care. */
function assignedLocation(encounter: Encounter): Leaf {
  const locations = encounter.location ?? [];
  const current = locations.find((l) => l.status === 'active') ?? locations[0];
  return current?.location.display ?? current?.location.identifier?.value;
}

/** Encounter -> PV1: class, location, attending, visit number, admit / discharge times. */
export function pv1Segment(encounter: Encounter, timezone: string, attending?: Practitioner): string {
  return segment('PV1', {
    1: '1',
    2: PATIENT_CLASS[encounter.class?.code ?? ''] ?? 'U',
    3: assignedLocation(encounter),
    7: xcn(attending),
    19: visitNumber(encounter),
    44: ts(encounter.period?.start, timezone),
    45: ts(encounter.period?.end, timezone),
  });
}

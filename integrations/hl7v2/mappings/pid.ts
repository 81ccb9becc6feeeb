// PID (+ PD1) -> Patient per the v2-to-FHIR IG segment map, and small helpers the ADT segment maps share:
// v2 `""` nulls removed from mapped values, and codes whose system defaults to the v2 table the field uses.
import type {
  CodeableConcept,
  ContactPoint,
  Element,
  Extension,
  Identifier,
  Organization,
  Patient,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import type { V2Field, V2Segment } from '../message/v2-message';
import type { MappingContext } from './context';
import { address, codeableConcept, contactPoint, date, dateTime, humanName, identifier } from './datatypes';
import { tokenOf } from './bundle';

/** Patient with the primitive extension element of birthDate (patient-birthTime lives there). */
export type MappedPatient = Patient & { _birthDate?: Element };

/** Resolves the practitioners and organisations a segment names to references (see pv1.ts partyResolver). */
export interface PartyReferences {
  practitioner(field: V2Field): Reference<Practitioner> | undefined;
  organization(field: V2Field): Reference<Organization> | undefined;
}

const EXT = 'http://hl7.org/fhir/StructureDefinition';

/** v2 table 0001 -> administrative-gender. */
export const GENDER: Record<string, Patient['gender']> = {
  F: 'female',
  M: 'male',
  O: 'other',
  A: 'other',
  N: 'other',
  U: 'unknown',
};

/** A literal as the segment maps build it: any element may be undefined, arrays may hold undefined. */
export type Sparse<T> = {
  [K in keyof T]?: T[K] extends (infer U)[] | undefined ? (U | undefined)[] | undefined : T[K] | undefined;
};

/**
 * Drops what v2 sends as `""` (an explicit null: "delete the value") and the empty strings, arrays and
 * objects left behind, so the mapped resource never carries them. A whole resource replace already deletes.
 */
export function withoutV2Nulls<T>(value: Sparse<T>): T {
  return (clean(value) ?? {}) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return value === '""' || value === '' ? undefined : value;
  if (Array.isArray(value)) {
    const items = value.map(clean).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, clean(v)] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value;
}

/** A value of a field, with the v2 null `""` read as empty. */
export const v2Text = (segment: V2Segment, field: number, component = 1): string => {
  const value = segment.get(field, component);
  return value === '""' ? '' : value;
};

/** CWE -> CodeableConcept whose codings without a system get the v2 table the field is defined by. */
export function codedWithTable(field: V2Field, table: string, context: MappingContext): CodeableConcept | undefined {
  const concept = withoutV2Nulls(codeableConcept(field, context) ?? {});
  if (!concept.coding && !concept.text) return undefined;
  const system = `http://terminology.hl7.org/CodeSystem/v2-${table}`;
  return { ...concept, coding: concept.coding?.map((c) => (c.system || !c.code ? c : { system, ...c })) };
}

/** Values without repeats (a PID-9 alias often repeats the PID-5 name). */
const unique = <T>(values: T[]): T[] =>
  values.filter((v, i) => values.findIndex((o) => JSON.stringify(o) === JSON.stringify(v)) === i);

/** Identifiers from PID-2, PID-3, PID-4 (one per repetition) and PID-19 (SSN), without duplicates. */
function patientIdentifiers(pid: V2Segment, context: MappingContext): Identifier[] {
  const fromCx = [2, 3, 4].flatMap((n) => pid.repetitions(n).map((f) => identifier(f, context)));
  const ssn = v2Text(pid, 19);
  const ssnIdentifier: Identifier | undefined = ssn
    ? {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
        system: context.tables.identifierSystems?.SS ?? 'http://hl7.org/fhir/sid/us-ssn',
        value: ssn,
      }
    : undefined;
  const all = [...fromCx, ssnIdentifier].filter((i): i is Identifier => i !== undefined).map(withoutV2Nulls);
  return all.filter((id, i) => all.findIndex((o) => tokenOf(o) === tokenOf(id)) === i);
}

/** PID-11 addresses; PID-12 (county) fills `district` where the address has none. */
function patientAddresses(pid: V2Segment) {
  const county = v2Text(pid, 12);
  return pid
    .repetitions(11)
    .map((f) => address(f))
    .filter((a) => a !== undefined)
    .map((a) => (county && !a.district ? { ...a, district: county } : a));
}

function telecoms(pid: V2Segment): ContactPoint[] {
  const home = pid.repetitions(13).map((f) => contactPoint(f, 'home'));
  const work = pid.repetitions(14).map((f) => contactPoint(f, 'work'));
  return [...home, ...work].filter((c): c is ContactPoint => c !== undefined);
}

/** PID-6: the mother's maiden (family) name as a string extension. */
function mothersMaidenName(pid: V2Segment): Extension | undefined {
  const name = humanName(pid.field(6));
  const text = name?.family ?? name?.given?.join(' ');
  return text ? { url: `${EXT}/patient-mothersMaidenName`, valueString: text } : undefined;
}

function religion(pid: V2Segment, context: MappingContext): Extension | undefined {
  const concept = codedWithTable(pid.field(17), '0006', context);
  return concept ? { url: `${EXT}/patient-religion`, valueCodeableConcept: concept } : undefined;
}

/** PID-7: birthDate, and the time of birth as the patient-birthTime extension when sent with a time. */
function birth(pid: V2Segment, context: MappingContext): Pick<MappedPatient, 'birthDate' | '_birthDate'> {
  const value = v2Text(pid, 7);
  const birthDate = date(value);
  if (!birthDate) return {};
  const time = value.length > 8 ? dateTime(value, context) : undefined;
  if (!time || !time.includes('T')) return { birthDate };
  return { birthDate, _birthDate: { extension: [{ url: `${EXT}/patient-birthTime`, valueDateTime: time }] } };
}

const YES_NO: Record<string, boolean> = { Y: true, N: false };

/** PID-25 birth order wins over the PID-24 indicator (multipleBirth[x] holds one of them). */
function multipleBirth(pid: V2Segment): Pick<Patient, 'multipleBirthBoolean' | 'multipleBirthInteger'> {
  const order = Number.parseInt(v2Text(pid, 25), 10);
  if (Number.isInteger(order) && order > 0) return { multipleBirthInteger: order };
  const indicator = YES_NO[v2Text(pid, 24)];
  return indicator === undefined ? {} : { multipleBirthBoolean: indicator };
}

/** PID-29 death time wins over the PID-30 indicator. */
function deceased(pid: V2Segment, context: MappingContext): Pick<Patient, 'deceasedBoolean' | 'deceasedDateTime'> {
  const time = dateTime(v2Text(pid, 29), context);
  if (time) return { deceasedDateTime: time };
  const indicator = YES_NO[v2Text(pid, 30)];
  return indicator === undefined ? {} : { deceasedBoolean: indicator };
}

/** PD1-3 (primary facility, XON) and PD1-4 (primary care provider, XCN). */
function generalPractitioners(
  pd1: V2Segment | undefined,
  parties: PartyReferences | undefined,
): Reference<Organization | Practitioner>[] {
  if (!pd1 || !parties) return [];
  const organizations = pd1.repetitions(3).map((f) => parties.organization(f));
  const practitioners = pd1.repetitions(4).map((f) => parties.practitioner(f));
  return [...organizations, ...practitioners].filter((r) => r !== undefined);
}

/**
 * PID -> Patient (v2-to-FHIR IG PID[Patient]). Without `parties` PD1-3/4 are left out: only a mapping that
 * writes the Practitioner / Organization can reference them.
 */
export function patientFromPid(
  pid: V2Segment,
  pd1: V2Segment | undefined,
  context: MappingContext,
  parties?: PartyReferences,
): MappedPatient {
  const names = unique(
    [...pid.repetitions(5), ...pid.repetitions(9)].map((f) => humanName(f)).filter((n) => n !== undefined),
  );
  const language = codedWithTable(pid.field(15), '0296', context);
  const extension = [mothersMaidenName(pid), religion(pid, context)].filter((e): e is Extension => e !== undefined);
  return withoutV2Nulls<MappedPatient>({
    resourceType: 'Patient',
    extension,
    identifier: patientIdentifiers(pid, context),
    name: names,
    telecom: telecoms(pid),
    gender: GENDER[v2Text(pid, 8).toUpperCase()],
    ...birth(pid, context),
    ...deceased(pid, context),
    address: patientAddresses(pid),
    maritalStatus: codedWithTable(pid.field(16), '0002', context),
    ...multipleBirth(pid),
    communication: language ? [{ language, preferred: true }] : undefined,
    generalPractitioner: generalPractitioners(pd1, parties),
  });
}

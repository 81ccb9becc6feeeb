// PV1 (+ PV2) -> Encounter per the v2-to-FHIR IG PV1[Encounter] map, and the Practitioners, Organizations
// and Locations a message names, each written once per message however many fields name it (partyResolver).
import type {
  CodeableConcept,
  Coding,
  Encounter,
  EncounterLocation,
  EncounterParticipant,
  HumanName,
  Identifier,
  Location,
  Organization,
  Patient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { V2Field, V2Segment } from '../message/v2-message';
import { tokenOf, type TransactionBuilder } from './bundle';
import type { MappingContext } from './context';
import { codeableConcept, dateTime, identifier, identifierSystem, practitioner } from './datatypes';
import { codedWithTable, v2Text, withoutV2Nulls, type PartyReferences } from './pid';
import { MappingError } from './types';

export interface PartyResolver extends PartyReferences {
  /** PL -> Location. */
  location(field: V2Field): Reference<Location> | undefined;
  /** Writes a resource once per identifier in this message and returns its fullUrl. */
  once(resource: Resource, identifier: Identifier): string;
}

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const sender = (context: MappingContext) => encodeURIComponent(context.sender || 'unknown');
const nameText = (name: HumanName | undefined) =>
  name ? [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') : '';

/**
 * Upserts Practitioners (XCN), Organizations (XON) and Locations (PL) on their identifiers, one entry per
 * identifier per message. A Practitioner without an identifier is created from its name (no natural key).
 */
export function partyResolver(builder: TransactionBuilder, context: MappingContext): PartyResolver {
  const written = new Map<string, string>();
  const once = (resource: Resource, id: Identifier | undefined, key: string): string => {
    const cacheKey = `${resource.resourceType} ${key}`;
    const known = written.get(cacheKey);
    if (known) return known;
    const fullUrl = builder.upsert(resource, id);
    written.set(cacheKey, fullUrl);
    return fullUrl;
  };
  return {
    once: (resource, id) => once(resource, id, tokenOf(id)),
    practitioner(field) {
      const resource = field.isEmpty ? undefined : withoutV2Nulls(practitioner(field, context) ?? {});
      if (!resource?.identifier && !resource?.name) return undefined;
      const id = resource.identifier?.[0];
      const fullUrl = once(resource, id, id ? tokenOf(id) : JSON.stringify(resource.name));
      const display = nameText(resource.name?.[0]);
      return { reference: fullUrl, ...(display ? { display } : {}) };
    },
    organization(field) {
      const found = organizationFromXon(field, context);
      if (!found) return undefined;
      const reference = once(found.resource, found.identifier, tokenOf(found.identifier));
      return { reference, ...(found.resource.name ? { display: found.resource.name } : {}) };
    },
    location(field) {
      const found = locationFromPl(field, context);
      if (!found) return undefined;
      const reference = once(found.resource, found.identifier, tokenOf(found.identifier));
      return { reference, ...(found.resource.name ? { display: found.resource.name } : {}) };
    },
  };
}

/** An organisation's deterministic identifier when the message names it but gives no id. */
export const organizationNameIdentifier = (name: string, context: MappingContext): Identifier => ({
  system: `urn:hms:v2:organization:${sender(context)}`,
  value: name,
});

/** XON -> Organization: XON.1 name; XON.10 (or XON.3 before v2.5) id under the XON.6 authority. */
export function organizationFromXon(
  field: V2Field,
  context: MappingContext,
): { resource: Organization; identifier: Identifier } | undefined {
  if (field.isEmpty) return undefined;
  const clean = (v: string) => (v === '""' ? '' : v);
  const name = clean(field.get(1));
  const id = clean(field.get(10)) || clean(field.get(3));
  const [namespace = '', universalId = '', universalType = ''] = field.subcomponents(6);
  const ident = id
    ? { system: identifierSystem(namespace, universalId, universalType, context), value: id }
    : name
      ? organizationNameIdentifier(name, context)
      : undefined;
  if (!ident) return undefined;
  const resource = withoutV2Nulls<Organization>({ resourceType: 'Organization', identifier: [ident], name });
  return { resource, identifier: ident };
}

const PHYSICAL_TYPE = 'http://terminology.hl7.org/CodeSystem/location-physical-type';
/** The most specific PL component present names the kind of place. */
const PHYSICAL_TYPES: [keyof PlaceParts, Coding][] = [
  ['bed', { system: PHYSICAL_TYPE, code: 'bd', display: 'Bed' }],
  ['room', { system: PHYSICAL_TYPE, code: 'ro', display: 'Room' }],
  ['pointOfCare', { system: PHYSICAL_TYPE, code: 'wa', display: 'Ward' }],
  ['facility', { system: PHYSICAL_TYPE, code: 'si', display: 'Site' }],
];

interface PlaceParts {
  facility: string;
  pointOfCare: string;
  room: string;
  bed: string;
}

/**
 * PL -> Location keyed `urn:hms:v2:location:<sender>` | `facility^point of care^room^bed` (PL.9 description
 * when only that is sent), so every message naming the same bed reuses one Location.
 */
export function locationFromPl(
  field: V2Field,
  context: MappingContext,
): { resource: Location; identifier: Identifier } | undefined {
  if (field.isEmpty) return undefined;
  const clean = (v: string) => (v === '""' ? '' : v);
  const parts: PlaceParts = {
    facility: clean(field.get(4, 1)),
    pointOfCare: clean(field.get(1, 1)),
    room: clean(field.get(2, 1)),
    bed: clean(field.get(3, 1)),
  };
  const description = clean(field.get(9));
  const key = [parts.facility, parts.pointOfCare, parts.room, parts.bed];
  const value = key.some(Boolean) ? key.join('^') : description;
  if (!value) return undefined;
  const ident: Identifier = { system: `urn:hms:v2:location:${sender(context)}`, value };
  const name = [parts.pointOfCare, parts.room, parts.bed].filter(Boolean).join(' ') || description || parts.facility;
  const physical = PHYSICAL_TYPES.find(([part]) => parts[part] !== '')?.[1];
  const resource = withoutV2Nulls<Location>({
    resourceType: 'Location',
    identifier: [ident],
    status: 'active',
    mode: 'instance',
    name,
    description,
    physicalType: physical ? { coding: [physical] } : undefined,
  });
  return { resource, identifier: ident };
}

/** A PV1 that carries nothing beyond its set id (A08 often sends one): no Encounter. */
export function isEmptyPv1(pv1: V2Segment | undefined): boolean {
  if (!pv1) return true;
  for (let n = 2; n < pv1.raw.fields.length; n++) if (pv1.repetitions(n).length > 0) return false;
  return true;
}

const VISIT_TYPE: CodeableConcept = { coding: [{ system: V2_0203, code: 'VN' }] };

/**
 * The visit's identifier: PV1-19 (type VN), else `urn:hms:v2:visit:<sender>` | `<patient MR>-<PV1-44>`
 * (just the MR when no admit time is sent either: the patient's one visit the sender can name).
 */
export function visitIdentifier(pv1: V2Segment, patientKey: Identifier, context: MappingContext): Identifier {
  const sent = pv1.field(19).isEmpty ? undefined : identifier(pv1.field(19), context);
  if (sent) return { ...sent, type: VISIT_TYPE };
  const admit = v2Text(pv1, 44);
  const value = admit ? `${patientKey.value}-${admit}` : (patientKey.value ?? '');
  return { type: VISIT_TYPE, system: `urn:hms:v2:visit:${sender(context)}`, value };
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** PV1-2 (table 0004) -> Encounter.class (IG ConceptMap v2-0004 to encounter class). */
const ENCOUNTER_CLASS: Record<string, Coding> = {
  E: { system: ACT_CODE, code: 'EMER', display: 'emergency' },
  I: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  O: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  P: { system: ACT_CODE, code: 'PRENC', display: 'pre-admission' },
};

function encounterClass(pv1: V2Segment): Coding {
  const code = v2Text(pv1, 2).toUpperCase();
  if (!code) throw new MappingError('PV1-2 patient class is required', 'PV1^1^2');
  // Classes the IG leaves unmapped (R, B, C, N, U) keep their v2 code (the binding is extensible).
  return ENCOUNTER_CLASS[code] ?? { system: 'http://terminology.hl7.org/CodeSystem/v2-0004', code };
}

type Status = Encounter['status'];
/** A08 replaces the whole Encounter, so its status is read off the visit's times. */
const derivedStatus = (pv1: V2Segment): Status => {
  if (v2Text(pv1, 45)) return 'finished';
  if (v2Text(pv1, 44)) return 'in-progress';
  return v2Text(pv1, 2).toUpperCase() === 'P' ? 'planned' : 'unknown';
};
/** Trigger event (table 0003) -> Encounter.status. */
const STATUS_BY_TRIGGER: Record<string, (pv1: V2Segment) => Status> = {
  A01: () => 'in-progress',
  A02: () => 'in-progress',
  A03: () => 'finished',
  A04: (pv1) => (v2Text(pv1, 44) ? 'arrived' : 'planned'),
  A05: () => 'planned',
  A08: derivedStatus,
  A11: () => 'cancelled',
  A13: () => 'in-progress',
};

const OPEN_STATUSES = new Set<Status>(['planned', 'arrived', 'in-progress']);

export const encounterStatus = (pv1: V2Segment, trigger: string): Status =>
  (STATUS_BY_TRIGGER[trigger] ?? derivedStatus)(pv1);

const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** PV1 fields naming practitioners -> participant.type. */
const PARTICIPANT_FIELDS: [number, Coding][] = [
  [7, { system: PARTICIPATION, code: 'ATND', display: 'attender' }],
  [8, { system: PARTICIPATION, code: 'REF', display: 'referrer' }],
  [9, { system: PARTICIPATION, code: 'CON', display: 'consultant' }],
  [17, { system: PARTICIPATION, code: 'ADM', display: 'admitter' }],
  [52, { system: PARTICIPATION, code: 'PART', display: 'Participation' }],
];

function participants(pv1: V2Segment, parties: Pick<PartyResolver, 'practitioner'>): EncounterParticipant[] {
  const found = PARTICIPANT_FIELDS.flatMap(([n, type]) =>
    pv1.repetitions(n).flatMap((f) => {
      const individual = parties.practitioner(f);
      return individual ? [{ type, individual }] : [];
    }),
  );
  const unique = found.filter(
    (p, i) =>
      found.findIndex((o) => o.individual.reference === p.individual.reference && o.type.code === p.type.code) === i,
  );
  return unique.map(({ type, individual }) => ({ type: [{ coding: [type] }], individual }));
}

type LocationStatus = EncounterLocation['status'];
/** Location status of the current bed (PV1-3) follows the encounter's. */
const CURRENT_LOCATION_STATUS: Partial<Record<NonNullable<Status>, LocationStatus>> = {
  planned: 'planned',
  finished: 'completed',
  cancelled: 'completed',
};
/** PV1 location fields: 3 assigned, 6 prior, 11 temporary, 42 pending, 43 prior temporary. */
const LOCATION_FIELDS: [number, (current: LocationStatus) => LocationStatus][] = [
  [3, (current) => current],
  [6, () => 'completed'],
  [11, () => 'active'],
  [42, () => 'planned'],
  [43, () => 'completed'],
];

function locations(pv1: V2Segment, status: Status, parties: Pick<PartyResolver, 'location'>): EncounterLocation[] {
  const preadmit = v2Text(pv1, 2).toUpperCase() === 'P';
  const current = CURRENT_LOCATION_STATUS[status] ?? (preadmit ? 'planned' : 'active');
  return LOCATION_FIELDS.flatMap(([n, statusOf]) => {
    const location = parties.location(pv1.field(n));
    return location ? [{ location, status: statusOf(current) }] : [];
  });
}

function hospitalization(pv1: V2Segment, context: MappingContext): Encounter['hospitalization'] {
  // DLD.1 is a code (IS, or CWE from v2.6 with its text in the second sub-component).
  const destination = [pv1.get(37, 1, 2), pv1.get(37, 1, 1)].find((v) => v !== '' && v !== '""');
  return withoutV2Nulls<NonNullable<Encounter['hospitalization']>>({
    preAdmissionIdentifier: pv1.field(5).isEmpty ? undefined : identifier(pv1.field(5), context),
    reAdmission: codedWithTable(pv1.field(13), '0092', context),
    admitSource: codedWithTable(pv1.field(14), '0023', context),
    specialArrangement: pv1.repetitions(15).map((f) => codedWithTable(f, '0009', context)),
    specialCourtesy: pv1.repetitions(16).map((f) => codedWithTable(f, '0099', context)),
    dischargeDisposition: codedWithTable(pv1.field(36), '0112', context),
    destination: destination ? { display: destination } : undefined,
    dietPreference: pv1.repetitions(38).map((f) => codedWithTable(f, '0114', context)),
  });
}

/**
 * PV1/PV2 -> Encounter. `parties` supplies the Practitioner and Location references (partyResolver);
 * `visit` is the Encounter's identifier (visitIdentifier), PV1-19 when not given.
 */
export function encounterFromPv1(
  pv1: V2Segment,
  pv2: V2Segment | undefined,
  trigger: string,
  patient: Reference<Patient>,
  parties: Pick<PartyResolver, 'practitioner' | 'location'>,
  context: MappingContext,
  visit?: Identifier,
): Encounter {
  const status = encounterStatus(pv1, trigger);
  const visitNumber = visit ?? (pv1.field(19).isEmpty ? undefined : identifier(pv1.field(19), context));
  const start = dateTime(v2Text(pv1, 44), context);
  // A visit that is still open has no end, even when PV1-45 still carries one (A13 cancels the discharge).
  const end = OPEN_STATUSES.has(status) ? undefined : dateTime(v2Text(pv1, 45), context);
  const stay = hospitalization(pv1, context);
  return withoutV2Nulls<Encounter>({
    resourceType: 'Encounter',
    identifier: visitNumber ? [{ ...visitNumber, type: VISIT_TYPE }] : undefined,
    status,
    class: encounterClass(pv1),
    type: [codedWithTable(pv1.field(4), '0007', context), codedWithTable(pv1.field(18), '0018', context)].filter(
      (c): c is CodeableConcept => c !== undefined,
    ),
    serviceType: codedWithTable(pv1.field(10), '0069', context),
    subject: patient,
    participant: participants(pv1, parties),
    period: { start, end },
    reasonCode: pv2 ? pv2.repetitions(3).map((f) => codeableConcept(f, context)) : undefined,
    hospitalization: Object.keys(stay ?? {}).length > 0 ? stay : undefined,
    location: locations(pv1, status, parties),
  });
}

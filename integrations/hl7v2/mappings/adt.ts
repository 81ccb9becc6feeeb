// ADT inbound mappings (v2-to-FHIR IG ADT_A01 segment maps): the Patient with full demographics, its
// Encounter, next of kin, coverages, diagnoses and allergies; and the A40 patient merge.
import type {
  AllergyIntolerance,
  CodeableConcept,
  Coding,
  Condition,
  ContactPoint,
  Coverage,
  Encounter,
  EncounterDiagnosis,
  HumanName,
  Identifier,
  Organization,
  Patient,
  Reference,
  RelatedPerson,
} from '@medplum/fhirtypes';
import type { V2Message, V2Segment } from '../message/v2-message';
import { referenceByIdentifier, tokenOf, transactionBuilder, type TransactionBuilder } from './bundle';
import type { MappingContext } from './context';
import {
  address,
  codeableConcept,
  codingSystem,
  contactPoint,
  date,
  dateTime,
  humanName,
  identifier,
} from './datatypes';
import { patientKey } from './patient-key';
import { GENDER, codedWithTable, patientFromPid, v2Text, withoutV2Nulls } from './pid';
import {
  encounterFromPv1,
  isEmptyPv1,
  organizationNameIdentifier,
  partyResolver,
  visitIdentifier,
  type PartyResolver,
} from './pv1';
import { MappingError, type InboundMapping } from './types';

/** The ADT_A01-structured events (and A02, A03, A05, A11) this mapping handles. */
const ADT_EVENTS = new Set(['A01', 'A02', 'A03', 'A04', 'A05', 'A08', 'A11', 'A13']);

/** What every segment map of one message shares. */
interface AdtScope {
  builder: TransactionBuilder;
  parties: PartyResolver;
  context: MappingContext;
  patient: Reference<Patient>;
  /** The Patient's PID-3 MR identifier: the business key of everything written for the patient. */
  key: Identifier;
}

const sender = (context: MappingContext) => encodeURIComponent(context.sender || 'unknown');
const keyOf = (kind: string, value: string, context: MappingContext): Identifier => ({
  system: `urn:hms:v2:${kind}:${sender(context)}`,
  value,
});

function requirePid(message: V2Message): V2Segment {
  const pid = message.segment('PID');
  if (!pid) throw new MappingError('PID segment is required', 'PID^1');
  return pid;
}

function requireKey(pid: V2Segment, context: MappingContext, sequence = 1): Identifier {
  const key = patientKey(pid, context);
  if (!key?.value) throw new MappingError('PID-3 patient identifier is required', `PID^${sequence}^3`);
  return key;
}

/** A01, A02, A03, A04, A05, A08, A11, A13 -> transaction Bundle. */
export const adtToBundle: InboundMapping = (message, context) => {
  const trigger = message.header.trigger;
  if (!ADT_EVENTS.has(trigger)) throw new MappingError(`ADT event ${trigger} is not supported`, 'MSH^1^9', '201');
  const pid = requirePid(message);
  const key = requireKey(pid, context);
  const builder = transactionBuilder(context);
  const parties = partyResolver(builder, context);
  const patientUrl = builder.upsert(patientFromPid(pid, message.segment('PD1'), context, parties), key);
  const scope: AdtScope = { builder, parties, context, key, patient: { reference: patientUrl } };

  const pv1 = message.segment('PV1');
  const encounter = pv1 && !isEmptyPv1(pv1) ? writeEncounter(message, pv1, trigger, scope) : undefined;
  message.all('NK1').forEach((nk1, i) => writeRelatedPerson(nk1, i + 1, scope));
  message.all('IN1').forEach((in1) => writeCoverage(in1, scope));
  const diagnoses = message.all('DG1').flatMap((dg1, i) => writeCondition(dg1, i + 1, encounter, scope));
  message.all('AL1').forEach((al1) => writeAllergy(al1, scope));

  const bundle = builder.bundle();
  // Encounter and Condition name each other: the Encounter's diagnoses are known only once both are added.
  const encounterEntry = bundle.entry?.find((e) => e.fullUrl === encounter?.fullUrl);
  if (encounterEntry && diagnoses.length > 0) (encounterEntry.resource as Encounter).diagnosis = diagnoses;
  return bundle;
};

function writeEncounter(message: V2Message, pv1: V2Segment, trigger: string, scope: AdtScope) {
  const visit = visitIdentifier(pv1, scope.key, scope.context);
  const resource = encounterFromPv1(
    pv1,
    message.segment('PV2'),
    trigger,
    scope.patient,
    scope.parties,
    scope.context,
    visit,
  );
  return { fullUrl: scope.builder.upsert(resource, visit), visit };
}

/** NK1 -> RelatedPerson, keyed `<patient MR>-<NK1-1>` (the n-th NK1 when the set id is empty). */
function writeRelatedPerson(nk1: V2Segment, position: number, scope: AdtScope): void {
  const { context } = scope;
  const name = nk1.repetitions(2).map((f) => humanName(f));
  const telecom = [
    ...nk1.repetitions(5).map((f) => contactPoint(f, 'home')),
    ...nk1.repetitions(6).map((f) => contactPoint(f, 'work')),
  ];
  const addresses = nk1.repetitions(4).map((f) => address(f));
  const person = withoutV2Nulls<Partial<RelatedPerson>>({ name, telecom, address: addresses });
  if (!person.name && !person.telecom && !person.address) return;
  const id = keyOf('related-person', `${scope.key.value}-${v2Text(nk1, 1) || position}`, context);
  const resource = withoutV2Nulls<RelatedPerson>({
    resourceType: 'RelatedPerson',
    identifier: [id],
    patient: scope.patient,
    relationship: [codedWithTable(nk1.field(3), '0063', context), codedWithTable(nk1.field(7), '0131', context)],
    name: person.name as HumanName[] | undefined,
    telecom: person.telecom as ContactPoint[] | undefined,
    address: person.address,
    gender: GENDER[v2Text(nk1, 15).toUpperCase()],
    birthDate: date(v2Text(nk1, 16)),
    period: { start: date(v2Text(nk1, 8)), end: date(v2Text(nk1, 9)) },
  });
  scope.builder.upsert(resource, id);
}

const SUBSCRIBER_RELATIONSHIP = 'http://terminology.hl7.org/CodeSystem/subscriber-relationship';
/** v2 table 0063 (insured's relationship to patient) -> subscriber-relationship. */
const RELATIONSHIP: Record<string, string> = {
  SEL: 'self',
  SPO: 'spouse',
  DOM: 'common',
  CHD: 'child',
  SCH: 'child',
  FCH: 'child',
  PAR: 'parent',
  MTH: 'parent',
  FTH: 'parent',
  OTH: 'other',
};

function coverageRelationship(in1: V2Segment, context: MappingContext): CodeableConcept | undefined {
  const concept = codedWithTable(in1.field(17), '0063', context);
  const mapped = RELATIONSHIP[v2Text(in1, 17).toUpperCase()];
  if (!concept || !mapped) return concept;
  return { ...concept, coding: [{ system: SUBSCRIBER_RELATIONSHIP, code: mapped }, ...(concept.coding ?? [])] };
}

/** IN1-3 / IN1-4 / IN1-5 / IN1-7 -> the insurer, upserted on IN1-3 (or on its name when IN1-3 is empty). */
function writeInsurer(
  in1: V2Segment,
  scope: AdtScope,
): { reference: Reference<Organization>; key: string } | undefined {
  const companyId = v2Text(in1, 3);
  const names = in1
    .repetitions(4)
    .map((f) => f.get(1))
    .filter((n) => n !== '' && n !== '""');
  if (!companyId && names.length === 0) return undefined;
  const id = companyId ? identifier(in1.field(3), scope.context) : organizationNameIdentifier(names[0], scope.context);
  if (!id) return undefined;
  const organization = withoutV2Nulls<Organization>({
    resourceType: 'Organization',
    identifier: [id],
    name: names[0],
    alias: names.slice(1),
    address: in1.repetitions(5).map((f) => address(f)),
    telecom: in1.repetitions(7).map((f) => contactPoint(f, 'work')),
  });
  const fullUrl = scope.parties.once(organization, id);
  return { reference: { reference: fullUrl, display: names[0] }, key: companyId || names[0] };
}

/**
 * IN1 -> Coverage keyed `<patient MR>-<IN1-3 company id (or name)>-<IN1-36 policy>`. An IN1 that names no
 * insurance company has no payor, which Coverage requires: it is left out.
 */
function writeCoverage(in1: V2Segment, scope: AdtScope): void {
  const { context } = scope;
  const insurer = writeInsurer(in1, scope);
  if (!insurer) return;
  const policy = v2Text(in1, 36);
  const id = keyOf('coverage', `${scope.key.value}-${insurer.key}-${policy}`, context);
  const plan = v2Text(in1, 2);
  const relationship = coverageRelationship(in1, context);
  const order = Number.parseInt(v2Text(in1, 22), 10);
  const resource = withoutV2Nulls<Coverage>({
    resourceType: 'Coverage',
    identifier: [id],
    status: 'active',
    type: codedWithTable(in1.field(15), '0086', context),
    subscriber: relationship?.coding?.some((c) => c.code === 'self') ? scope.patient : undefined,
    subscriberId: v2Text(in1, 49) || policy,
    beneficiary: scope.patient,
    relationship,
    period: { start: date(v2Text(in1, 12)), end: date(v2Text(in1, 13)) },
    payor: [insurer.reference],
    class: plan
      ? [
          {
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] },
            value: plan,
            name: v2Text(in1, 2, 2) || undefined,
          },
        ]
      : undefined,
    order: Number.isInteger(order) && order > 0 ? order : undefined,
  });
  scope.builder.upsert(resource, id);
}

const DIAGNOSIS_ROLE = 'http://terminology.hl7.org/CodeSystem/diagnosis-role';
/** DG1-6 (table 0052) -> diagnosis-role; W and F have no equivalent (IG ConceptMap). */
const DIAGNOSIS_USE: Record<string, Coding> = {
  A: { system: DIAGNOSIS_ROLE, code: 'AD', display: 'Admission diagnosis' },
};

/** DG1-3 (the DG1-2 coding method names the system when DG1-3.3 does not), DG1-4 as text. */
function diagnosisCode(dg1: V2Segment, context: MappingContext): CodeableConcept | undefined {
  const concept = withoutV2Nulls(codeableConcept(dg1.field(3), context) ?? {});
  const method = v2Text(dg1, 2);
  const coding = concept.coding?.map((c, i) =>
    i === 0 && !dg1.get(3, 3) && method ? { ...c, system: codingSystem(method) } : c,
  );
  const text = concept.text ?? (v2Text(dg1, 4) || undefined);
  return coding || text ? withoutV2Nulls({ coding, text }) : undefined;
}

/** DG1 -> Condition keyed `<visit>-<DG1-1>` (the patient's MR without a visit), and its Encounter.diagnosis. */
function writeCondition(
  dg1: V2Segment,
  position: number,
  encounter: { fullUrl: string; visit: Identifier } | undefined,
  scope: AdtScope,
): EncounterDiagnosis[] {
  const { context } = scope;
  const code = diagnosisCode(dg1, context);
  if (!code) return [];
  const id = keyOf('condition', `${encounter?.visit.value ?? scope.key.value}-${v2Text(dg1, 1) || position}`, context);
  const enteredInError = v2Text(dg1, 21).toUpperCase() === 'D';
  const resource = withoutV2Nulls<Condition>({
    resourceType: 'Condition',
    identifier: [id],
    verificationStatus: enteredInError
      ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] }
      : undefined,
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] },
    ],
    code,
    subject: scope.patient,
    encounter: encounter ? { reference: encounter.fullUrl } : undefined,
    onsetDateTime: dateTime(v2Text(dg1, 5), context),
    recordedDate: dateTime(v2Text(dg1, 19), context),
    asserter: scope.parties.practitioner(dg1.field(16)),
  });
  const fullUrl = scope.builder.upsert(resource, id);
  if (!encounter) return [];
  const use = codedWithTable(dg1.field(6), '0052', context);
  const role = DIAGNOSIS_USE[v2Text(dg1, 6).toUpperCase()];
  const rank = Number.parseInt(v2Text(dg1, 15), 10);
  return [
    withoutV2Nulls<EncounterDiagnosis>({
      condition: { reference: fullUrl },
      use: use && role ? { ...use, coding: [role, ...(use.coding ?? [])] } : use,
      rank: Number.isInteger(rank) && rank > 0 ? rank : undefined,
    }),
  ];
}

/** AL1-2 (table 0127) -> AllergyIntolerance.category. */
const ALLERGY_CATEGORY: Record<string, NonNullable<AllergyIntolerance['category']>[number]> = {
  DA: 'medication',
  FA: 'food',
  EA: 'environment',
  AA: 'environment',
  PA: 'environment',
  LA: 'environment',
};
/** AL1-4 (table 0128) -> criticality. */
const CRITICALITY: Record<string, AllergyIntolerance['criticality']> = {
  SV: 'high',
  MO: 'low',
  MI: 'low',
  U: 'unable-to-assess',
};

/** AL1 -> AllergyIntolerance keyed `<patient MR>-<AL1-3 allergen code>`. */
function writeAllergy(al1: V2Segment, scope: AdtScope): void {
  const { context } = scope;
  const code = withoutV2Nulls(codeableConcept(al1.field(3), context) ?? {});
  const allergen = v2Text(al1, 3) || v2Text(al1, 3, 2);
  if (!allergen || (!code.coding && !code.text)) return;
  const id = keyOf('allergy', `${scope.key.value}-${allergen}`, context);
  const category = ALLERGY_CATEGORY[v2Text(al1, 2).toUpperCase()];
  const reactions = al1.repetitions(5).map((f) => f.get(1));
  const resource = withoutV2Nulls<AllergyIntolerance>({
    resourceType: 'AllergyIntolerance',
    identifier: [id],
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
    },
    category: category ? [category] : undefined,
    criticality: CRITICALITY[v2Text(al1, 4).toUpperCase()],
    code,
    patient: scope.patient,
    onsetDateTime: dateTime(v2Text(al1, 6), context),
    reaction: reactions.map((text) => ({ manifestation: [{ text }] })),
  });
  scope.builder.upsert(resource, id);
}

/** MRG-1 prior patient identifier list: its MR, else its first identifier. */
function priorPatientKey(mrg: V2Segment, context: MappingContext): Identifier | undefined {
  const candidates = mrg.repetitions(1);
  const preferred = candidates.find((f) => f.get(5) === 'MR') ?? candidates[0];
  return preferred ? identifier(preferred, context) : undefined;
}

/** Each PID of an A40 with the MRG that follows it (ADT_A39: PATIENT {PID, PD1, MRG, PV1}+). */
function mergeGroups(message: V2Message): { pid: V2Segment; pd1?: V2Segment; mrg?: V2Segment }[] {
  const groups: { pid: V2Segment; pd1?: V2Segment; mrg?: V2Segment }[] = [];
  for (const segment of message.segments) {
    const current = groups[groups.length - 1];
    if (segment.name === 'PID') groups.push({ pid: segment });
    else if (current && segment.name === 'PD1' && !current.pd1) current.pd1 = segment;
    else if (current && segment.name === 'MRG' && !current.mrg) current.mrg = segment;
  }
  return groups;
}

/**
 * A40 merge: the PID patient is upserted (full demographics) with `link replaces` the MRG-1 patient, and
 * that patient is patched inactive with `link replaced-by` the survivor. Neither record is deleted.
 */
export const adtMergeToBundle: InboundMapping = (message, context) => {
  const trigger = message.header.trigger;
  if (trigger !== 'A40') throw new MappingError(`ADT event ${trigger} is not a merge`, 'MSH^1^9', '201');
  const groups = mergeGroups(message);
  if (groups.length === 0) throw new MappingError('PID segment is required', 'PID^1');
  const builder = transactionBuilder(context);
  const parties = partyResolver(builder, context);
  groups.forEach(({ pid, pd1, mrg }, i) => {
    const key = requireKey(pid, context, i + 1);
    const prior = mrg ? priorPatientKey(mrg, context) : undefined;
    if (!prior?.value) throw new MappingError('MRG-1 prior patient identifier is required', `MRG^${i + 1}^1`);
    if (tokenOf(prior) === tokenOf(key)) {
      throw new MappingError('MRG-1 names the surviving patient itself', `MRG^${i + 1}^1`, '205');
    }
    const survivor = {
      ...patientFromPid(pid, pd1, context, parties),
      active: true,
      link: [{ type: 'replaces' as const, other: referenceByIdentifier('Patient', prior) as Reference<Patient> }],
    };
    const survivorUrl = builder.upsert(survivor, key);
    builder.patch('Patient', prior, [
      { op: 'add', path: '/active', value: false },
      { op: 'add', path: '/link', value: [{ type: 'replaced-by', other: { reference: survivorUrl } }] },
    ]);
  });
  return builder.bundle();
};

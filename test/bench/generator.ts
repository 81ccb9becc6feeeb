// Seeded generator of realistic hospital data as valid FHIR R4 resources, streamed one patient record at a
// time (about 100 resources: visits with vitals and labs, problems, orders, appointments, claims) so that
// seeding a million resources keeps memory flat. Same seed and index, same record.
import type { AllergyIntolerance, Condition, Coverage, Patient, Resource } from '@medplum/fhirtypes';
import { address, generateDirectory, homeTelecom, type Directory } from './directory';
import { concept, date, dateTime, DAY, MINUTE, REFERENCE_TIME, referenceTo, YEAR } from './fhir-values';
import { emitLabPanel, emitVitalSigns } from './observations';
import { Random } from './random';
import { emit, type PatientContext, type Visit } from './record-context';
import {
  ALLERGENS,
  CONDITIONS,
  ENCOUNTER_PROFILES,
  FAMILY_NAMES,
  FEMALE_GIVEN,
  LANGUAGES,
  MALE_GIVEN,
  MARITAL_STATUS,
  REACTIONS,
  SYSTEM,
  type EncounterKind,
  type ProcedureEntry,
} from './tables';
import {
  buildEncounter,
  emitAppointment,
  emitClaim,
  emitMedicationRequest,
  emitProcedure,
  pickProcedure,
} from './visit-resources';

export { generateDirectory, type Directory } from './directory';

export interface PatientRecord {
  /** position in the stream; the record depends only on (seed, index) */
  index: number;
  patient: Patient;
  /** the Patient first, then every resource after the ones it references */
  resources: Resource[];
}

const ENCOUNTER_KINDS: [EncounterKind, number][] = [
  ['ambulatory', 75],
  ['emergency', 18],
  ['inpatient', 7],
];
const LAB_PANELS_PER_VISIT: Record<EncounterKind, [number, number][]> = {
  ambulatory: [
    [0, 60],
    [1, 40],
  ],
  emergency: [
    [0, 20],
    [1, 80],
  ],
  inpatient: [[2, 1]],
};
const ORDERS_PER_VISIT: Record<EncounterKind, [number, number][]> = {
  ambulatory: [
    [0, 40],
    [1, 40],
    [2, 20],
  ],
  emergency: [
    [1, 50],
    [2, 50],
  ],
  inpatient: [
    [2, 40],
    [3, 30],
    [4, 30],
  ],
};
const PROCEDURES_PER_VISIT: Record<EncounterKind, [number, number][]> = {
  ambulatory: [
    [0, 80],
    [1, 20],
  ],
  emergency: [
    [0, 50],
    [1, 50],
  ],
  inpatient: [
    [1, 50],
    [2, 50],
  ],
};
const HISTORY_YEARS = 5;
const MEDICARE_PAYER = 1;

/** Patient records `firstIndex .. firstIndex + patientCount - 1`, generated lazily. */
export function* generatePatientRecords(seed: number, patientCount: number, firstIndex = 0): Generator<PatientRecord> {
  const directory = generateDirectory(seed);
  for (let index = firstIndex; index < firstIndex + patientCount; index++) {
    yield generatePatientRecord(seed, index, directory);
  }
}

export function generatePatientRecord(seed: number, index: number, directory: Directory): PatientRecord {
  const rng = Random.derive(seed, index);
  const birth = REFERENCE_TIME - rng.weighted(AGE_BANDS) * YEAR - rng.int(0, 364) * DAY;
  const patient = buildPatient(rng, index, directory, birth);
  const base: RecordBase = {
    rng,
    directory,
    patient,
    patientRef: referenceTo(patient, patientDisplay(patient)),
    primaryCare: rng.pick(directory.practitioners),
    heightCm: patient.gender === 'female' ? rng.around(163, 8, 145, 190, 0) : rng.around(177, 8, 155, 205, 0),
    weightKg: rng.around(patient.gender === 'female' ? 72 : 85, 15, 42, 160, 1),
    conditions: [],
    resources: [patient],
  };
  const ctx: PatientContext = { ...base, coverage: emitCoverages(base, birth) };
  emitAllergies(ctx, birth);
  emitConditions(ctx, birth);
  for (const visit of planVisits(ctx, birth)) emitVisit(ctx, visit);
  emitFutureAppointments(ctx);
  return { index, patient, resources: ctx.resources };
}

/** What exists of a record before its insurance does. */
type RecordBase = Omit<PatientContext, 'coverage'>;

/** Hospital patients skew old: [age in years, weight]. */
const AGE_BANDS: [number, number][] = [18, 25, 32, 40, 48, 55, 62, 68, 74, 80, 86, 92].map((age, i) => [
  age + (i % 3),
  [6, 7, 8, 8, 9, 10, 11, 11, 10, 9, 6, 3][i],
]);

function buildPatient(rng: Random, index: number, directory: Directory, birth: number): Patient {
  const gender = rng.chance(0.52) ? 'female' : 'male';
  const names = gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN;
  const given = [rng.pick(names), ...(rng.chance(0.4) ? [rng.pick(names)] : [])];
  const family = rng.pick(FAMILY_NAMES);
  const [maritalCode, maritalDisplay] = rng.pick(MARITAL_STATUS);
  const [languageCode, languageDisplay] = rng.weighted(LANGUAGES.map((l) => [l, l[2]] as const));
  return {
    resourceType: 'Patient',
    id: rng.uuid(),
    identifier: [
      {
        use: 'usual',
        type: concept(SYSTEM.v2IdentifierType, 'MR', 'Medical record number'),
        system: SYSTEM.mrn,
        value: `M${String(index + 1).padStart(8, '0')}`,
      },
    ],
    active: true,
    name: [{ use: 'official', family, given }],
    telecom: homeTelecom(rng, given[0], family),
    gender,
    birthDate: date(birth),
    address: [address(rng, 'home')],
    maritalStatus: concept(SYSTEM.v3MaritalStatus, maritalCode, maritalDisplay),
    communication: [{ language: concept(SYSTEM.language, languageCode, languageDisplay), preferred: true }],
    generalPractitioner: [referenceTo(rng.pick(directory.practitioners))],
    managingOrganization: referenceTo(directory.hospital, directory.hospital.name),
  };
}

function patientDisplay(patient: Patient): string {
  const name = patient.name?.[0];
  return `${name?.given?.join(' ')} ${name?.family}`;
}

/** The primary coverage (Medicare from 65), sometimes a secondary one; returns the primary. */
function emitCoverages(ctx: RecordBase, birth: number): Coverage {
  const senior = REFERENCE_TIME - birth >= 65 * YEAR;
  const primaryPayer = senior ? MEDICARE_PAYER : ctx.rng.pick([0, 2, 3]);
  const primary = emit(ctx, coverage(ctx, primaryPayer, 1));
  if (ctx.rng.chance(0.2)) {
    emit(ctx, coverage(ctx, ctx.rng.pick([0, 3].filter((p) => p !== primaryPayer)), 2));
  }
  return primary;
}

function coverage(ctx: RecordBase, payerIndex: number, order: number): Coverage {
  const { rng } = ctx;
  const payer = ctx.directory.payers[payerIndex];
  const memberId = `${payer.name?.slice(0, 3).toUpperCase()}${rng.digits(9)}`;
  const group = `GRP-${rng.digits(5)}`;
  return {
    resourceType: 'Coverage',
    id: rng.uuid(),
    identifier: [{ system: SYSTEM.memberId, value: memberId }],
    status: 'active',
    type:
      payerIndex === MEDICARE_PAYER || payerIndex === 2
        ? concept(SYSTEM.v3ActCode, 'PUBLICPOL', 'public healthcare')
        : concept(SYSTEM.v3ActCode, 'HIP', 'health insurance plan policy'),
    subscriber: ctx.patientRef,
    subscriberId: memberId,
    beneficiary: ctx.patientRef,
    relationship: concept(SYSTEM.subscriberRelationship, 'self', 'Self'),
    period: { start: date(REFERENCE_TIME - rng.int(1, 3650) * DAY) },
    payor: [referenceTo(payer, payer.name)],
    class: [{ type: concept(SYSTEM.coverageClass, 'group', 'Group'), value: group, name: `${payer.name} ${group}` }],
    order,
  };
}

function emitAllergies(ctx: PatientContext, birth: number): void {
  const { rng } = ctx;
  const latestOnset = REFERENCE_TIME - 30 * DAY;
  const count = rng.weighted([
    [0, 55],
    [1, 30],
    [2, 15],
  ]);
  for (const allergen of rng.sample(ALLERGENS, count)) {
    const reaction = rng.pick(REACTIONS);
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      id: rng.uuid(),
      clinicalStatus: concept(SYSTEM.allergyClinical, 'active', 'Active'),
      verificationStatus: concept(SYSTEM.allergyVerification, 'confirmed', 'Confirmed'),
      type: 'allergy',
      category: [allergen.category],
      criticality: rng.chance(0.2) ? 'high' : 'low',
      code: concept(SYSTEM.snomed, allergen.code, allergen.display, allergen.display),
      patient: ctx.patientRef,
      onsetDateTime: dateTime(Math.min(latestOnset, birth + rng.int(1, 30) * YEAR)),
      recordedDate: dateTime(REFERENCE_TIME - rng.int(30, 1800) * DAY),
      recorder: referenceTo(ctx.primaryCare),
      reaction: [
        {
          manifestation: [concept(SYSTEM.snomed, reaction.code, reaction.display)],
          severity: rng.pick(['mild', 'moderate', 'severe'] as const),
        },
      ],
    };
    emit(ctx, allergy);
  }
}

/** One to six distinct problems: chronic ones stay active, acute ones resolve within weeks. */
function emitConditions(ctx: PatientContext, birth: number): void {
  const { rng } = ctx;
  const count = rng.weighted([
    [1, 20],
    [2, 25],
    [3, 20],
    [4, 15],
    [5, 12],
    [6, 8],
  ]);
  const chosen = new Map<string, (typeof CONDITIONS)[number]>();
  while (chosen.size < count) {
    const entry = rng.weighted(CONDITIONS.map((c) => [c, c.weight] as const));
    chosen.set(entry.code, entry);
  }
  const latestChronicOnset = REFERENCE_TIME - 60 * DAY;
  const adulthood = Math.min(latestChronicOnset, Math.max(birth + 18 * YEAR, REFERENCE_TIME - 30 * YEAR));
  for (const entry of chosen.values()) {
    const onset = entry.chronic
      ? rng.int(adulthood, latestChronicOnset)
      : rng.int(REFERENCE_TIME - HISTORY_YEARS * YEAR, REFERENCE_TIME - 3 * DAY);
    const abatement = entry.chronic ? undefined : onset + rng.int(5, 40) * DAY;
    const resolved = abatement !== undefined && abatement < REFERENCE_TIME;
    const condition: Condition = {
      resourceType: 'Condition',
      id: rng.uuid(),
      clinicalStatus: resolved
        ? concept(SYSTEM.conditionClinical, 'resolved', 'Resolved')
        : concept(SYSTEM.conditionClinical, 'active', 'Active'),
      verificationStatus: concept(SYSTEM.conditionVerification, 'confirmed', 'Confirmed'),
      category: [
        entry.chronic
          ? concept(SYSTEM.conditionCategory, 'problem-list-item', 'Problem List Item')
          : concept(SYSTEM.conditionCategory, 'encounter-diagnosis', 'Encounter Diagnosis'),
      ],
      code: concept(SYSTEM.snomed, entry.code, entry.display, entry.display),
      subject: ctx.patientRef,
      onsetDateTime: dateTime(onset),
      recordedDate: dateTime(onset + rng.int(0, 14) * DAY),
      recorder: referenceTo(ctx.primaryCare),
    };
    if (resolved) condition.abatementDateTime = dateTime(abatement);
    ctx.conditions.push(emit(ctx, condition));
  }
}

type PlannedVisit = Omit<Visit, 'encounter'>;

/** Two to ten past visits over the last five years (or since adulthood), in time order. */
function planVisits(ctx: PatientContext, birth: number): PlannedVisit[] {
  const { rng, directory } = ctx;
  const until = REFERENCE_TIME - 2 * DAY;
  const from = Math.min(until - 30 * DAY, Math.max(birth + 18 * YEAR, REFERENCE_TIME - HISTORY_YEARS * YEAR));
  const days = Array.from({ length: rng.int(2, 10) }, () => rng.int(0, Math.floor((until - from) / DAY)));
  return days
    .sort((a, b) => a - b)
    .map((day) => {
      const kind = rng.weighted(ENCOUNTER_KINDS);
      const profile = ENCOUNTER_PROFILES[kind];
      const start = from + day * DAY - (from % DAY) + rng.int(7 * 60, 18 * 60) * MINUTE;
      const end = start + rng.int(profile.minutes[0], profile.minutes[1]) * MINUTE;
      const practitioner =
        kind === 'ambulatory' && rng.chance(0.7) ? ctx.primaryCare : rng.pick(directory.practitioners);
      const eligible = ctx.conditions.filter((c) => Date.parse(c.onsetDateTime ?? '') <= start);
      const reason = eligible.length > 0 && rng.chance(0.7) ? rng.pick(eligible) : undefined;
      return { kind, start, end, practitioner, department: directory.departments[profile.department], reason };
    });
}

function emitVisit(ctx: PatientContext, planned: PlannedVisit): void {
  const { rng } = ctx;
  const appointment =
    planned.kind === 'ambulatory'
      ? emitAppointment(ctx, {
          start: planned.start,
          minutes: Math.round((planned.end - planned.start) / MINUTE),
          practitioner: planned.practitioner,
          status: 'fulfilled',
          followUp: planned.reason !== undefined,
          reason: planned.reason,
        })
      : undefined;
  const visit: Visit = { ...planned, encounter: emit(ctx, buildEncounter(ctx, planned, appointment)) };
  emitVitalSigns(ctx, visit);
  const panels = rng.weighted(LAB_PANELS_PER_VISIT[visit.kind]);
  for (let i = 0; i < panels; i++) emitLabPanel(ctx, visit);
  const orders = rng.weighted(ORDERS_PER_VISIT[visit.kind]);
  for (let i = 0; i < orders; i++) emitMedicationRequest(ctx, visit);
  const procedures: ProcedureEntry[] = [];
  const procedureCount = rng.weighted(PROCEDURES_PER_VISIT[visit.kind]);
  for (let i = 0; i < procedureCount; i++) {
    const entry = pickProcedure(ctx, visit.kind);
    emitProcedure(ctx, visit, entry);
    procedures.push(entry);
  }
  emitClaim(ctx, visit, procedures);
}

/** One or two booked follow-ups in the next three months; a few of them cancelled. */
function emitFutureAppointments(ctx: PatientContext): void {
  const { rng } = ctx;
  const count = rng.int(1, 2);
  for (let i = 0; i < count; i++) {
    const reason = rng.chance(0.6) ? rng.pick(ctx.conditions) : undefined;
    emitAppointment(ctx, {
      start: REFERENCE_TIME + rng.int(1, 90) * DAY + rng.int(8 * 4, 17 * 4) * 15 * MINUTE,
      minutes: rng.pick([15, 20, 30, 45]),
      practitioner: rng.chance(0.8) ? ctx.primaryCare : rng.pick(ctx.directory.practitioners),
      status: rng.chance(0.05) ? 'cancelled' : 'booked',
      followUp: reason !== undefined,
      reason,
    });
  }
}

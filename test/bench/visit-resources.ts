// Generated resources around one visit: the Appointment that booked it, the Encounter, medication orders,
// procedures and the Claim that bills it (with the many elements R4 requires of a Claim).
import type {
  Appointment,
  Claim,
  ClaimItem,
  Condition,
  Encounter,
  MedicationRequest,
  Practitioner,
  Procedure,
  Reference,
} from '@medplum/fhirtypes';
import { concept, date, dateTime, DAY, MINUTE, REFERENCE_TIME, referenceTo, ucum } from './fhir-values';
import { emit, type PatientContext, type Visit } from './record-context';
import { ENCOUNTER_PROFILES, MEDICATIONS, PROCEDURES, SYSTEM, type EncounterKind, type ProcedureEntry } from './tables';

const ORAL_ROUTE = concept(SYSTEM.snomed, '26643006', 'Oral route');
const RESPIRATORY_ROUTE = concept(SYSTEM.snomed, '447694001', 'Respiratory tract route');
const GENERAL_PRACTICE = concept(SYSTEM.serviceCategory, '17', 'General Practice');
const DAY_LABEL: Record<number, string> = { 1: 'once', 2: 'twice', 3: 'three times', 4: 'four times' };

export interface AppointmentPlan {
  start: number;
  minutes: number;
  practitioner: Practitioner;
  status: Appointment['status'];
  followUp: boolean;
  reason?: Condition;
}

export function emitAppointment(ctx: PatientContext, plan: AppointmentPlan): Appointment {
  const { rng } = ctx;
  const appointment: Appointment = {
    resourceType: 'Appointment',
    id: rng.uuid(),
    status: plan.status,
    serviceCategory: [GENERAL_PRACTICE],
    appointmentType: plan.followUp
      ? concept(SYSTEM.v2AppointmentType, 'FOLLOWUP', 'A follow up visit from a previous appointment')
      : concept(SYSTEM.v2AppointmentType, 'ROUTINE', 'Routine appointment - default if not valued'),
    description: plan.reason ? `Follow-up: ${plan.reason.code?.text}` : 'Routine check-up',
    start: dateTime(plan.start),
    end: dateTime(plan.start + plan.minutes * MINUTE),
    minutesDuration: plan.minutes,
    created: dateTime(plan.start - rng.int(2, 60) * DAY),
    participant: [
      { actor: ctx.patientRef, required: 'required', status: 'accepted' },
      { actor: referenceTo(plan.practitioner), required: 'required', status: 'accepted' },
    ],
  };
  if (plan.reason) appointment.reasonReference = [referenceTo(plan.reason)];
  if (plan.status === 'cancelled') {
    appointment.cancelationReason = concept(SYSTEM.cancellationReason, 'pat', 'Patient');
  }
  return emit(ctx, appointment);
}

export function buildEncounter(
  ctx: PatientContext,
  visit: Omit<Visit, 'encounter'>,
  appointment?: Appointment,
): Encounter {
  const profile = ENCOUNTER_PROFILES[visit.kind];
  const minutes = Math.round((visit.end - visit.start) / MINUTE);
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: ctx.rng.uuid(),
    identifier: [{ system: SYSTEM.encounterNumber, value: `V${ctx.rng.digits(9)}` }],
    status: 'finished',
    class: { system: SYSTEM.v3ActCode, code: profile.classCode, display: profile.classDisplay },
    type: [concept(SYSTEM.snomed, profile.type.code, profile.type.display, profile.type.display)],
    subject: ctx.patientRef,
    participant: [
      {
        type: [concept(SYSTEM.v3ParticipationType, 'ATND', 'attender')],
        individual: referenceTo(visit.practitioner),
        period: { start: dateTime(visit.start), end: dateTime(visit.end) },
      },
    ],
    period: { start: dateTime(visit.start), end: dateTime(visit.end) },
    length: ucum(minutes, 'min', 'min'),
    serviceProvider: referenceTo(visit.department),
  };
  if (appointment) encounter.appointment = [referenceTo(appointment)];
  if (visit.reason) {
    encounter.reasonReference = [referenceTo(visit.reason)];
    encounter.diagnosis = [{ condition: referenceTo(visit.reason), rank: 1 }];
  }
  if (visit.kind === 'inpatient') {
    encounter.hospitalization = {
      admitSource: concept(SYSTEM.admitSource, 'emd', 'From accident/emergency department'),
      dischargeDisposition: concept(SYSTEM.dischargeDisposition, 'home', 'Home'),
    };
  }
  return encounter;
}

export function emitMedicationRequest(ctx: PatientContext, visit: Visit): MedicationRequest {
  const { rng } = ctx;
  const medication = rng.pick(MEDICATIONS);
  const recent = visit.start > REFERENCE_TIME - 180 * DAY;
  const inhaled = medication.doseUnit === 'ACTUAT';
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id: rng.uuid(),
    identifier: [{ system: SYSTEM.orderNumber, value: `RX${rng.digits(10)}` }],
    status: recent ? 'active' : 'completed',
    intent: 'order',
    category: [
      visit.kind === 'inpatient'
        ? concept(SYSTEM.medicationRequestCategory, 'inpatient', 'Inpatient')
        : concept(SYSTEM.medicationRequestCategory, 'outpatient', 'Outpatient'),
    ],
    medicationCodeableConcept: concept(SYSTEM.rxnorm, medication.code, medication.display, medication.display),
    subject: ctx.patientRef,
    encounter: referenceTo(visit.encounter),
    authoredOn: dateTime(visit.end - 10 * MINUTE),
    requester: referenceTo(visit.practitioner),
    dosageInstruction: [
      {
        sequence: 1,
        text: `${inhaled ? 'Inhale' : 'Take'} ${medication.doseValue} ${medication.doseUnit} ${
          inhaled ? '' : 'by mouth '
        }${DAY_LABEL[medication.timesPerDay]} daily`,
        timing: { repeat: { frequency: medication.timesPerDay, period: 1, periodUnit: 'd' } },
        route: inhaled ? RESPIRATORY_ROUTE : ORAL_ROUTE,
        doseAndRate: [
          {
            doseQuantity: {
              value: medication.doseValue,
              unit: medication.doseUnit,
              system: SYSTEM.orderableDrugForm,
              code: medication.doseUnit,
            },
          },
        ],
      },
    ],
    dispenseRequest: {
      numberOfRepeatsAllowed: rng.int(0, 5),
      quantity: { value: 30 * medication.timesPerDay * medication.doseValue, unit: medication.doseUnit },
      expectedSupplyDuration: ucum(30, 'days', 'd'),
    },
  };
  if (visit.reason) request.reasonReference = [referenceTo(visit.reason)];
  return emit(ctx, request);
}

export function emitProcedure(ctx: PatientContext, visit: Visit, entry: ProcedureEntry): Procedure {
  const start =
    visit.start + ctx.rng.int(15, Math.max(20, Math.round((visit.end - visit.start) / MINUTE) - 30)) * MINUTE;
  const procedure: Procedure = {
    resourceType: 'Procedure',
    id: ctx.rng.uuid(),
    status: 'completed',
    code: concept(SYSTEM.snomed, entry.code, entry.display, entry.display),
    subject: ctx.patientRef,
    encounter: referenceTo(visit.encounter),
    performedPeriod: { start: dateTime(start), end: dateTime(start + ctx.rng.int(10, 90) * MINUTE) },
    performer: [{ actor: referenceTo(visit.practitioner) }],
  };
  if (visit.reason) procedure.reasonReference = [referenceTo(visit.reason)];
  return emit(ctx, procedure);
}

export function pickProcedure(ctx: PatientContext, kind: EncounterKind): ProcedureEntry {
  const affordable = kind === 'ambulatory' ? PROCEDURES.filter((p) => p.price < 2000) : PROCEDURES;
  return ctx.rng.pick(affordable);
}

/** The visit's bill: one E&M line for the visit, one line per procedure, insured by the primary coverage. */
export function emitClaim(ctx: PatientContext, visit: Visit, procedures: ProcedureEntry[]): Claim {
  const profile = ENCOUNTER_PROFILES[visit.kind];
  const encounterRef: Reference<Encounter> = referenceTo(visit.encounter);
  const lines: [string, string, number][] = [
    [profile.cpt, `${profile.type.display} evaluation and management`, profile.price],
    ...procedures.map((p): [string, string, number] => [p.cpt, p.display, p.price]),
  ];
  const items: ClaimItem[] = lines.map(([code, display, price], i) => ({
    sequence: i + 1,
    productOrService: concept(SYSTEM.cpt, code, display),
    servicedDate: date(visit.start),
    unitPrice: { value: price, currency: 'USD' },
    net: { value: price, currency: 'USD' },
    encounter: [encounterRef],
  }));
  const claim: Claim = {
    resourceType: 'Claim',
    id: ctx.rng.uuid(),
    identifier: [{ system: SYSTEM.claimNumber, value: `CLM${ctx.rng.digits(10)}` }],
    status: 'active',
    type:
      visit.kind === 'ambulatory'
        ? concept(SYSTEM.claimType, 'professional', 'Professional')
        : concept(SYSTEM.claimType, 'institutional', 'Institutional'),
    use: 'claim',
    patient: ctx.patientRef,
    billablePeriod: { start: dateTime(visit.start), end: dateTime(visit.end) },
    created: dateTime(Math.min(REFERENCE_TIME, visit.end + ctx.rng.int(60, 4320) * MINUTE)),
    provider: referenceTo(ctx.directory.hospital),
    priority: concept(SYSTEM.processPriority, 'normal', 'Normal'),
    careTeam: [{ sequence: 1, provider: referenceTo(visit.practitioner) }],
    insurance: [{ sequence: 1, focal: true, coverage: referenceTo(ctx.coverage) }],
    item: items,
    total: { value: lines.reduce((sum, [, , price]) => sum + price, 0), currency: 'USD' },
  };
  if (visit.reason) claim.diagnosis = [{ sequence: 1, diagnosisReference: referenceTo(visit.reason) }];
  return emit(ctx, claim);
}

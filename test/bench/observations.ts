// Generated measurements for a visit: the vital-signs set (LOINC codes, UCUM quantities) and laboratory
// panels with reference ranges, interpretations and the DiagnosticReport that groups them.
import type { CodeableConcept, DiagnosticReport, Observation, Quantity } from '@medplum/fhirtypes';
import { concept, dateTime, MINUTE, referenceTo, ucum } from './fhir-values';
import { emit, hasCondition, type PatientContext, type Visit } from './record-context';
import {
  BLOOD_PRESSURE_PANEL,
  LAB_PANELS,
  SYSTEM,
  VITALS,
  type LabPanel,
  type LabTest,
  type VitalSign,
} from './tables';

const VITAL_SIGNS_CATEGORY = concept(SYSTEM.observationCategory, 'vital-signs', 'Vital Signs');
const LABORATORY_CATEGORY = concept(SYSTEM.observationCategory, 'laboratory', 'Laboratory');
const LAB_SERVICE = concept(SYSTEM.v2DiagnosticService, 'LAB', 'Laboratory');
const LABORATORY_DEPARTMENT = 3;
const DIABETES = '44054006';
const HYPERTENSION = '38341003';

const INTERPRETATION = {
  L: concept(SYSTEM.v3Interpretation, 'L', 'Low'),
  N: concept(SYSTEM.v3Interpretation, 'N', 'Normal'),
  H: concept(SYSTEM.v3Interpretation, 'H', 'High'),
} as const;

/** Eight vital-sign Observations taken at the start of the visit. */
export function emitVitalSigns(ctx: PatientContext, visit: Visit): Observation[] {
  const { rng } = ctx;
  ctx.weightKg = Math.round((ctx.weightKg + rng.around(0, 1.5, -4, 4, 1)) * 10) / 10;
  const bmi = Math.round((ctx.weightKg / (ctx.heightCm / 100) ** 2) * 10) / 10;
  const hypertensive = hasCondition(ctx, HYPERTENSION);
  const feverish = visit.kind !== 'ambulatory' && rng.chance(0.3);
  const values: [VitalSign, number][] = [
    [VITALS.heartRate, rng.around(feverish ? 95 : 74, 12, 45, 150, 0)],
    [VITALS.respiratoryRate, rng.around(feverish ? 20 : 15, 3, 10, 32, 0)],
    [VITALS.temperature, rng.around(feverish ? 38.4 : 36.8, 0.4, 35.5, 40.5, 1)],
    [VITALS.oxygenSaturation, rng.around(feverish ? 94 : 97.5, 1.5, 85, 100, 0)],
    [VITALS.weight, ctx.weightKg],
    [VITALS.height, ctx.heightCm],
    [VITALS.bmi, bmi],
  ];
  const observations = values.map(([vital, value]) => {
    const observation: Observation = {
      ...vitalBase(ctx, visit, vital),
      valueQuantity: ucum(value, vital.unit, vital.ucum),
    };
    return emit(ctx, observation);
  });
  const systolic = rng.around(hypertensive ? 145 : 120, 12, 85, 210, 0);
  const diastolic = rng.around(hypertensive ? 92 : 78, 8, 45, 130, 0);
  observations.push(emit(ctx, bloodPressure(ctx, visit, systolic, diastolic)));
  return observations;
}

function vitalBase(ctx: PatientContext, visit: Visit, code: { code: string; display: string }): Observation {
  const taken = visit.start + 5 * MINUTE;
  return {
    resourceType: 'Observation',
    id: ctx.rng.uuid(),
    status: 'final',
    category: [VITAL_SIGNS_CATEGORY],
    code: concept(SYSTEM.loinc, code.code, code.display, code.display),
    subject: ctx.patientRef,
    encounter: referenceTo(visit.encounter),
    effectiveDateTime: dateTime(taken),
    issued: dateTime(taken + 2 * MINUTE),
    performer: [referenceTo(visit.practitioner)],
  };
}

function bloodPressure(ctx: PatientContext, visit: Visit, systolic: number, diastolic: number): Observation {
  const component = (vital: VitalSign, value: number) => ({
    code: concept(SYSTEM.loinc, vital.code, vital.display),
    valueQuantity: ucum(value, vital.unit, vital.ucum),
  });
  return {
    ...vitalBase(ctx, visit, BLOOD_PRESSURE_PANEL),
    component: [component(VITALS.systolic, systolic), component(VITALS.diastolic, diastolic)],
  };
}

/** One laboratory panel: its result Observations, then the DiagnosticReport that lists them. */
export function emitLabPanel(ctx: PatientContext, visit: Visit): DiagnosticReport {
  const panel = ctx.rng.weighted(LAB_PANELS.map((p, i) => [p, [35, 35, 20, 10][i]] as const));
  const collected = visit.start + ctx.rng.int(10, 60) * MINUTE;
  const issued = collected + ctx.rng.int(30, 240) * MINUTE;
  const results = panel.tests.map((test) => emit(ctx, labResult(ctx, visit, test, collected, issued)));
  return emit(ctx, labReport(ctx, visit, panel, results, collected, issued));
}

function labResult(ctx: PatientContext, visit: Visit, test: LabTest, collected: number, issued: number): Observation {
  const value = labValue(ctx, test);
  const laboratory = ctx.directory.departments[LABORATORY_DEPARTMENT];
  return {
    resourceType: 'Observation',
    id: ctx.rng.uuid(),
    status: 'final',
    category: [LABORATORY_CATEGORY],
    code: concept(SYSTEM.loinc, test.code, test.display, test.display),
    subject: ctx.patientRef,
    encounter: referenceTo(visit.encounter),
    effectiveDateTime: dateTime(collected),
    issued: dateTime(issued),
    performer: [referenceTo(laboratory)],
    valueQuantity: labQuantity(test, value),
    interpretation: [interpretation(test, value)],
    referenceRange: [{ low: labQuantity(test, test.low), high: labQuantity(test, test.high) }],
  };
}

/** Mostly within range; diabetic patients run high on glucose and HbA1c. */
function labValue(ctx: PatientContext, test: LabTest): number {
  const { rng } = ctx;
  const width = test.high - test.low;
  const diabetic = hasCondition(ctx, DIABETES) && (test.code === '2345-7' || test.code === '4548-4');
  const centre = diabetic ? test.high + width * 0.4 : (test.low + test.high) / 2;
  return rng.around(centre, width * 0.45, test.low * 0.5, test.high * 2.5, test.decimals);
}

function labQuantity(test: LabTest, value: number): Quantity {
  return ucum(value, test.unit, test.ucum);
}

function interpretation(test: LabTest, value: number): CodeableConcept {
  if (value < test.low) return INTERPRETATION.L;
  if (value > test.high) return INTERPRETATION.H;
  return INTERPRETATION.N;
}

function labReport(
  ctx: PatientContext,
  visit: Visit,
  panel: LabPanel,
  results: Observation[],
  collected: number,
  issued: number,
): DiagnosticReport {
  const abnormal = results.some((r) => r.interpretation?.[0] !== INTERPRETATION.N);
  return {
    resourceType: 'DiagnosticReport',
    id: ctx.rng.uuid(),
    status: 'final',
    category: [LAB_SERVICE],
    code: concept(SYSTEM.loinc, panel.code, panel.display, panel.display),
    subject: ctx.patientRef,
    encounter: referenceTo(visit.encounter),
    effectiveDateTime: dateTime(collected),
    issued: dateTime(issued),
    performer: [referenceTo(ctx.directory.departments[LABORATORY_DEPARTMENT])],
    resultsInterpreter: [referenceTo(visit.practitioner)],
    result: results.map((r) => referenceTo(r)),
    conclusion: abnormal ? 'Abnormal results; see flagged values.' : 'All results within reference range.',
  };
}

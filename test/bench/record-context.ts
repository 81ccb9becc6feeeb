// What the builders of one generated patient record share: the random stream, the directory, the
// patient's stable facts (body size, problems, insurance) and the visit being generated.
import type {
  Condition,
  Coverage,
  Encounter,
  Organization,
  Patient,
  Practitioner,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { Directory } from './directory';
import type { Random } from './random';
import type { EncounterKind } from './tables';

export interface PatientContext {
  rng: Random;
  directory: Directory;
  patient: Patient;
  patientRef: Reference<Patient>;
  primaryCare: Practitioner;
  heightCm: number;
  weightKg: number;
  conditions: Condition[];
  coverage: Coverage;
  /** resources emitted so far, in creation order (referenced resources before referencing ones) */
  resources: Resource[];
}

export interface Visit {
  kind: EncounterKind;
  encounter: Encounter;
  start: number;
  end: number;
  practitioner: Practitioner;
  department: Organization;
  /** the problem that motivated the visit, if any */
  reason?: Condition;
}

export function emit<T extends Resource>(ctx: Pick<PatientContext, 'resources'>, resource: T): T {
  ctx.resources.push(resource);
  return resource;
}

export function hasCondition(ctx: PatientContext, snomedCode: string): boolean {
  return ctx.conditions.some((c) => c.code?.coding?.[0]?.code === snomedCode);
}

// Staff and patient roles as data: the scopes each role can ever be granted. A token's user/ and patient/
// scopes are the requested ones narrowed to the role's ceiling, so a role never widens what it allows.

export interface RolePolicy {
  /** Staff accounts must use a second factor; patients may. */
  staff: boolean;
  /** Resource scopes at user/ level; the same scopes at patient/ level are allowed in a patient context. */
  userScopes: string[];
  /** May call administrative operations and the admin API. */
  admin?: boolean;
  /** May read the audit trail. */
  audit?: boolean;
}

const readAll = ['user/*.rs'];
const directory = ['user/Practitioner.rs', 'user/PractitionerRole.rs', 'user/Organization.rs', 'user/Location.rs'];
/** The hospital's own code systems and value sets, for coded entry (typeahead, $validate-code) in every app. */
const terminology = ['user/CodeSystem.rs', 'user/ValueSet.rs'];
const chart = ['user/Patient.rs', 'user/Encounter.rs', 'user/Condition.rs', 'user/AllergyIntolerance.rs'];

export const ROLES: Record<string, RolePolicy> = {
  admin: { staff: true, userScopes: ['user/*.cruds', 'user/AuditEvent.rs'], admin: true, audit: true },
  clinician: { staff: true, userScopes: ['user/*.cruds'] },
  nurse: {
    staff: true,
    userScopes: [
      ...readAll,
      'user/Observation.cruds',
      'user/MedicationAdministration.cruds',
      'user/Encounter.cru',
      'user/CarePlan.cru',
      'user/Task.cru',
      'user/Communication.cru',
    ],
  },
  'front-desk': {
    staff: true,
    userScopes: [
      ...directory,
      ...terminology,
      'user/Patient.crus',
      'user/RelatedPerson.crus',
      'user/Coverage.crus',
      'user/Appointment.cruds',
      'user/Schedule.rs',
      'user/Slot.rs',
      'user/Encounter.crus',
    ],
  },
  lab: {
    staff: true,
    userScopes: [
      ...directory,
      ...terminology,
      ...chart,
      'user/ServiceRequest.rus',
      'user/Specimen.cruds',
      'user/Observation.crus',
      'user/DiagnosticReport.crus',
      'user/Device.rs',
    ],
  },
  pharmacy: {
    staff: true,
    userScopes: [
      ...directory,
      ...terminology,
      ...chart,
      'user/Observation.rs',
      'user/MedicationRequest.rus',
      'user/MedicationDispense.cruds',
      'user/Medication.cruds',
      'user/SupplyDelivery.cruds',
    ],
  },
  billing: {
    staff: true,
    userScopes: [
      ...directory,
      ...terminology,
      'user/Patient.rs',
      'user/Encounter.rs',
      'user/Coverage.cruds',
      'user/Account.cruds',
      'user/ChargeItem.cruds',
      'user/Invoice.cruds',
      'user/Claim.cruds',
      'user/ClaimResponse.rs',
      'user/ExplanationOfBenefit.rs',
    ],
  },
  manager: { staff: true, userScopes: [...readAll, 'user/AuditEvent.rs'], audit: true },
  patient: { staff: false, userScopes: [] },
};

export const ROLE_NAMES = Object.keys(ROLES);

/**
 * The ceiling of scopes a user of this role may be granted by an app: the role's user/ scopes, the same at
 * patient/ level (a chart opened in a patient context), and for patients their own compartment.
 */
export function roleCeiling(role: string): string[] {
  const policy = ROLES[role];
  if (!policy) return [];
  const patientLevel = policy.staff ? policy.userScopes.map((s) => s.replace(/^user\//, 'patient/')) : ['patient/*.rs'];
  return [...policy.userScopes, ...patientLevel, ...(policy.admin ? ['admin'] : [])];
}

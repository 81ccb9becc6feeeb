// Plain-language descriptions of SMART scopes for the consent page: "Read and search your lab results".
import type { Permission } from '../../../resources/access';
import { parseResourceScope } from '../scopes';

const CONTEXT_TEXT: Record<string, string> = {
  openid: 'Confirm who you are when you sign in',
  fhirUser: 'Know who you are in the hospital record',
  profile: 'Know who you are in the hospital record',
  launch: 'Open with the patient and visit chosen in the hospital system',
  'launch/patient': 'Know which patient record you are working with',
  'launch/encounter': 'Know which visit you are working with',
  offline_access: 'Keep access when you are not using it, until you revoke it',
  online_access: 'Keep access while you stay signed in',
  admin: 'Administer the hospital system (users, apps and maintenance)',
};

/** What each resource type holds, as a patient would say it. */
const TYPE_TEXT: Record<string, string> = {
  '*': 'health records',
  AllergyIntolerance: 'allergies',
  Appointment: 'appointments',
  AuditEvent: 'access logs',
  CarePlan: 'care plans',
  CareTeam: 'care teams',
  Claim: 'insurance claims',
  Condition: 'conditions and diagnoses',
  Coverage: 'insurance coverage',
  DiagnosticReport: 'test reports',
  DocumentReference: 'documents',
  Encounter: 'visits and admissions',
  Immunization: 'immunizations',
  MedicationRequest: 'prescriptions',
  MedicationStatement: 'medications',
  Observation: 'test results, vital signs and other measurements',
  Patient: 'personal details (name, birth date, contact details)',
  Practitioner: 'care providers',
  Procedure: 'procedures',
  ServiceRequest: 'orders and referrals',
};

const CATEGORY_TEXT: Record<string, string> = {
  laboratory: 'lab results',
  'vital-signs': 'vital signs',
  'social-history': 'social history',
  survey: 'questionnaire answers',
  sdoh: 'social needs assessments',
  'clinical-test': 'clinical test results',
  imaging: 'imaging results',
  'encounter-diagnosis': 'visit diagnoses',
  'problem-list-item': 'problem list',
  'health-concern': 'health concerns',
};

const VERBS: [Permission, string][] = [
  ['r', 'read'],
  ['s', 'search'],
  ['c', 'create'],
  ['u', 'update'],
  ['d', 'delete'],
];

/** The sentence for one scope; `patientUser` says whose records patient/ scopes reach ("your" or "the patient's"). */
export function describeScope(scope: string, patientUser: boolean): string {
  const context = CONTEXT_TEXT[scope];
  if (context) return context;
  const grant = parseResourceScope(scope);
  if (!grant) return scope;
  const verbs = VERBS.filter(([p]) => grant.permissions.has(p)).map(([, verb]) => verb);
  const action = capitalise(listOf(verbs));
  const noun = nounOf(grant.resourceType, grant.query);
  if (grant.level === 'patient') return `${action} ${patientUser ? 'your' : "the patient's"} ${noun}`;
  if (grant.level === 'user') return `${action} ${noun} you have access to`;
  return `${action} all ${noun}`;
}

function nounOf(resourceType: string, query: [string, string][] | undefined): string {
  const category = query?.find(([name]) => name === 'category')?.[1];
  const code = category?.split('|').pop();
  if (code && CATEGORY_TEXT[code]) return CATEGORY_TEXT[code];
  const base = TYPE_TEXT[resourceType] ?? `${resourceType.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()} records`;
  return query ? `${base} (some only)` : base;
}

function listOf(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

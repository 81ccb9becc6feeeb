// Built-in code and name tables for the benchmark data generator: people, places and the
// clinical vocabularies (LOINC, SNOMED CT, RxNorm, UCUM) that make the generated records realistic.

export const SYSTEM = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  ucum: 'http://unitsofmeasure.org',
  cpt: 'http://www.ama-assn.org/go/cpt',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  mrn: 'urn:oid:2.16.840.1.113883.3.4424.1.1',
  encounterNumber: 'urn:oid:2.16.840.1.113883.3.4424.1.2',
  orderNumber: 'urn:oid:2.16.840.1.113883.3.4424.1.3',
  claimNumber: 'urn:oid:2.16.840.1.113883.3.4424.1.4',
  memberId: 'urn:oid:2.16.840.1.113883.3.4424.1.5',
  v2IdentifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  v3ActCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  v3MaritalStatus: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  v3Interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  v3ParticipationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  v2DiagnosticService: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  v2AppointmentType: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  claimType: 'http://terminology.hl7.org/CodeSystem/claim-type',
  processPriority: 'http://terminology.hl7.org/CodeSystem/processpriority',
  coverageClass: 'http://terminology.hl7.org/CodeSystem/coverage-class',
  subscriberRelationship: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship',
  medicationRequestCategory: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
  language: 'urn:ietf:bcp:47',
  practitionerQualification: 'http://terminology.hl7.org/CodeSystem/v2-0360',
  serviceCategory: 'http://terminology.hl7.org/CodeSystem/service-category',
  cancellationReason: 'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason',
  admitSource: 'http://terminology.hl7.org/CodeSystem/admit-source',
  dischargeDisposition: 'http://terminology.hl7.org/CodeSystem/discharge-disposition',
  orderableDrugForm: 'http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm',
} as const;

export const MALE_GIVEN = [
  'James',
  'John',
  'Robert',
  'Michael',
  'William',
  'David',
  'Richard',
  'Joseph',
  'Thomas',
  'Charles',
  'Daniel',
  'Matthew',
  'Anthony',
  'Mark',
  'Steven',
  'Paul',
  'Andrew',
  'Kevin',
  'Brian',
  'George',
  'Luis',
  'Carlos',
  'Ahmed',
  'Wei',
  'Hiroshi',
  'Kwame',
  'Ravi',
  'Dmitri',
  'Mateo',
  'Omar',
] as const;

export const FEMALE_GIVEN = [
  'Mary',
  'Patricia',
  'Jennifer',
  'Linda',
  'Elizabeth',
  'Barbara',
  'Susan',
  'Jessica',
  'Sarah',
  'Karen',
  'Lisa',
  'Nancy',
  'Betty',
  'Margaret',
  'Sandra',
  'Ashley',
  'Emily',
  'Donna',
  'Michelle',
  'Carol',
  'Maria',
  'Sofia',
  'Fatima',
  'Mei',
  'Yuki',
  'Amara',
  'Priya',
  'Olga',
  'Lucia',
  'Aisha',
] as const;

export const FAMILY_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Chen',
  'Wang',
  'Kim',
  'Patel',
  'Singh',
  'Okafor',
  'Mensah',
  'Ivanov',
  'Müller',
  "O'Brien",
] as const;

export const STREET_NAMES = [
  'Main St',
  'Oak Ave',
  'Maple St',
  'Cedar Ln',
  'Pine St',
  'Elm St',
  'Washington Ave',
  'Lake Dr',
  'Hill Rd',
  'Park Ave',
  'River Rd',
  'Sunset Blvd',
  'Church St',
  'Highland Ave',
  'Mill St',
  'Forest Dr',
] as const;

/** city, state, first three digits of the postal code */
export const CITIES = [
  ['Boston', 'MA', '021'],
  ['Worcester', 'MA', '016'],
  ['Springfield', 'MA', '011'],
  ['Cambridge', 'MA', '021'],
  ['Lowell', 'MA', '018'],
  ['Providence', 'RI', '029'],
  ['Hartford', 'CT', '061'],
  ['Manchester', 'NH', '031'],
] as const;

export const MARITAL_STATUS = [
  ['M', 'Married'],
  ['S', 'Never Married'],
  ['D', 'Divorced'],
  ['W', 'Widowed'],
] as const;

export const LANGUAGES = [
  ['en-US', 'English (United States)', 85],
  ['es', 'Spanish', 10],
  ['zh', 'Chinese', 2],
  ['pt', 'Portuguese', 2],
  ['vi', 'Vietnamese', 1],
] as const;

export const DEPARTMENTS = [
  ['Emergency Department', '225728007', 'Accident and Emergency department'],
  ['Internal Medicine', '309939001', 'Internal medicine department'],
  ['Cardiology', '309911002', 'Cardiology department'],
  ['Laboratory', '261904005', 'Laboratory'],
  ['Radiology', '309964003', 'Radiology department'],
  ['Surgery', '309967005', 'Surgical department'],
] as const;

export const PAYERS = [
  'Blue Harbor Health Plan',
  'Medicare',
  'Commonwealth Medicaid',
  'Acme Health Insurance',
] as const;

export interface CodeEntry {
  code: string;
  display: string;
}

export interface VitalSign extends CodeEntry {
  unit: string;
  ucum: string;
}

export const VITALS = {
  heartRate: { code: '8867-4', display: 'Heart rate', unit: 'beats/minute', ucum: '/min' },
  respiratoryRate: { code: '9279-1', display: 'Respiratory rate', unit: 'breaths/minute', ucum: '/min' },
  temperature: { code: '8310-5', display: 'Body temperature', unit: 'C', ucum: 'Cel' },
  oxygenSaturation: {
    code: '59408-5',
    display: 'Oxygen saturation in Arterial blood by Pulse oximetry',
    unit: '%',
    ucum: '%',
  },
  weight: { code: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg' },
  height: { code: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm' },
  bmi: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', ucum: 'kg/m2' },
  systolic: { code: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]' },
  diastolic: { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]' },
} satisfies Record<string, VitalSign>;

export const BLOOD_PRESSURE_PANEL: CodeEntry = {
  code: '85354-9',
  display: 'Blood pressure panel with all children optional',
};

export interface LabTest extends VitalSign {
  low: number;
  high: number;
  decimals: number;
}

export interface LabPanel extends CodeEntry {
  tests: readonly LabTest[];
}

const lab = (code: string, display: string, ucum: string, low: number, high: number, decimals: number): LabTest => ({
  code,
  display,
  unit: ucum,
  ucum,
  low,
  high,
  decimals,
});

export const LAB_PANELS: readonly LabPanel[] = [
  {
    code: '58410-2',
    display: 'CBC panel - Blood by Automated count',
    tests: [
      lab('6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 4.5, 11, 1),
      lab('789-8', 'Erythrocytes [#/volume] in Blood by Automated count', '10*6/uL', 4.2, 5.9, 2),
      lab('718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 12, 17.5, 1),
      lab('4544-3', 'Hematocrit [Volume Fraction] of Blood by Automated count', '%', 36, 50, 1),
      lab('777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 150, 400, 0),
    ],
  },
  {
    code: '51990-0',
    display: 'Basic metabolic panel - Blood',
    tests: [
      lab('2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'mg/dL', 70, 99, 0),
      lab('3094-0', 'Urea nitrogen [Mass/volume] in Serum or Plasma', 'mg/dL', 7, 20, 0),
      lab('2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 0.6, 1.3, 2),
      lab('2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'mmol/L', 135, 145, 0),
      lab('2823-3', 'Potassium [Moles/volume] in Serum or Plasma', 'mmol/L', 3.5, 5.1, 1),
      lab('2075-0', 'Chloride [Moles/volume] in Serum or Plasma', 'mmol/L', 98, 107, 0),
      lab('2028-9', 'Carbon dioxide, total [Moles/volume] in Serum or Plasma', 'mmol/L', 22, 29, 0),
      lab('17861-6', 'Calcium [Mass/volume] in Serum or Plasma', 'mg/dL', 8.5, 10.2, 1),
    ],
  },
  {
    code: '57698-3',
    display: 'Lipid panel with direct LDL - Serum or Plasma',
    tests: [
      lab('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 125, 200, 0),
      lab('2571-8', 'Triglyceride [Mass/volume] in Serum or Plasma', 'mg/dL', 40, 150, 0),
      lab('2085-9', 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', 'mg/dL', 40, 80, 0),
      lab('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'mg/dL', 50, 130, 0),
    ],
  },
  {
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    tests: [lab('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4, 5.6, 1)],
  },
];

export interface ConditionEntry extends CodeEntry {
  chronic: boolean;
  /** relative frequency among generated problems */
  weight: number;
}

export const CONDITIONS: readonly ConditionEntry[] = [
  { code: '38341003', display: 'Hypertensive disorder, systemic arterial', chronic: true, weight: 30 },
  { code: '44054006', display: 'Diabetes mellitus type 2', chronic: true, weight: 15 },
  { code: '55822004', display: 'Hyperlipidemia', chronic: true, weight: 20 },
  { code: '195967001', display: 'Asthma', chronic: true, weight: 8 },
  { code: '13645005', display: 'Chronic obstructive lung disease', chronic: true, weight: 6 },
  { code: '49436004', display: 'Atrial fibrillation', chronic: true, weight: 5 },
  { code: '84114007', display: 'Heart failure', chronic: true, weight: 4 },
  { code: '709044004', display: 'Chronic kidney disease', chronic: true, weight: 5 },
  { code: '35489007', display: 'Depressive disorder', chronic: true, weight: 8 },
  { code: '197480006', display: 'Anxiety disorder', chronic: true, weight: 7 },
  { code: '396275006', display: 'Osteoarthritis', chronic: true, weight: 10 },
  { code: '162864005', display: 'Body mass index 30+ - obesity', chronic: true, weight: 12 },
  { code: '233604007', display: 'Pneumonia', chronic: false, weight: 6 },
  { code: '68566005', display: 'Urinary tract infectious disease', chronic: false, weight: 8 },
  { code: '10509002', display: 'Acute bronchitis', chronic: false, weight: 10 },
  { code: '444814009', display: 'Viral sinusitis', chronic: false, weight: 12 },
  { code: '22298006', display: 'Myocardial infarction', chronic: false, weight: 2 },
  { code: '230690007', display: 'Cerebrovascular accident', chronic: false, weight: 2 },
  { code: '271737000', display: 'Anemia', chronic: false, weight: 5 },
  { code: '43878008', display: 'Streptococcal sore throat', chronic: false, weight: 6 },
];

export interface MedicationEntry extends CodeEntry {
  doseValue: number;
  doseUnit: string;
  timesPerDay: number;
}

export const MEDICATIONS: readonly MedicationEntry[] = [
  { code: '314076', display: 'lisinopril 10 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  { code: '197361', display: 'amlodipine 5 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  {
    code: '860975',
    display: '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet',
    doseValue: 1,
    doseUnit: 'TAB',
    timesPerDay: 2,
  },
  { code: '617310', display: 'atorvastatin 20 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  { code: '314231', display: 'simvastatin 10 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  { code: '866924', display: 'metoprolol tartrate 25 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 2 },
  { code: '310798', display: 'hydrochlorothiazide 25 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  { code: '855332', display: 'warfarin sodium 5 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  { code: '312938', display: 'sertraline 100 MG Oral Tablet', doseValue: 1, doseUnit: 'TAB', timesPerDay: 1 },
  {
    code: '745679',
    display: '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler',
    doseValue: 2,
    doseUnit: 'ACTUAT',
    timesPerDay: 4,
  },
  { code: '308182', display: 'amoxicillin 250 MG Oral Capsule', doseValue: 1, doseUnit: 'CAP', timesPerDay: 3 },
  { code: '313782', display: 'acetaminophen 325 MG Oral Tablet', doseValue: 2, doseUnit: 'TAB', timesPerDay: 3 },
  { code: '310965', display: 'ibuprofen 200 MG Oral Tablet', doseValue: 2, doseUnit: 'TAB', timesPerDay: 3 },
];

export interface ProcedureEntry extends CodeEntry {
  cpt: string;
  price: number;
}

export const PROCEDURES: readonly ProcedureEntry[] = [
  { code: '29303009', display: 'Electrocardiographic procedure', cpt: '93000', price: 65 },
  { code: '168731009', display: 'Standard chest X-ray', cpt: '71046', price: 120 },
  { code: '73761001', display: 'Colonoscopy', cpt: '45378', price: 1450 },
  { code: '80146002', display: 'Appendectomy', cpt: '44950', price: 8900 },
  { code: '430193006', display: 'Medication reconciliation', cpt: '99495', price: 180 },
  { code: '76601001', display: 'Intramuscular injection', cpt: '96372', price: 45 },
  { code: '40701008', display: 'Echocardiography', cpt: '93306', price: 780 },
  { code: '71651007', display: 'Mammography', cpt: '77067', price: 240 },
  { code: '18286008', display: 'Catheter ablation of tissue of heart', cpt: '93656', price: 21000 },
  { code: '36969009', display: 'Placement of stent in coronary artery', cpt: '92928', price: 14500 },
];

export interface AllergyEntry extends CodeEntry {
  category: 'food' | 'medication' | 'environment';
}

export const ALLERGENS: readonly AllergyEntry[] = [
  { code: '764146007', display: 'Penicillin', category: 'medication' },
  { code: '387406002', display: 'Sulfonamide', category: 'medication' },
  { code: '387207008', display: 'Ibuprofen', category: 'medication' },
  { code: '256349002', display: 'Peanut - whole', category: 'food' },
  { code: '735029006', display: 'Shellfish', category: 'food' },
  { code: '102263004', display: 'Eggs', category: 'food' },
  { code: '111088007', display: 'Latex', category: 'environment' },
  { code: '256277009', display: 'Grass pollen', category: 'environment' },
  { code: '260147004', display: 'House dust mite', category: 'environment' },
];

export const REACTIONS: readonly CodeEntry[] = [
  { code: '247472004', display: 'Wheal' },
  { code: '271807003', display: 'Eruption of skin' },
  { code: '267036007', display: 'Dyspnea' },
  { code: '39579001', display: 'Anaphylaxis' },
  { code: '422587007', display: 'Nausea' },
];

export type EncounterKind = 'ambulatory' | 'emergency' | 'inpatient';

export interface EncounterProfile {
  classCode: string;
  classDisplay: string;
  type: CodeEntry;
  department: number;
  /** CPT evaluation-and-management code billed for the visit */
  cpt: string;
  price: number;
  minutes: [number, number];
}

export const ENCOUNTER_PROFILES: Record<EncounterKind, EncounterProfile> = {
  ambulatory: {
    classCode: 'AMB',
    classDisplay: 'ambulatory',
    type: { code: '185349003', display: 'Encounter for check up' },
    department: 1,
    cpt: '99213',
    price: 110,
    minutes: [15, 45],
  },
  emergency: {
    classCode: 'EMER',
    classDisplay: 'emergency',
    type: { code: '50849002', display: 'Emergency room admission' },
    department: 0,
    cpt: '99284',
    price: 650,
    minutes: [90, 360],
  },
  inpatient: {
    classCode: 'IMP',
    classDisplay: 'inpatient encounter',
    type: { code: '32485007', display: 'Hospital admission' },
    department: 2,
    cpt: '99223',
    price: 4200,
    minutes: [1440, 7200],
  },
};

export const SPECIALTIES: readonly CodeEntry[] = [
  { code: '419192003', display: 'Internal medicine' },
  { code: '394579002', display: 'Cardiology' },
  { code: '773568002', display: 'Emergency medicine' },
  { code: '394592004', display: 'Clinical oncology' },
  { code: '394802001', display: 'General medicine' },
  { code: '394609007', display: 'General surgery' },
];

// Hand-written R4-valid resources of the types a hospital writes most, for the validation tests.
import type { Resource } from '@medplum/fhirtypes';

const patientRef = { reference: 'Patient/p1' };
const practitionerRef = { reference: 'Practitioner/dr1' };
const loinc = (code: string, display: string): { coding: { system: string; code: string; display: string }[] } => ({
  coding: [{ system: 'http://loinc.org', code, display }],
});

export const validResources: Resource[] = [
  {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
    active: true,
    name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
    telecom: [{ system: 'phone', value: '(03) 5555 6473', use: 'work' }],
    gender: 'male',
    birthDate: '1974-12-25',
    address: [{ line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
    contact: [{ relationship: [{ text: 'wife' }], name: { family: 'Chalmers', given: ['Mary'] } }],
  },
  {
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }],
      },
    ],
    code: loinc('2345-7', 'Glucose [Mass/volume] in Serum or Plasma'),
    subject: patientRef,
    effectiveDateTime: '2024-03-01T09:30:00+01:00',
    valueQuantity: { value: 6.3, unit: 'mmol/l', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    referenceRange: [{ low: { value: 3.1, unit: 'mmol/l' }, high: { value: 6.2, unit: 'mmol/l' } }],
  },
  {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
    subject: patientRef,
    participant: [{ individual: practitionerRef }],
    period: { start: '2024-03-01T08:00:00Z' },
    location: [{ location: { reference: 'Location/ward-3' } }],
  },
  {
    resourceType: 'Condition',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
    },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
    subject: patientRef,
    onsetDateTime: '2019-05',
  },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975', display: 'metformin' }],
    },
    subject: patientRef,
    authoredOn: '2024-03-01',
    requester: practitionerRef,
    dosageInstruction: [
      {
        text: '500 mg twice daily',
        timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } },
        doseAndRate: [{ doseQuantity: { value: 500, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
  },
  {
    resourceType: 'Appointment',
    status: 'booked',
    serviceType: [{ text: 'Diabetes review' }],
    start: '2024-04-02T10:00:00Z',
    end: '2024-04-02T10:30:00Z',
    participant: [
      { actor: patientRef, status: 'accepted' },
      { actor: practitionerRef, status: 'accepted' },
    ],
  },
  {
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'institutional' }] },
    use: 'claim',
    patient: patientRef,
    created: '2024-03-02',
    provider: { reference: 'Organization/hospital' },
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/c1' } }],
    item: [
      {
        sequence: 1,
        productOrService: { coding: [{ system: 'http://example.org/fees', code: 'ward-day' }] },
        quantity: { value: 2 },
        unitPrice: { value: 450, currency: 'EUR' },
        net: { value: 900, currency: 'EUR' },
      },
    ],
    total: { value: 900, currency: 'EUR' },
  },
  {
    resourceType: 'Practitioner',
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567890' }],
    active: true,
    name: [{ family: 'Careful', given: ['Adam'], prefix: ['Dr'] }],
    qualification: [{ code: { text: 'MD' } }],
  },
  {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: loinc('24323-8', 'Comprehensive metabolic 2000 panel'),
    subject: patientRef,
    requester: practitionerRef,
    authoredOn: '2024-03-01T09:00:00Z',
    priority: 'routine',
  },
  {
    resourceType: 'ChargeItem',
    status: 'billable',
    code: { coding: [{ system: 'http://example.org/fees', code: 'lab-cmp', display: 'Metabolic panel' }] },
    subject: patientRef,
    occurrenceDateTime: '2024-03-01T09:00:00Z',
    quantity: { value: 1 },
    enteredDate: '2024-03-01T10:00:00Z',
  },
] as Resource[];

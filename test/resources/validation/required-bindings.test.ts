// Required bindings on write: codes and CodeableConcepts outside their required value set are refused, one issue
// each, located in FHIRPath, wherever the bound element sits (resource, backbone, data type, choice, nested
// resource, extension); codes from the value set pass.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateResource, warmUpValidation } from '../../../resources/validation';
import { requiredBindingIssues } from '../../../resources/validation/required-bindings';

beforeAll(() => {
  warmUpValidation();
});

const REQUEST_STATUS = 'http://hl7.org/fhir/ValueSet/request-status';
const CONDITION_CLINICAL = 'http://hl7.org/fhir/ValueSet/condition-clinical';
const CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

const serviceRequest = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  priority: 'routine',
  code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
  subject: { reference: 'Patient/p1' },
  ...extra,
});

const condition = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Condition',
  code: { text: 'Asthma' },
  subject: { reference: 'Patient/p1' },
  ...extra,
});

const concept = (...codings: [system: string, code: string][]) => ({
  coding: codings.map(([system, code]) => ({ system, code })),
});

/** The issues of the whole write pipeline, as [expression, diagnostics] pairs. */
function issuesOf(resource: unknown): [string | undefined, string | undefined][] {
  const issues = validateResource(resource);
  issues.forEach((i: OperationOutcomeIssue) => expect(i).toMatchObject({ severity: 'error' }));
  return issues.map((i) => [i.expression?.[0], i.diagnostics]);
}

/** Validates and expects one code-invalid error; returns its expression and diagnostics. */
function bindingError(resource: unknown): { expression: string | undefined; diagnostics: string | undefined } {
  const issues = validateResource(resource);
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatchObject({ severity: 'error', code: 'code-invalid' });
  return { expression: issues[0].expression?.[0], diagnostics: issues[0].diagnostics };
}

describe('codes', () => {
  test('a resource-level code outside its value set is refused, naming the value and the value set', () => {
    expect(bindingError(serviceRequest({ status: 'bogus' }))).toEqual({
      expression: 'ServiceRequest.status',
      diagnostics: `The value "bogus" is not in the required value set ${REQUEST_STATUS}`,
    });
  });

  test('codes from the value sets pass', () => {
    for (const status of ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown']) {
      expect(validateResource(serviceRequest({ status, intent: 'reflex-order', priority: 'stat' }))).toEqual([]);
    }
  });

  test('codes are compared exactly: R4 codes are case sensitive', () => {
    expect(bindingError(serviceRequest({ status: 'Active' })).expression).toBe('ServiceRequest.status');
  });

  test('one issue per bad code, in document order', () => {
    expect(issuesOf(serviceRequest({ status: 'bogus', intent: 'wish', priority: 'whenever' }))).toEqual([
      ['ServiceRequest.status', `The value "bogus" is not in the required value set ${REQUEST_STATUS}`],
      ['ServiceRequest.intent', expect.stringContaining('http://hl7.org/fhir/ValueSet/request-intent')],
      ['ServiceRequest.priority', expect.stringContaining('http://hl7.org/fhir/ValueSet/request-priority')],
    ]);
  });

  test('a code of a backbone element, and of a data type inside a backbone element', () => {
    const definition = {
      resourceType: 'ChargeItemDefinition',
      url: 'http://hospital.example.org/fees/consultation',
      status: 'active',
      propertyGroup: [
        {
          priceComponent: [
            { type: 'base', amount: { value: 80, currency: 'EUR' } },
            { type: 'rebate', amount: { value: 10, currency: 'EUROS' } },
          ],
        },
      ],
    };
    expect(issuesOf(definition)).toEqual([
      [
        'ChargeItemDefinition.propertyGroup[0].priceComponent[1].type',
        'The value "rebate" is not in the required value set http://hl7.org/fhir/ValueSet/invoice-priceComponentType',
      ],
      [
        'ChargeItemDefinition.propertyGroup[0].priceComponent[1].amount.currency',
        'The value "EUROS" is not in the required value set http://hl7.org/fhir/ValueSet/currencies',
      ],
    ]);
  });

  test('an array of codes: each item is checked', () => {
    const location = { resourceType: 'Location', hoursOfOperation: [{ daysOfWeek: ['mon', 'funday', 'fri'] }] };
    expect(bindingError(location).expression).toBe('Location.hoursOfOperation[0].daysOfWeek[1]');
  });

  test('a data type reached through a choice type is located by the choice element', () => {
    const weekly = (day: string) => ({ repeat: { frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: [day] } });
    expect(validateResource(serviceRequest({ occurrenceTiming: weekly('sun') }))).toEqual([]);
    const bad = serviceRequest({ occurrenceTiming: weekly('sunday') });
    expect(bindingError(bad)).toEqual({
      expression: 'ServiceRequest.occurrence.repeat.dayOfWeek[0]',
      diagnostics: 'The value "sunday" is not in the required value set http://hl7.org/fhir/ValueSet/days-of-week',
    });
  });

  test('a data type deep inside backbones: a dosage timing of a MedicationRequest', () => {
    const request = {
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'Paracetamol 500 mg' },
      subject: { reference: 'Patient/p1' },
      dosageInstruction: [{ text: 'daily' }, { timing: { repeat: { dayOfWeek: ['mon', 'xyz'] } } }],
    };
    expect(bindingError(request).expression).toBe('MedicationRequest.dosageInstruction[1].timing.repeat.dayOfWeek[1]');
  });

  test('a code whose JSON-schema enum already refuses it is reported once, by the schema', () => {
    const issues = validateResource({ resourceType: 'Patient', gender: 'bogus' });
    expect(issues).toHaveLength(1);
    expect(issues[0].diagnostics).toMatch(/^Invalid code 'bogus': expected one of male, female/);
  });

  test('a malformed code the schema refused is not reported again as outside the value set', () => {
    const issues = validateResource(serviceRequest({ status: ' active' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'value', expression: ['ServiceRequest.status'] });
  });

  test('a long value is cut in the message', () => {
    const { diagnostics } = bindingError(serviceRequest({ status: 'x'.repeat(200) }));
    expect(diagnostics).toBe(`The value "${'x'.repeat(77)}..." is not in the required value set ${REQUEST_STATUS}`);
  });

  test('value sets that cannot be expanded are not checked: any mime type passes', () => {
    const attachment = { contentType: 'application/x-hospital-scan', url: 'http://example.org/scan' };
    const document = {
      resourceType: 'DocumentReference',
      status: 'current',
      docStatus: 'final',
      content: [{ attachment }],
    };
    expect(validateResource(document)).toEqual([]);
    expect(bindingError({ ...document, docStatus: 'done' }).expression).toBe('DocumentReference.docStatus');
  });
});

describe('CodeableConcepts', () => {
  test('a coding from the value set passes; one outside it is refused at the concept', () => {
    expect(validateResource(condition({ clinicalStatus: concept([CLINICAL_SYSTEM, 'active']) }))).toEqual([]);
    expect(bindingError(condition({ clinicalStatus: concept([CLINICAL_SYSTEM, 'bogus']) }))).toEqual({
      expression: 'Condition.clinicalStatus',
      diagnostics: `The coding "${CLINICAL_SYSTEM}|bogus" is not in the required value set ${CONDITION_CLINICAL}`,
    });
  });

  test('the code must come from the value set with its system', () => {
    const wrongSystem = condition({ clinicalStatus: concept(['http://example.org/status', 'active']) });
    expect(bindingError(wrongSystem).diagnostics).toBe(
      `The coding "http://example.org/status|active" is not in the required value set ${CONDITION_CLINICAL}`,
    );
    const noSystem = condition({ clinicalStatus: { coding: [{ code: 'active' }] } });
    expect(bindingError(noSystem).diagnostics).toBe(
      `The coding "active" is not in the required value set ${CONDITION_CLINICAL}`,
    );
  });

  test('one coding from the value set is enough: the others are translations', () => {
    const translated = concept(['http://hospital.example.org/status', 'A'], [CLINICAL_SYSTEM, 'remission']);
    expect(validateResource(condition({ clinicalStatus: translated }))).toEqual([]);
  });

  test('several codings none of which is in the value set: one issue naming them all', () => {
    const local = concept(['http://hospital.example.org/status', 'A'], [CLINICAL_SYSTEM, 'cured']);
    expect(bindingError(condition({ clinicalStatus: local })).diagnostics).toBe(
      `None of the codings "http://hospital.example.org/status|A", "${CLINICAL_SYSTEM}|cured" is in the required ` +
        `value set ${CONDITION_CLINICAL}`,
    );
  });

  test('text alone is refused: a required binding needs a coding from the value set', () => {
    expect(bindingError(condition({ clinicalStatus: { text: 'Active' } }))).toEqual({
      expression: 'Condition.clinicalStatus',
      diagnostics: `The concept "Active" is text only: it needs a coding from the required value set ${CONDITION_CLINICAL}`,
    });
  });

  test('a concept that states nothing (only a data-absent-reason) passes; a bad reason does not', () => {
    const absent = (valueCode: string) => ({ extension: [{ url: DATA_ABSENT_REASON, valueCode }] });
    expect(validateResource(condition({ clinicalStatus: absent('unknown') }))).toEqual([]);
    expect(bindingError(condition({ clinicalStatus: absent('forgot') }))).toEqual({
      expression: 'Condition.clinicalStatus.extension[0].value',
      diagnostics:
        'The value "forgot" is not in the required value set http://hl7.org/fhir/ValueSet/data-absent-reason',
    });
  });

  test('a bound CodeableConcept in another resource: AllergyIntolerance.verificationStatus', () => {
    const allergy = {
      resourceType: 'AllergyIntolerance',
      patient: { reference: 'Patient/p1' },
      clinicalStatus: concept(['http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active']),
      verificationStatus: concept(['http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'sure']),
    };
    expect(bindingError(allergy).expression).toBe('AllergyIntolerance.verificationStatus');
  });
});

describe('nested resources and extensions', () => {
  test('a contained resource is checked as its own type', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Glucose' },
      basedOn: [{ reference: '#order' }],
      contained: [{ ...serviceRequest({ status: 'sent' }), id: 'order' }],
    };
    expect(bindingError(observation).expression).toBe('Observation.contained[0].status');
  });

  test('resources inside a Bundle and inside Parameters', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: serviceRequest() }, { resource: serviceRequest({ intent: 'hope' }) }],
    };
    expect(bindingError(bundle).expression).toBe('Bundle.entry[1].resource.intent');
    const parameters = {
      resourceType: 'Parameters',
      parameter: [{ name: 'order', resource: serviceRequest({ priority: 'soon' }) }],
    };
    expect(bindingError(parameters).expression).toBe('Parameters.parameter[0].resource.priority');
  });

  test('a data type as the value of any extension, at any depth', () => {
    const money = (currency: string) => ({ url: 'http://example.org/fee', valueMoney: { value: 5, currency } });
    expect(validateResource(serviceRequest({ extension: [money('CHF')] }))).toEqual([]);
    const nested = serviceRequest({
      extension: [{ url: 'http://example.org/billing', extension: [money('CHF'), money('ZZZ')] }],
    });
    expect(bindingError(nested)).toEqual({
      expression: 'ServiceRequest.extension[0].extension[1].value.currency',
      diagnostics: 'The value "ZZZ" is not in the required value set http://hl7.org/fhir/ValueSet/currencies',
    });
  });

  test("an R4 extension's own binding, on a primitive's extension", () => {
    const patient = (valueCode: string) => ({
      resourceType: 'Patient',
      _birthDate: { extension: [{ url: DATA_ABSENT_REASON, valueCode }] },
    });
    expect(validateResource(patient('asked-unknown'))).toEqual([]);
    expect(bindingError(patient('never-asked')).expression).toBe('Patient.birthDate.extension[0].value');
  });

  test("the parts of an R4 complex extension are checked by their definition's binding", () => {
    const parent = (code: string) => ({
      resourceType: 'FamilyMemberHistory',
      status: 'completed',
      patient: { reference: 'Patient/p1' },
      relationship: { text: 'brother' },
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/family-member-history-genetics-parent',
          extension: [
            {
              url: 'type',
              valueCodeableConcept: concept(['http://terminology.hl7.org/CodeSystem/v3-RoleCode', code]),
            },
            { url: 'reference', valueReference: { reference: 'FamilyMemberHistory/mother' } },
          ],
        },
      ],
    });
    expect(validateResource(parent('NMTH'))).toEqual([]);
    const issues = validateResource(parent('BRO'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: 'code-invalid',
      expression: ['FamilyMemberHistory.extension[0].extension[0].value'],
      diagnostics: expect.stringContaining('http://hl7.org/fhir/ValueSet/parent-relationship-codes'),
    });
  });

  test('a part url is read as a part only inside its extension: elsewhere it names no definition', () => {
    const loose = serviceRequest({
      extension: [{ url: 'type', valueCodeableConcept: concept(['http://example.org', 'x']) }],
    });
    expect(requiredBindingIssues(loose as never)).toEqual([]);
  });
});

describe('what the walk skips', () => {
  test('values of the wrong JSON type are left to the schema', () => {
    const wrong = { resourceType: 'ServiceRequest', status: 5, intent: ['order'], subject: 'Patient/p1' };
    const issues = requiredBindingIssues(wrong as never);
    expect(issues).toEqual([]);
    expect(validateResource(wrong).length).toBeGreaterThan(0);
  });

  test('unknown properties and nested objects of unknown resource types are left to the schema', () => {
    const odd = serviceRequest({ nickname: { status: 'bogus' }, contained: [{ resourceType: 'Bot', status: 'x' }] });
    expect(requiredBindingIssues(odd as never)).toEqual([]);
  });

  test('a concept that is not an object, and codings that are not objects, are left to the schema', () => {
    expect(requiredBindingIssues(condition({ clinicalStatus: 'active' }) as never)).toEqual([]);
    const strings = condition({ clinicalStatus: { coding: ['active'], text: 'Active' } });
    expect(requiredBindingIssues(strings as never)).toHaveLength(1);
  });
});

// ORU^R01 Bundles against the real FHIR server: every oru fixture is accepted (after its patient and orders
// exist), replaying it creates nothing new, and a preliminary result then its final one update the same
// Observations and DiagnosticReports.
import type { Bundle, DiagnosticReport, Identifier, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { tokenOf } from '../../../../integrations/hl7v2/mappings/bundle';
import { oruToBundle } from '../../../../integrations/hl7v2/mappings/oru';
import { patientKey } from '../../../../integrations/hl7v2/mappings/patient-key';
import { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { startTestApp, type TestApp } from '../../../support/app';
import { hl7FixtureNames, parseFixture, testMappingContext } from '../../../support/hl7';

const FHIR_JSON = 'application/fhir+json';
const ORU_FIXTURES = hl7FixtureNames().filter((n) => n.startsWith('oru_r01_'));
const COUNTED = ['Observation', 'DiagnosticReport', 'Specimen', 'Practitioner', 'Organization'] as const;
const context = testMappingContext();

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app.close());

async function search<T extends Resource>(query: string): Promise<T[]> {
  const response = await app.api().get(`/fhir/${query}`);
  expect(response.status).toBe(200);
  return ((response.body as Bundle).entry ?? []).map((e) => e.resource as T);
}

async function count(type: string): Promise<number> {
  const response = await app.api().get(`/fhir/${type}?_summary=count`);
  expect(response.status).toBe(200);
  return (response.body as Bundle).total ?? -1;
}

const counts = async () => Object.fromEntries(await Promise.all(COUNTED.map(async (t) => [t, await count(t)])));

/** Creates the resource with this identifier unless one exists; returns its id. */
async function ensure(resource: Resource & { identifier?: Identifier[] }): Promise<string> {
  const [identifier] = resource.identifier ?? [];
  const found = await search(`${resource.resourceType}?identifier=${encodeURIComponent(tokenOf(identifier))}`);
  if (found.length > 0) return found[0].id as string;
  const response = await app.api().post(`/fhir/${resource.resourceType}`).set('Content-Type', FHIR_JSON).send(resource);
  expect(response.status).toBe(201);
  return response.body.id as string;
}

/**
 * What the hospital already has before a lab result arrives: the patient (registered by ADT) and the orders
 * the results are based on (the bridge would otherwise worklist the result as an orphan).
 */
async function prepare(message: V2Message, bundle: Bundle): Promise<string[]> {
  const patients: string[] = [];
  for (const pid of message.all('PID')) {
    const key = patientKey(pid, context) as Identifier;
    patients.push(await ensure({ resourceType: 'Patient', identifier: [key] } as Patient));
  }
  const orders = new Set(JSON.stringify(bundle).match(/"ServiceRequest\?identifier=[^"]+"/g) ?? []);
  for (const order of orders) {
    const token = decodeURIComponent(order.slice('"ServiceRequest?identifier='.length, -1));
    const [, system, value] = /^(.*?)\|(.*)$/.exec(token) ?? [];
    await ensure({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${patients[0]}` },
      identifier: [{ system, value }],
    });
  }
  return patients;
}

async function post(bundle: Bundle): Promise<Bundle> {
  const response = await app.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
  if (response.status !== 200) throw new Error(JSON.stringify(response.body, null, 1));
  return response.body as Bundle;
}

const mapped = (name: string) => oruToBundle(parseFixture(name), context);
const key = (o: Observation) => o.identifier?.[0];
const byKey = async (resource: Observation | DiagnosticReport, identifier: Identifier | undefined) =>
  search<Observation | DiagnosticReport>(
    `${resource.resourceType}?identifier=${encodeURIComponent(tokenOf(identifier as Identifier))}`,
  );

describe('oru_r01_01 (preliminary) then oru_r01_02 (final)', () => {
  let patientId: string;
  let before: Map<string, Observation>;

  it('writes the preliminary results', async () => {
    const bundle = mapped('oru_r01_01.hl7');
    [patientId] = await prepare(parseFixture('oru_r01_01.hl7'), bundle);
    const response = await post(bundle);
    expect(response.entry?.map((e) => e.response?.status)).toEqual(bundle.entry?.map(() => '201 Created'));
    const observations = await search<Observation>(`Observation?subject=Patient/${patientId}&_count=50`);
    expect(observations).toHaveLength(10);
    before = new Map(observations.map((o) => [key(o)?.value as string, o]));
    expect(before.get('82503246|11156-7')).toMatchObject({ status: 'registered' });
    expect(before.get('82503246|11156-7')).not.toHaveProperty('valueQuantity');
    expect(before.get('890775544|23761-0')).toMatchObject({ status: 'preliminary', valueQuantity: { value: 72 } });
    const [differential] = await search<DiagnosticReport>('DiagnosticReport?identifier=urn:hms:v2:LAB|890775544');
    expect(differential.status).toBe('preliminary');
    expect(differential.basedOn?.[0].reference).toMatch(/^ServiceRequest\/[^?]+$/);
    expect(differential.subject?.reference).toBe(`Patient/${patientId}`);
  });

  it('updates the same Observations, reports and specimen to final; counts are unchanged', async () => {
    const after01 = await counts();
    expect(after01).toMatchObject({ Observation: 10, DiagnosticReport: 2, Specimen: 1 });
    const bundle = mapped('oru_r01_02.hl7');
    const response = await post(bundle);
    expect(response.entry?.map((e) => e.response?.status)).toEqual(bundle.entry?.map(() => '200 OK'));
    expect(await counts()).toEqual(after01);

    const observations = await search<Observation>(`Observation?subject=Patient/${patientId}&_count=50`);
    expect(observations).toHaveLength(10);
    for (const observation of observations) {
      const previous = before.get(key(observation)?.value as string);
      expect(observation.id).toBe(previous?.id);
      expect(observation.status).toBe('final');
      expect(observation.meta?.versionId).not.toBe(previous?.meta?.versionId);
    }
    const leukocytes = observations.find((o) => key(o)?.value === '82503246|11156-7');
    expect(leukocytes?.valueQuantity).toMatchObject({ value: 8.2, unit: 'giga.l-1', code: '10*9/L' });
    const hemoglobin = observations.find((o) => key(o)?.value === '82503246|20509-6');
    expect(hemoglobin?.valueQuantity).toEqual({ value: 13.4, unit: 'g/l-1' });

    const reports = await search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
    expect(reports).toHaveLength(2);
    const differential = reports.find((r) => r.identifier?.some((i) => i.value === '890775544'));
    expect(differential?.status).toBe('final');
    const ids = new Set(observations.map((o) => `Observation/${o.id}`));
    for (const report of reports) {
      expect(report.result).toHaveLength(5);
      for (const result of report.result ?? []) expect(ids.has(result.reference as string)).toBe(true);
    }
    const [specimen] = await search('Specimen?identifier=urn:hms:v2:LAB|SpecimenID');
    expect(observations.every((o) => o.specimen?.reference === `Specimen/${specimen.id}`)).toBe(true);
  });

  it('finds the Observations by code and by patient', async () => {
    const byCode = await search<Observation>(`Observation?code=http://loinc.org|11156-7&subject=Patient/${patientId}`);
    expect(byCode.map((o) => key(o)?.value)).toEqual(['82503246|11156-7']);
    expect(await search<Observation>(`Observation?patient=Patient/${patientId}&_count=50`)).toHaveLength(10);
    const reports = await search<DiagnosticReport>(`DiagnosticReport?code=http://loinc.org|24317-0`);
    expect(reports).toHaveLength(1);
  });
});

describe.each(ORU_FIXTURES)('%s on the server', (name) => {
  it('is accepted, searchable, and posting it again creates nothing', async () => {
    const message = parseFixture(name);
    const first = mapped(name);
    const [patientId] = await prepare(message, first);
    await post(first);
    const afterFirst = await counts();

    for (const entry of first.entry ?? []) {
      const resource = entry.resource as Observation | DiagnosticReport;
      if (resource.resourceType !== 'Observation' && resource.resourceType !== 'DiagnosticReport') continue;
      const found = await byKey(resource, resource.identifier?.at(resource.resourceType === 'Observation' ? 0 : -1));
      expect(found).toHaveLength(1);
      expect(found[0].subject?.reference).toBe(`Patient/${patientId}`);
    }
    const coded = first.entry?.find((e) => e.resource?.resourceType === 'Observation')?.resource as Observation;
    const [coding] = coded.code.coding ?? [];
    const token = coding.system ? `${coding.system}|${coding.code}` : (coding.code as string);
    const byCode = await search<Observation>(
      `Observation?code=${encodeURIComponent(token)}&patient=Patient/${patientId}`,
    );
    expect(byCode.map((o) => o.code.coding?.[0].code)).toContain(coding.code);

    // A replay (a new mapping run: new fullUrls) updates in place.
    await post(mapped(name));
    expect(await counts()).toEqual(afterFirst);
  });
});

it('a placer number in our own namespace links the report to that ServiceRequest by id', async () => {
  const patientId = await ensure({
    resourceType: 'Patient',
    identifier: [{ system: 'urn:hms:v2:HOSP', value: 'OWN-1' }],
  } as Patient);
  const order = await app
    .api()
    .post('/fhir/ServiceRequest')
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${patientId}` },
    });
  expect(order.status).toBe(201);
  const message = V2Message.parse(
    [
      'MSH|^~\\&|LIS|LAB|HMS|HOSP|20240301120000+0100||ORU^R01^ORU_R01|OWN1|P|2.5.1',
      'PID|1||OWN-1^^^HOSP^MR||DOE^JANE',
      `OBR|1|${order.body.id}^HMS|F-OWN^LIS|2345-7^Glucose^LN|||20240301080000+0100||||||||||||||||||F`,
      'OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|3.9-5.5|N|||F',
      'OBX|2|ED|11502-2^Laboratory report^LN||LIS^AP^PDF^Base64^JVBERi0xLjQK||||||F',
      'OBX|3|SN|2339-0^Glucose^LN||^1^:^2||||||X',
    ].join('\r'),
  );
  await post(oruToBundle(message, context));
  const [report] = await search<DiagnosticReport>('DiagnosticReport?identifier=urn:hms:v2:LIS|F-OWN');
  expect(report.basedOn).toEqual([{ reference: `ServiceRequest/${order.body.id}` }]);
  expect(report.presentedForm).toEqual([{ contentType: 'application/pdf', data: 'JVBERi0xLjQK' }]);
  expect(report.result).toHaveLength(3);
  const [cancelled] = await search<Observation>('Observation?code=http://loinc.org|2339-0');
  expect(cancelled).toMatchObject({ status: 'cancelled', dataAbsentReason: { coding: [{ code: 'not-performed' }] } });
  const [observation] = await search<Observation>(
    `Observation?based-on=ServiceRequest/${order.body.id}&code=http://loinc.org|2345-7`,
  );
  expect(observation.referenceRange?.[0]).toMatchObject({ low: { value: 3.9 }, high: { value: 5.5 }, text: '3.9-5.5' });
});

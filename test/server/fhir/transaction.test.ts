// Transaction Bundles (POST [base] with Bundle.type = transaction), per FHIR R4 http.html#transaction: atomicity,
// the DELETE -> POST -> PUT/PATCH -> GET processing order, urn:uuid and conditional reference resolution,
// conditional create, version-aware entries, and the shape of the transaction-response Bundle.
import type {
  Bundle,
  BundleEntry,
  BundleEntryRequest,
  Observation,
  OperationOutcome,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { bundleOf, bundleTestKit, entry } from '../../support/bundles';
import { BASE_URL, FHIR_JSON, observation, startTestApp, type TestApp } from '../../support/app';

const IDENTIFIER_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5.99';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let testApp: TestApp;
const { uniqueValue, identified, postBundle, createPatient, findByIdentifier } = bundleTestKit(
  () => testApp,
  IDENTIFIER_SYSTEM,
);

beforeAll(async () => {
  testApp = await startTestApp();
});

afterAll(async () => {
  await testApp.close();
});

function observationOf(subject: string, value: string, overrides: Record<string, unknown> = {}): Observation {
  return observation(subject, {
    identifier: [{ system: IDENTIFIER_SYSTEM, value }],
    ...overrides,
  }) as unknown as Observation;
}

async function read<T extends Resource>(reference: string): Promise<{ status: number; body: T }> {
  const res = await testApp.api().get(`/fhir/${reference}`);
  return { status: res.status, body: res.body as T };
}

/** `Observation/<id>` of every Observation whose subject is `reference`, found by search. */
async function subjectsObservations(reference: string): Promise<string[]> {
  const res = await testApp.api().get(`/fhir/Observation?subject=${reference}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => `Observation/${e.resource?.id}`);
}

function responseEntries(res: Response): BundleEntry[] {
  expect(res.status).toBe(200);
  const bundle = res.body as Bundle;
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('transaction-response');
  return bundle.entry ?? [];
}

/** `Patient/abc/_history/1` -> `Patient/abc`. */
function referenceOf(location: string | undefined): string {
  const match = /^(?:.*\/)?([A-Z][A-Za-z]+\/[^/]+)\/_history\/\d+$/.exec(location ?? '');
  if (!match) throw new Error(`not a version location: ${location}`);
  return match[1];
}

function expectOutcomeAt(res: Response, status: number, expression: string): OperationOutcome {
  expect(res.status).toBe(status);
  const outcome = res.body as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  const expressions = (outcome.issue ?? []).flatMap((i) => i.expression ?? []);
  expect(expressions).toContain(expression);
  expect(outcome.issue?.every((i) => i.severity === 'error' || i.severity === 'fatal')).toBe(true);
  return outcome;
}

function patchBinary(operations: unknown[]): Resource {
  return {
    resourceType: 'Binary',
    contentType: 'application/json-patch+json',
    data: Buffer.from(JSON.stringify(operations)).toString('base64'),
  };
}

describe('atomicity', () => {
  test('one invalid entry rejects the whole transaction with an OperationOutcome naming Bundle.entry[i]', async () => {
    const patientValue = uniqueValue('atomic-patient');
    const observationValue = uniqueValue('atomic-observation');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', {
          fullUrl: 'urn:uuid:7d3e3a2c-0001-4000-8000-000000000001',
          resource: identified(patientValue),
        }),
        entry('POST', 'Observation', {
          resource: observationOf('urn:uuid:7d3e3a2c-0001-4000-8000-000000000001', observationValue),
        }),
        entry('POST', 'Patient', { resource: identified(uniqueValue('invalid'), { birthDate: 'yesterday' }) }),
      ]),
    );
    const outcome = expectOutcomeAt(res, 400, 'Bundle.entry[2]');
    expect(outcome.issue?.flatMap((i) => i.expression ?? [])).toContain('Patient.birthDate');
    expect(await findByIdentifier('Patient', patientValue)).toHaveLength(0);
    expect(await findByIdentifier('Observation', observationValue)).toHaveLength(0);
  });

  test('a failure after a processed DELETE rolls the DELETE back', async () => {
    const existing = await createPatient(uniqueValue('survivor'));
    const res = await postBundle(
      bundleOf('transaction', [
        entry('DELETE', `Patient/${existing.id}`),
        // The body's id does not match the URL: 400 while processing the PUT, after the DELETE ran.
        entry('PUT', 'Patient/tx-mismatch-1', { resource: { ...identified(uniqueValue('mismatch')), id: 'other-id' } }),
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[1]');
    const after = await read<Patient>(`Patient/${existing.id}`);
    expect(after.status).toBe(200);
    expect(after.body.meta?.versionId).toBe('1');
    expect((await read('Patient/tx-mismatch-1')).status).toBe(404);
  });

  test('an entry with a stale If-Match fails the transaction with 412 and nothing is stored', async () => {
    const value = uniqueValue('if-match');
    const existing = await createPatient(value);
    const updated = await testApp
      .api()
      .put(`/fhir/Patient/${existing.id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...existing, gender: 'other' });
    expect(updated.status).toBe(200);
    const bystander = uniqueValue('bystander');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(bystander) }),
        entry('PUT', `Patient/${existing.id}`, {
          resource: { ...identified(value), id: existing.id, gender: 'male' },
          request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"1"' },
        }),
      ]),
    );
    expectOutcomeAt(res, 412, 'Bundle.entry[1]');
    expect(await findByIdentifier('Patient', bystander)).toHaveLength(0);
    const after = await read<Patient>(`Patient/${existing.id}`);
    expect(after.body.meta?.versionId).toBe('2');
    expect(after.body.gender).toBe('other');
  });

  test('an entry with the current version in If-Match is applied', async () => {
    const value = uniqueValue('if-match-ok');
    const existing = await createPatient(value);
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient/${existing.id}`, {
          resource: { ...identified(value), id: existing.id, gender: 'male' },
          request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"1"' },
        }),
      ]),
    );
    const [updated] = responseEntries(res);
    expect(updated.response?.status).toBe('200 OK');
    expect(updated.response?.etag).toBe('W/"2"');
    expect((await read<Patient>(`Patient/${existing.id}`)).body.gender).toBe('male');
  });
});

describe('processing order (DELETE, POST, PUT/PATCH, GET)', () => {
  test('a GET listed first sees the resources that POST and PUT entries of the same bundle wrote', async () => {
    const value = uniqueValue('order-get');
    const clientId = uniqueValue('order-put');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('GET', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`),
        entry('POST', 'Patient', { resource: identified(value) }),
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(value), id: clientId } }),
      ]),
    );
    const [search, created, put] = responseEntries(res);
    expect(search.response?.status).toBe('200 OK');
    const searchset = search.resource as Bundle;
    expect(searchset.type).toBe('searchset');
    const foundIds = (searchset.entry ?? []).map((e) => e.resource?.id).sort();
    expect(foundIds).toEqual([referenceOf(created.response?.location).split('/')[1], clientId].sort());
    expect(put.response?.status).toBe('201 Created');
  });

  test('a GET listed before a DELETE of the same resource runs after it and no longer finds it', async () => {
    const value = uniqueValue('order-delete');
    const existing = await createPatient(value);
    const res = await postBundle(
      bundleOf('transaction', [
        entry('GET', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`),
        entry('DELETE', `Patient/${existing.id}`),
      ]),
    );
    const [search, deleted] = responseEntries(res);
    expect((search.resource as Bundle).entry ?? []).toHaveLength(0);
    expect(deleted.response?.status).toBe('204 No Content');
    expect((await read(`Patient/${existing.id}`)).status).toBe(410);
  });

  test('a conditional PUT that would hit the resource a POST in the same bundle creates fails the transaction', async () => {
    // R4 transaction rules: resource identities written in steps 1-3 may not overlap; nothing is stored.
    const value = uniqueValue('order-put-after-post');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`, {
          resource: identified(value, { gender: 'male' }),
        }),
        entry('POST', 'Patient', { resource: identified(value, { gender: 'female' }) }),
      ]),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/more than one entry/);
    expect(await findByIdentifier<Patient>('Patient', value)).toHaveLength(0);
  });

  // R4 transaction order: DELETEs run first, so a conditional create no longer matches what they deleted.
  test('DELETE runs before POST: a conditional create whose only match is deleted in the bundle creates, and references follow it', async () => {
    const value = uniqueValue('delete-then-create');
    const old = await createPatient(value);
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', {
          fullUrl: 'urn:uuid:7d3e3a2c-0002-4000-8000-000000000001',
          resource: identified(value, { gender: 'male' }),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` },
        }),
        entry('POST', 'Observation', {
          resource: observationOf(
            'urn:uuid:7d3e3a2c-0002-4000-8000-000000000001',
            uniqueValue('delete-then-create-obs'),
          ),
        }),
        entry('DELETE', `Patient/${old.id}`),
      ]),
    );
    const [created, obs, deleted] = responseEntries(res);
    expect(deleted.response?.status).toBe('204 No Content');
    expect(created.response?.status).toBe('201 Created');
    const newPatient = referenceOf(created.response?.location);
    expect(newPatient).not.toBe(`Patient/${old.id}`);
    const storedObservation = await read<Observation>(referenceOf(obs.response?.location));
    expect(storedObservation.body.subject?.reference).toBe(newPatient);
    expect((await read(newPatient)).status).toBe(200);
  });

  // "A resource can only appear in a transaction once (by identity)... If any resource identities overlap in
  // steps 1-3, then the transaction SHALL fail" (R4 http.html#trules).
  test('two writes of the same resource identity fail the transaction and store nothing', async () => {
    const clientId = uniqueValue('twice');
    const value = uniqueValue('twice');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(value, { gender: 'male' }), id: clientId } }),
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(value, { gender: 'female' }), id: clientId } }),
      ]),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect((await read(`Patient/${clientId}`)).status).toBe(404);
  });
});

describe('urn:uuid references', () => {
  test('references to a urn:uuid fullUrl become the assigned Type/id, also when the referencing entry comes first', async () => {
    const patientUrl = 'urn:uuid:7d3e3a2c-0003-4000-8000-000000000001';
    const value = uniqueValue('forward');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          fullUrl: 'urn:uuid:7d3e3a2c-0003-4000-8000-000000000002',
          resource: observationOf(patientUrl, uniqueValue('forward-obs')),
        }),
        entry('POST', 'Patient', { fullUrl: patientUrl, resource: identified(value) }),
      ]),
    );
    const [obs, created] = responseEntries(res);
    expect(created.response?.status).toBe('201 Created');
    const patientReference = referenceOf(created.response?.location);
    expect(patientReference).toMatch(/^Patient\/[A-Za-z0-9\-.]{1,64}$/);
    expect(created.fullUrl).toBe(`${BASE_URL}/${patientReference}`);
    // The response body and the stored resource both carry the rewritten reference.
    expect((obs.resource as Observation).subject?.reference).toBe(patientReference);
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(patientReference);
    const [patientRead] = await findByIdentifier<Patient>('Patient', value);
    expect(`Patient/${patientRead.id}`).toBe(patientReference);
    // Indexed with the rewritten reference (on the preparation workers, before the write lock).
    expect(await subjectsObservations(patientReference)).toEqual([referenceOf(obs.response?.location)]);
  });

  test('circular references between two created resources are both resolved', async () => {
    const a = 'urn:uuid:7d3e3a2c-0004-4000-8000-00000000000a';
    const b = 'urn:uuid:7d3e3a2c-0004-4000-8000-00000000000b';
    const subject = await createPatient(uniqueValue('circular'));
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          fullUrl: a,
          resource: observationOf(`Patient/${subject.id}`, uniqueValue('circular-a'), {
            hasMember: [{ reference: b }],
          }),
        }),
        entry('POST', 'Observation', {
          fullUrl: b,
          resource: observationOf(`Patient/${subject.id}`, uniqueValue('circular-b'), {
            hasMember: [{ reference: a }],
          }),
        }),
      ]),
    );
    const [first, second] = responseEntries(res);
    const firstRef = referenceOf(first.response?.location);
    const secondRef = referenceOf(second.response?.location);
    expect((await read<Observation>(firstRef)).body.hasMember?.[0].reference).toBe(secondRef);
    expect((await read<Observation>(secondRef)).body.hasMember?.[0].reference).toBe(firstRef);
    expect((await read<Observation>(firstRef)).body.subject?.reference).toBe(`Patient/${subject.id}`);
  });

  test('a PUT entry with an absolute fullUrl on this server is referenced as Type/id', async () => {
    const clientId = uniqueValue('abs');
    const fullUrl = `${BASE_URL}/Patient/${clientId}`;
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', { resource: observationOf(fullUrl, uniqueValue('abs-obs')) }),
        entry('PUT', `Patient/${clientId}`, { fullUrl, resource: { ...identified(uniqueValue('abs')), id: clientId } }),
      ]),
    );
    const [obs, put] = responseEntries(res);
    expect(put.response?.status).toBe('201 Created');
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(`Patient/${clientId}`);
  });

  // R4 http.html#trules: "For updates, the server performs a mapping between the fullUrl specified and the local URL
  // the server knows that instance as".
  test('a reference to the urn:uuid fullUrl of a conditional update becomes the Type/id it updated', async () => {
    const value = uniqueValue('cond-put-ref');
    const existing = await createPatient(value);
    const patientUrl = 'urn:uuid:7d3e3a2c-000a-4000-8000-000000000001';
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`, {
          fullUrl: patientUrl,
          resource: identified(value, { gender: 'male' }),
        }),
        entry('POST', 'Observation', { resource: observationOf(patientUrl, uniqueValue('cond-put-ref-obs')) }),
      ]),
    );
    const [updated, obs] = responseEntries(res);
    expect(updated.response?.status).toBe('200 OK');
    expect(updated.response?.etag).toBe('W/"2"');
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(`Patient/${existing.id}`);
    // Indexed inside the transaction, once the reference was resolved.
    expect(await subjectsObservations(`Patient/${existing.id}`)).toEqual([referenceOf(obs.response?.location)]);
  });

  // R4 http.html#trules: "Servers SHALL replace all matching links in
  // the bundle, whether they are found in ... elements of type uri, url, ... and <a href="" & <img src="" in the
  // narrative."
  test('a urn:uuid in the narrative (<a href>) is replaced like a reference', async () => {
    const patientUrl = 'urn:uuid:7d3e3a2c-0005-4000-8000-000000000001';
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { fullUrl: patientUrl, resource: identified(uniqueValue('narrative')) }),
        entry('POST', 'Observation', {
          resource: observationOf(patientUrl, uniqueValue('narrative-obs'), {
            text: {
              status: 'generated',
              div: `<div xmlns="http://www.w3.org/1999/xhtml">Heart rate of <a href="${patientUrl}">the patient</a></div>`,
            },
          }),
        }),
      ]),
    );
    const [created, obs] = responseEntries(res);
    const patientReference = referenceOf(created.response?.location);
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(patientReference);
    expect(stored.body.text?.div).not.toContain(patientUrl);
    expect(stored.body.text?.div).toContain(patientReference);
  });
});

describe('conditional create (ifNoneExist)', () => {
  test('a match answers 200 OK with the existing resource, creates nothing, and references point at it', async () => {
    const value = uniqueValue('cond-create-match');
    const existing = await createPatient(value);
    const patientUrl = 'urn:uuid:7d3e3a2c-0006-4000-8000-000000000001';
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', {
          fullUrl: patientUrl,
          resource: identified(value, { gender: 'male' }),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` },
        }),
        entry('POST', 'Observation', { resource: observationOf(patientUrl, uniqueValue('cond-create-obs')) }),
      ]),
    );
    const [matched, obs] = responseEntries(res);
    expect(matched.response?.status).toBe('200 OK');
    expect(referenceOf(matched.response?.location)).toBe(`Patient/${existing.id}`);
    expect(matched.response?.etag).toBe('W/"1"');
    expect(obs.response?.status).toBe('201 Created');
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(`Patient/${existing.id}`);
    const patients = await findByIdentifier<Patient>('Patient', value);
    expect(patients.map((p) => p.id)).toEqual([existing.id]);
    expect(patients[0].gender).toBe('female');
  });

  test('no match creates the resource (201 Created) and references point at the new one', async () => {
    const value = uniqueValue('cond-create-new');
    const patientUrl = 'urn:uuid:7d3e3a2c-0007-4000-8000-000000000001';
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', { resource: observationOf(patientUrl, uniqueValue('cond-create-new-obs')) }),
        entry('POST', 'Patient', {
          fullUrl: patientUrl,
          resource: identified(value),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` },
        }),
      ]),
    );
    const [obs, created] = responseEntries(res);
    expect(created.response?.status).toBe('201 Created');
    const patientReference = referenceOf(created.response?.location);
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(patientReference);
    expect((await findByIdentifier<Patient>('Patient', value)).map((p) => `Patient/${p.id}`)).toEqual([
      patientReference,
    ]);
  });

  test('ifNoneExist matching several resources fails the transaction with 412', async () => {
    const value = uniqueValue('cond-create-many');
    await createPatient(value);
    await createPatient(value);
    const bystander = uniqueValue('cond-create-many-bystander');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(bystander) }),
        entry('POST', 'Patient', {
          resource: identified(value),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` },
        }),
      ]),
    );
    expect(res.status).toBe(412);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect(await findByIdentifier('Patient', bystander)).toHaveLength(0);
    expect(await findByIdentifier('Patient', value)).toHaveLength(2);
  });
});

describe('conditional references', () => {
  test('Patient?identifier=system|value is replaced by the single matching Patient', async () => {
    const value = uniqueValue('cond-ref');
    const existing = await createPatient(value);
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          resource: observationOf(`Patient?identifier=${IDENTIFIER_SYSTEM}|${value}`, uniqueValue('cond-ref-obs')),
        }),
      ]),
    );
    const [obs] = responseEntries(res);
    expect(obs.response?.status).toBe('201 Created');
    expect((obs.resource as Observation).subject?.reference).toBe(`Patient/${existing.id}`);
    const stored = await read<Observation>(referenceOf(obs.response?.location));
    expect(stored.body.subject?.reference).toBe(`Patient/${existing.id}`);
  });

  test('a conditional reference matching no resource fails with 412 naming the entry, and nothing is stored', async () => {
    const bystander = uniqueValue('cond-ref-none-bystander');
    const observationValue = uniqueValue('cond-ref-none-obs');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(bystander) }),
        entry('POST', 'Observation', {
          resource: observationOf(`Patient?identifier=${IDENTIFIER_SYSTEM}|${uniqueValue('nobody')}`, observationValue),
        }),
      ]),
    );
    expectOutcomeAt(res, 412, 'Bundle.entry[1]');
    expect(await findByIdentifier('Patient', bystander)).toHaveLength(0);
    expect(await findByIdentifier('Observation', observationValue)).toHaveLength(0);
  });

  test('a conditional reference with an unknown search parameter is rejected with 400', async () => {
    const observationValue = uniqueValue('cond-ref-unknown-obs');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', { resource: observationOf('Patient?no-such-param=1', observationValue) }),
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[0]');
    expect(await findByIdentifier('Observation', observationValue)).toHaveLength(0);
  });

  test('a conditional reference matching several resources fails with 412', async () => {
    const value = uniqueValue('cond-ref-many');
    await createPatient(value);
    await createPatient(value);
    const observationValue = uniqueValue('cond-ref-many-obs');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          resource: observationOf(`Patient?identifier=${IDENTIFIER_SYSTEM}|${value}`, observationValue),
        }),
      ]),
    );
    expectOutcomeAt(res, 412, 'Bundle.entry[0]');
    expect(await findByIdentifier('Observation', observationValue)).toHaveLength(0);
  });
});

describe('PUT and PATCH entries', () => {
  test('PUT with a client id creates the resource (update-as-create), a later PUT updates it', async () => {
    const clientId = uniqueValue('client');
    const value = uniqueValue('put-create');
    const first = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(value), id: clientId } }),
      ]),
    );
    const [created] = responseEntries(first);
    expect(created.response?.status).toBe('201 Created');
    expect(created.response?.location).toBe(`Patient/${clientId}/_history/1`);
    expect(created.response?.etag).toBe('W/"1"');
    expect(created.fullUrl).toBe(`${BASE_URL}/Patient/${clientId}`);

    const second = await postBundle(
      bundleOf('transaction', [
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(value, { gender: 'male' }), id: clientId } }),
      ]),
    );
    const [updated] = responseEntries(second);
    expect(updated.response?.status).toBe('200 OK');
    expect(updated.response?.etag).toBe('W/"2"');
    const stored = await read<Patient>(`Patient/${clientId}`);
    expect(stored.body.meta?.versionId).toBe('2');
    expect(stored.body.gender).toBe('male');
  });

  // A PATCH entry carries its JSON Patch as a Binary resource (R4 http.html#patch).
  test('a PATCH entry carried as a Binary (application/json-patch+json, base64 data) is applied', async () => {
    const existing = await createPatient(uniqueValue('patch'));
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PATCH', `Patient/${existing.id}`, {
          resource: patchBinary([
            { op: 'test', path: '/gender', value: 'female' },
            { op: 'replace', path: '/gender', value: 'male' },
          ]),
        }),
      ]),
    );
    const [patched] = responseEntries(res);
    expect(patched.response?.status).toBe('200 OK');
    expect(patched.response?.etag).toBe('W/"2"');
    const stored = await read<Patient>(`Patient/${existing.id}`);
    expect(stored.body.gender).toBe('male');
    expect(stored.body.meta?.versionId).toBe('2');
  });

  test('a PATCH entry whose resource is not a JSON Patch Binary is rejected with 400', async () => {
    const existing = await createPatient(uniqueValue('patch-bad'));
    const res = await postBundle(
      bundleOf('transaction', [
        entry('PATCH', `Patient/${existing.id}`, { resource: identified(uniqueValue('patch-bad-body')) }),
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[0].resource');
    expect((await read<Patient>(`Patient/${existing.id}`)).body.meta?.versionId).toBe('1');
  });
});

describe('the transaction-response Bundle', () => {
  test('has one entry per request entry, in request order, with status, location, etag and lastModified', async () => {
    const toDelete = await createPatient(uniqueValue('resp-delete'));
    const toUpdate = await createPatient(uniqueValue('resp-update'));
    const toRead = await createPatient(uniqueValue('resp-read'));
    const newValue = uniqueValue('resp-create');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('GET', `Patient/${toRead.id}`),
        entry('PUT', `Patient/${toUpdate.id}`, { resource: { ...toUpdate, gender: 'male' } }),
        entry('POST', 'Patient', { resource: identified(newValue) }),
        entry('DELETE', `Patient/${toDelete.id}`),
      ]),
    );
    const entries = responseEntries(res);
    expect(entries).toHaveLength(4);
    const [readEntry, updateEntry, createEntry, deleteEntry] = entries;

    expect(readEntry.response?.status).toBe('200 OK');
    expect((readEntry.resource as Patient).id).toBe(toRead.id);
    expect(readEntry.response?.etag).toBe('W/"1"');

    expect(updateEntry.response?.status).toBe('200 OK');
    expect(updateEntry.response?.etag).toBe('W/"2"');
    expect(updateEntry.response?.lastModified).toMatch(ISO_INSTANT);
    expect((updateEntry.resource as Patient).gender).toBe('male');
    expect((updateEntry.resource as Patient).meta?.versionId).toBe('2');

    expect(createEntry.response?.status).toBe('201 Created');
    expect(createEntry.response?.location).toMatch(/^Patient\/[A-Za-z0-9\-.]{1,64}\/_history\/1$/);
    expect(createEntry.response?.etag).toBe('W/"1"');
    expect(createEntry.response?.lastModified).toMatch(ISO_INSTANT);
    const created = createEntry.resource as Patient;
    expect(`Patient/${created.id}`).toBe(referenceOf(createEntry.response?.location));
    expect(created.meta?.lastUpdated).toBe(createEntry.response?.lastModified);

    expect(deleteEntry.response?.status).toBe('204 No Content');
    expect(deleteEntry.resource).toBeUndefined();
    expect((await read(`Patient/${toDelete.id}`)).status).toBe(410);
    expect((await read<Patient>(`Patient/${toUpdate.id}`)).body.gender).toBe('male');
  });

  test('Prefer: return=minimal omits the resources of write entries but keeps their response details', async () => {
    const clientId = uniqueValue('minimal');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(uniqueValue('minimal')) }),
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(uniqueValue('minimal-put')), id: clientId } }),
      ]),
      { Prefer: 'return=minimal' },
    );
    const entries = responseEntries(res);
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      expect(e.resource).toBeUndefined();
      expect(e.response?.status).toBe('201 Created');
      expect(e.response?.location).toMatch(/^Patient\/[^/]+\/_history\/1$/);
      expect(e.response?.etag).toBe('W/"1"');
    }
    expect((await read(`Patient/${clientId}`)).status).toBe(200);
  });

  test('Prefer: return=representation includes the stored resources', async () => {
    const res = await postBundle(
      bundleOf('transaction', [entry('POST', 'Patient', { resource: identified(uniqueValue('repr')) })]),
      {
        Prefer: 'return=representation',
      },
    );
    const [created] = responseEntries(res);
    const resource = created.resource as Patient;
    expect(resource.resourceType).toBe('Patient');
    expect(resource.meta?.versionId).toBe('1');
  });

  test('an empty transaction succeeds with an empty transaction-response', async () => {
    const res = await postBundle({ resourceType: 'Bundle', type: 'transaction' });
    expect(res.status).toBe(200);
    expect((res.body as Bundle).type).toBe('transaction-response');
    expect((res.body as Bundle).entry ?? []).toHaveLength(0);
  });
});

describe('malformed transaction Bundles', () => {
  test('a Bundle that is neither batch nor transaction is rejected with 400', async () => {
    const value = uniqueValue('collection');
    const res = await postBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:7d3e3a2c-0008-4000-8000-000000000001', resource: identified(value) }],
    });
    expectOutcomeAt(res, 400, 'Bundle.type');
    expect(await findByIdentifier('Patient', value)).toHaveLength(0);
  });

  test('a body that is not a Bundle is rejected with 400', async () => {
    const value = uniqueValue('not-a-bundle');
    const res = await postBundle(identified(value));
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect(await findByIdentifier('Patient', value)).toHaveLength(0);
  });

  test('an entry without request.method is rejected with 400 and nothing is stored', async () => {
    const value = uniqueValue('no-method');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(value) }),
        { resource: identified(uniqueValue('no-method-2')), request: { url: 'Patient' } as BundleEntryRequest },
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[1].request.method');
    expect(await findByIdentifier('Patient', value)).toHaveLength(0);
  });

  test('an entry without request at all is rejected with 400', async () => {
    const res = await postBundle(bundleOf('transaction', [{ resource: identified(uniqueValue('no-request')) }]));
    expectOutcomeAt(res, 400, 'Bundle.entry[0].request.method');
  });

  test('an entry without request.url is rejected with 400', async () => {
    const value = uniqueValue('no-url');
    const res = await postBundle(
      bundleOf('transaction', [{ resource: identified(value), request: { method: 'POST' } as BundleEntryRequest }]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[0].request.url');
    expect(await findByIdentifier('Patient', value)).toHaveLength(0);
  });

  test('an unknown request.method is rejected with 400', async () => {
    const res = await postBundle(
      bundleOf('transaction', [
        {
          resource: identified(uniqueValue('bad-method')),
          request: { method: 'MERGE', url: 'Patient' },
        } as unknown as BundleEntry,
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[0].request.method');
  });

  test('an entry URL on another server is rejected with 400', async () => {
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'http://elsewhere.example.org/fhir/Patient', { resource: identified(uniqueValue('x')) }),
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[0].request.url');
  });

  test('a duplicate fullUrl is rejected with 400 and nothing is stored', async () => {
    const fullUrl = 'urn:uuid:7d3e3a2c-0009-4000-8000-000000000001';
    const first = uniqueValue('dup-1');
    const second = uniqueValue('dup-2');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { fullUrl, resource: identified(first) }),
        entry('POST', 'Patient', { fullUrl, resource: identified(second) }),
      ]),
    );
    expectOutcomeAt(res, 400, 'Bundle.entry[1]');
    expect(await findByIdentifier('Patient', first)).toHaveLength(0);
    expect(await findByIdentifier('Patient', second)).toHaveLength(0);
  });

  test('an entry for an unknown resource type fails the transaction with 404', async () => {
    const value = uniqueValue('unknown-type');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: identified(value) }),
        entry('GET', 'NoSuchType/1'),
      ]),
    );
    expectOutcomeAt(res, 404, 'Bundle.entry[1]');
    expect(await findByIdentifier('Patient', value)).toHaveLength(0);
  });
});

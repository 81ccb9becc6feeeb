// Batch Bundles (POST [base] with Bundle.type = batch), per FHIR R4 http.html#brules: every entry is processed
// on its own, a failing entry gets its own 4xx status and OperationOutcome while the others succeed, and the
// HTTP status of the batch itself is 200 with a batch-response Bundle.
import type { Bundle, BundleEntry, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { bundleOf, bundleTestKit, entry } from '../../support/bundles';
import { BASE_URL, FHIR_JSON, startTestApp, type TestApp } from '../../support/app';

const IDENTIFIER_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5.98';

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

function responseEntries(res: Response, count: number): BundleEntry[] {
  expect(res.status).toBe(200);
  const bundle = res.body as Bundle;
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('batch-response');
  expect(bundle.entry).toHaveLength(count);
  return bundle.entry ?? [];
}

/** The entry failed with this HTTP status and explains why in response.outcome. */
function expectEntryFailure(e: BundleEntry, status: number): OperationOutcome {
  expect(e.response?.status).toMatch(new RegExp(`^${status}( |$)`));
  expect(e.resource).toBeUndefined();
  const outcome = e.response?.outcome as OperationOutcome | undefined;
  expect(outcome?.resourceType).toBe('OperationOutcome');
  expect(outcome?.issue?.some((i) => i.severity === 'error')).toBe(true);
  return outcome as OperationOutcome;
}

function patchBinary(operations: unknown[]): Resource {
  return {
    resourceType: 'Binary',
    contentType: 'application/json-patch+json',
    data: Buffer.from(JSON.stringify(operations)).toString('base64'),
  };
}

describe('independent entries', () => {
  test('a failing entry gets its own 4xx and OperationOutcome while the other entries succeed and are stored', async () => {
    const first = uniqueValue('ok-1');
    const invalid = uniqueValue('invalid');
    const clientId = uniqueValue('batch-put');
    const res = await postBundle(
      bundleOf('batch', [
        entry('POST', 'Patient', { resource: identified(first) }),
        entry('POST', 'Patient', { resource: identified(invalid, { birthDate: 'yesterday' }) }),
        entry('PUT', `Patient/${clientId}`, { resource: { ...identified(uniqueValue('put')), id: clientId } }),
        entry('GET', 'Patient/does-not-exist'),
      ]),
    );
    const [created, rejected, put, missing] = responseEntries(res, 4);

    expect(created.response?.status).toBe('201 Created');
    expect(created.response?.location).toMatch(/^Patient\/[A-Za-z0-9\-.]{1,64}\/_history\/1$/);
    expect(created.response?.etag).toBe('W/"1"');
    expect((created.resource as Patient).identifier?.[0].value).toBe(first);

    const outcome = expectEntryFailure(rejected, 400);
    expect(outcome.issue?.flatMap((i) => i.expression ?? [])).toContain('Patient.birthDate');

    expect(put.response?.status).toBe('201 Created');
    expect(put.response?.location).toBe(`Patient/${clientId}/_history/1`);
    expect(put.fullUrl).toBe(`${BASE_URL}/Patient/${clientId}`);

    expectEntryFailure(missing, 404);

    expect(await findByIdentifier<Patient>('Patient', first)).toHaveLength(1);
    expect(await findByIdentifier<Patient>('Patient', invalid)).toHaveLength(0);
    expect((await testApp.api().get(`/fhir/Patient/${clientId}`)).status).toBe(200);
  });

  test('a stale If-Match fails only its own entry with 412', async () => {
    const existing = await createPatient(uniqueValue('stale'));
    const other = uniqueValue('stale-other');
    const res = await postBundle(
      bundleOf('batch', [
        entry('PUT', `Patient/${existing.id}`, {
          resource: { ...existing, gender: 'male' },
          request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"7"' },
        }),
        entry('POST', 'Patient', { resource: identified(other) }),
      ]),
    );
    const [conflict, created] = responseEntries(res, 2);
    expectEntryFailure(conflict, 412);
    expect(created.response?.status).toBe('201 Created');
    const stored = await testApp.api().get(`/fhir/Patient/${existing.id}`);
    expect((stored.body as Patient).meta?.versionId).toBe('1');
    expect((stored.body as Patient).gender).toBe('female');
    expect(await findByIdentifier<Patient>('Patient', other)).toHaveLength(1);
  });

  test('DELETE entries answer 204 No Content and the resource is gone afterwards', async () => {
    const existing = await createPatient(uniqueValue('delete'));
    const res = await postBundle(bundleOf('batch', [entry('DELETE', `Patient/${existing.id}`)]));
    const [deleted] = responseEntries(res, 1);
    expect(deleted.response?.status).toBe('204 No Content');
    expect(deleted.resource).toBeUndefined();
    expect((await testApp.api().get(`/fhir/Patient/${existing.id}`)).status).toBe(410);
  });

  test('a conditional create that matches answers 200 OK with the existing resource', async () => {
    const value = uniqueValue('cond');
    const existing = await createPatient(value);
    const res = await postBundle(
      bundleOf('batch', [
        entry('POST', 'Patient', {
          resource: identified(value, { gender: 'male' }),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` },
        }),
      ]),
    );
    const [matched] = responseEntries(res, 1);
    expect(matched.response?.status).toBe('200 OK');
    expect(matched.response?.location).toBe(`Patient/${existing.id}/_history/1`);
    expect(await findByIdentifier<Patient>('Patient', value)).toHaveLength(1);
  });

  test('a PATCH entry carried as a Binary is applied', async () => {
    const existing = await createPatient(uniqueValue('patch'));
    const res = await postBundle(
      bundleOf('batch', [
        entry('PATCH', `Patient/${existing.id}`, {
          resource: patchBinary([{ op: 'replace', path: '/gender', value: 'other' }]),
        }),
      ]),
    );
    const [patched] = responseEntries(res, 1);
    expect(patched.response?.status).toBe('200 OK');
    expect(patched.response?.etag).toBe('W/"2"');
    expect((patched.resource as Patient).gender).toBe('other');
    const stored = await testApp.api().get(`/fhir/Patient/${existing.id}`);
    expect((stored.body as Patient).gender).toBe('other');
  });

  // R4 batch: every entry gets its own response, even one that fails for an unexpected reason.
  test('an entry that fails unexpectedly is reported in its own entry; the batch still answers 200', async () => {
    const existing = await createPatient(uniqueValue('unexpected'));
    const survivor = uniqueValue('unexpected-survivor');
    const res = await postBundle(
      bundleOf('batch', [
        entry('POST', 'Patient', { resource: identified(survivor) }),
        // A JSON Patch `move` into its own child: fast-json-patch throws a TypeError, not a JsonPatchError.
        entry('PATCH', `Patient/${existing.id}`, {
          resource: patchBinary([{ op: 'move', from: '/name', path: '/name/0' }]),
        }),
      ]),
    );
    // The POST is committed whatever the batch answers; the client must be told so.
    expect(await findByIdentifier<Patient>('Patient', survivor)).toHaveLength(1);
    const [created, failed] = responseEntries(res, 2);
    expect(created.response?.status).toBe('201 Created');
    expect(failed.response?.status).not.toMatch(/^2/);
    expect((failed.response?.outcome as OperationOutcome | undefined)?.resourceType).toBe('OperationOutcome');
  });

  // RFC 6902 §4.4: "The from location MUST NOT be a proper prefix of the path location": a client error.
  test('a PATCH entry moving a value into its own child is a client error (4xx)', async () => {
    const existing = await createPatient(uniqueValue('move-into-child'));
    const res = await postBundle(
      bundleOf('batch', [
        entry('PATCH', `Patient/${existing.id}`, {
          resource: patchBinary([{ op: 'move', from: '/name', path: '/name/0' }]),
        }),
      ]),
    );
    const [failed] = responseEntries(res, 1);
    expect(failed.response?.status).toMatch(/^4\d\d/);
    const stored = await testApp.api().get(`/fhir/Patient/${existing.id}`);
    expect((stored.body as Patient).meta?.versionId).toBe('1');
  });

  test('a PATCH entry whose test operation fails gets 422 and leaves the resource unchanged', async () => {
    const existing = await createPatient(uniqueValue('patch-test'));
    const res = await postBundle(
      bundleOf('batch', [
        entry('PATCH', `Patient/${existing.id}`, {
          resource: patchBinary([
            { op: 'test', path: '/gender', value: 'male' },
            { op: 'replace', path: '/gender', value: 'other' },
          ]),
        }),
      ]),
    );
    const [failed] = responseEntries(res, 1);
    expectEntryFailure(failed, 422);
    const stored = await testApp.api().get(`/fhir/Patient/${existing.id}`);
    expect((stored.body as Patient).meta?.versionId).toBe('1');
  });
});

describe('GET entries', () => {
  test('read, vread and search entries return their resources', async () => {
    const value = uniqueValue('get');
    const existing = await createPatient(value);
    const update = await testApp
      .api()
      .put(`/fhir/Patient/${existing.id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...existing, gender: 'other' });
    expect(update.status).toBe(200);
    const res = await postBundle(
      bundleOf('batch', [
        entry('GET', `Patient/${existing.id}`),
        entry('GET', `Patient/${existing.id}/_history/1`),
        entry('GET', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`),
        entry('GET', `${BASE_URL}/Patient/${existing.id}`),
      ]),
    );
    const [readEntry, vreadEntry, searchEntry, absoluteEntry] = responseEntries(res, 4);

    expect(readEntry.response?.status).toBe('200 OK');
    expect(readEntry.response?.etag).toBe('W/"2"');
    expect((readEntry.resource as Patient).gender).toBe('other');

    expect(vreadEntry.response?.status).toBe('200 OK');
    expect(vreadEntry.response?.etag).toBe('W/"1"');
    expect((vreadEntry.resource as Patient).gender).toBe('female');
    expect((vreadEntry.resource as Patient).meta?.versionId).toBe('1');

    expect(searchEntry.response?.status).toBe('200 OK');
    const searchset = searchEntry.resource as Bundle;
    expect(searchset.resourceType).toBe('Bundle');
    expect(searchset.type).toBe('searchset');
    expect(searchset.total).toBe(1);
    expect(searchset.entry?.map((e) => e.resource?.id)).toEqual([existing.id]);

    expect(absoluteEntry.response?.status).toBe('200 OK');
    expect((absoluteEntry.resource as Patient).id).toBe(existing.id);
  });

  test('a GET of a deleted resource answers 410 in its entry', async () => {
    const existing = await createPatient(uniqueValue('gone'));
    expect((await testApp.api().delete(`/fhir/Patient/${existing.id}`)).status).toBe(204);
    const res = await postBundle(bundleOf('batch', [entry('GET', `Patient/${existing.id}`), entry('GET', 'metadata')]));
    const [gone, metadata] = responseEntries(res, 2);
    expectEntryFailure(gone, 410);
    expect(metadata.response?.status).toBe('200 OK');
    expect(metadata.resource?.resourceType).toBe('CapabilityStatement');
  });

  test('a GET with unknown search parameters under Prefer: handling=strict fails alone with 400', async () => {
    const value = uniqueValue('strict');
    await createPatient(value);
    const res = await postBundle(
      bundleOf('batch', [
        entry('GET', 'Patient?no-such-parameter=1'),
        entry('GET', `Patient?identifier=${encodeURIComponent(`${IDENTIFIER_SYSTEM}|${value}`)}`),
      ]),
      { Prefer: 'handling=strict' },
    );
    const [strict, ok] = responseEntries(res, 2);
    expectEntryFailure(strict, 400);
    expect((ok.resource as Bundle).total).toBe(1);
  });
});

describe('invalid entry shapes are reported per entry', () => {
  test('entries without request, request.method or request.url, or with an unknown method, each fail with 400', async () => {
    const survivor = uniqueValue('survivor');
    const res = await postBundle(
      bundleOf('batch', [
        { resource: identified(uniqueValue('no-request')) },
        { resource: identified(uniqueValue('no-method')), request: { url: 'Patient' } },
        { resource: identified(uniqueValue('no-url')), request: { method: 'POST' } },
        { resource: identified(uniqueValue('bad-method')), request: { method: 'MERGE', url: 'Patient' } },
        entry('POST', 'Patient', { resource: identified(survivor) }),
      ]),
    );
    const entries = responseEntries(res, 5);
    const expressions = entries.slice(0, 4).map((e) => expectEntryFailure(e, 400).issue?.[0].expression?.[0]);
    expect(expressions).toEqual([
      'Bundle.entry[0].request.method',
      'Bundle.entry[1].request.method',
      'Bundle.entry[2].request.url',
      'Bundle.entry[3].request.method',
    ]);
    expect(entries[4].response?.status).toBe('201 Created');
    expect(await findByIdentifier<Patient>('Patient', survivor)).toHaveLength(1);
  });

  test('a null entry, a POST without a resource, and a type mismatch each fail alone', async () => {
    const survivor = uniqueValue('survivor-2');
    const res = await postBundle(
      bundleOf('batch', [
        null,
        entry('POST', 'Patient'),
        entry('POST', 'Observation', { resource: identified(uniqueValue('mismatch')) }),
        entry('GET', 'NoSuchType/1'),
        entry('POST', 'Patient', { resource: identified(survivor) }),
      ]),
    );
    const [nullEntry, noResource, mismatch, unknownType, created] = responseEntries(res, 5);
    expectEntryFailure(nullEntry, 400);
    expectEntryFailure(noResource, 400);
    expectEntryFailure(mismatch, 400);
    expectEntryFailure(unknownType, 404);
    expect(created.response?.status).toBe('201 Created');
    expect(await findByIdentifier<Patient>('Patient', survivor)).toHaveLength(1);
  });

  test('a method not allowed on the URL fails alone with 405', async () => {
    const res = await postBundle(bundleOf('batch', [entry('DELETE', 'metadata'), entry('GET', 'metadata')]));
    const [notAllowed, ok] = responseEntries(res, 2);
    expectEntryFailure(notAllowed, 405);
    expect(ok.response?.status).toBe('200 OK');
  });
});

describe('the batch-response Bundle', () => {
  test('Prefer: return=minimal omits the resources of writes but keeps those of reads', async () => {
    const existing = await createPatient(uniqueValue('minimal-read'));
    const res = await postBundle(
      bundleOf('batch', [
        entry('POST', 'Patient', { resource: identified(uniqueValue('minimal')) }),
        entry('GET', `Patient/${existing.id}`),
      ]),
      { Prefer: 'return=minimal' },
    );
    const [created, readEntry] = responseEntries(res, 2);
    expect(created.response?.status).toBe('201 Created');
    expect(created.response?.location).toMatch(/^Patient\/[^/]+\/_history\/1$/);
    expect(created.resource).toBeUndefined();
    expect((readEntry.resource as Patient).id).toBe(existing.id);
  });

  test('an empty batch answers an empty batch-response', async () => {
    const res = await postBundle({ resourceType: 'Bundle', type: 'batch' });
    expect(res.status).toBe(200);
    expect((res.body as Bundle).type).toBe('batch-response');
    expect((res.body as Bundle).entry ?? []).toHaveLength(0);
  });

  test('many entries keep their request order in the response', async () => {
    const values = Array.from({ length: 12 }, (_, i) => uniqueValue(`order-${i}`));
    const res = await postBundle(
      bundleOf(
        'batch',
        values.map((value) => entry('POST', 'Patient', { resource: identified(value) })),
      ),
    );
    const entries = responseEntries(res, values.length);
    entries.forEach((e, i) => {
      expect(e.response?.status).toBe('201 Created');
      expect((e.resource as Patient).identifier?.[0].value).toBe(values[i]);
    });
  });
});

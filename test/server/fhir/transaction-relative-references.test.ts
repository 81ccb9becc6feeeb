// Relative references in transaction Bundles, per R4 bundle.html "Resolving references in Bundles": `Type/id`
// is read against the base of the fullUrl of the entry that holds it (the server's base for a urn:uuid
// fullUrl); when that URL is another entry's fullUrl, the reference points at what that entry writes.
// Batch entries are independent (http.html#brules), so a batch rewrites nothing.
import type { Bundle, BundleEntry, Observation } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { bundleOf, bundleTestKit, entry } from '../../support/bundles';
import { BASE_URL, observation, startTestApp, type TestApp } from '../../support/app';

const IDENTIFIER_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5.98';
const OTHER_BASE = 'http://example.com/fhir';

let testApp: TestApp;
const { uniqueValue, identified, postBundle, createPatient } = bundleTestKit(() => testApp, IDENTIFIER_SYSTEM);

beforeAll(async () => {
  testApp = await startTestApp();
});

afterAll(async () => {
  await testApp.close();
});

function responseEntries(res: Response, type: string): BundleEntry[] {
  expect(res.status).toBe(200);
  expect((res.body as Bundle).type).toBe(type);
  return (res.body as Bundle).entry ?? [];
}

/** `Patient/abc/_history/1` -> `Patient/abc`. */
function referenceOf(location: string | undefined): string {
  const match = /^(?:.*\/)?([A-Z][A-Za-z]+\/[^/]+)\/_history\/\d+$/.exec(location ?? '');
  if (!match) throw new Error(`not a version location: ${location}`);
  return match[1];
}

async function storedSubject(location: string | undefined): Promise<string | undefined> {
  const res = await testApp.api().get(`/fhir/${referenceOf(location)}`);
  expect(res.status).toBe(200);
  return (res.body as Observation).subject?.reference;
}

async function observationsOf(subject: string): Promise<string[]> {
  const res = await testApp.api().get(`/fhir/Observation?subject=${subject}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => `Observation/${e.resource?.id}`);
}

/** A Patient and an Observation on `base`, the Observation naming the Patient by the relative `Patient/<id>`. */
function pairOnBase(base: string, clientId: string, patientExtra: Partial<BundleEntry['request']> = {}) {
  return [
    entry('POST', 'Observation', {
      fullUrl: `${base}/Observation/${clientId}-obs`,
      resource: observation(`Patient/${clientId}`) as unknown as Observation,
    }),
    entry('POST', 'Patient', {
      fullUrl: `${base}/Patient/${clientId}`,
      resource: identified(uniqueValue(clientId)),
      request: patientExtra as BundleEntry['request'],
    }),
  ];
}

describe('transaction: relative references', () => {
  test('Patient/0 in an entry whose fullUrl is on the same absolute base becomes the created Patient', async () => {
    const res = await postBundle(bundleOf('transaction', pairOnBase(OTHER_BASE, '0')));
    const [obs, created] = responseEntries(res, 'transaction-response');
    expect(created.response?.status).toBe('201 Created');
    const patient = referenceOf(created.response?.location);
    expect(patient).not.toBe('Patient/0');
    expect((obs.resource as Observation).subject?.reference).toBe(patient);
    expect(await storedSubject(obs.response?.location)).toBe(patient);
    // Indexed with the rewritten reference too.
    expect(await observationsOf(patient)).toEqual([referenceOf(obs.response?.location)]);
  });

  test('also when the Bundle needs lookups under the write lock (a conditional create)', async () => {
    const value = uniqueValue('lookup');
    const res = await postBundle(
      bundleOf(
        'transaction',
        pairOnBase(OTHER_BASE, 'lookup-1', { ifNoneExist: `identifier=${IDENTIFIER_SYSTEM}|${value}` }),
      ),
    );
    const [obs, created] = responseEntries(res, 'transaction-response');
    expect(created.response?.status).toBe('201 Created');
    expect(await storedSubject(obs.response?.location)).toBe(referenceOf(created.response?.location));
  });

  test('a relative reference in an entry with a urn:uuid fullUrl is read against this server base', async () => {
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          fullUrl: 'urn:uuid:5b0e7e32-0001-4000-8000-000000000001',
          resource: observation('Patient/local-1') as unknown as Observation,
        }),
        entry('POST', 'Patient', { fullUrl: `${BASE_URL}/Patient/local-1`, resource: identified(uniqueValue('l')) }),
      ]),
    );
    const [obs, created] = responseEntries(res, 'transaction-response');
    expect(await storedSubject(obs.response?.location)).toBe(referenceOf(created.response?.location));
  });

  test('a relative reference on another base than the target entry fullUrl is left as it is', async () => {
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          fullUrl: 'http://other.example.org/fhir/Observation/7',
          resource: observation('Patient/7') as unknown as Observation,
        }),
        entry('POST', 'Patient', { fullUrl: `${OTHER_BASE}/Patient/7`, resource: identified(uniqueValue('7')) }),
      ]),
    );
    const [obs] = responseEntries(res, 'transaction-response');
    expect(await storedSubject(obs.response?.location)).toBe('Patient/7');
  });

  test('a relative reference that names no entry keeps pointing at the resource on this server', async () => {
    const existing = await createPatient(uniqueValue('existing'));
    const res = await postBundle(
      bundleOf('transaction', [
        ...pairOnBase(OTHER_BASE, 'unrelated'),
        entry('POST', 'Observation', {
          fullUrl: `${OTHER_BASE}/Observation/existing-obs`,
          resource: observation(`Patient/${existing.id}`) as unknown as Observation,
        }),
      ]),
    );
    const [, , obs] = responseEntries(res, 'transaction-response');
    expect(await storedSubject(obs.response?.location)).toBe(`Patient/${existing.id}`);
  });

  test('a PUT entry on an absolute base is named by its relative Type/id', async () => {
    const clientId = uniqueValue('put');
    const res = await postBundle(
      bundleOf('transaction', [
        entry('POST', 'Observation', {
          fullUrl: `${OTHER_BASE}/Observation/put-obs`,
          resource: observation(`Patient/${clientId}`) as unknown as Observation,
        }),
        entry('PUT', `Patient/${clientId}`, {
          fullUrl: `${OTHER_BASE}/Patient/${clientId}`,
          resource: { ...identified(uniqueValue('put')), id: clientId },
        }),
      ]),
    );
    const [obs, put] = responseEntries(res, 'transaction-response');
    expect(put.response?.status).toBe('201 Created');
    expect(await storedSubject(obs.response?.location)).toBe(`Patient/${clientId}`);
  });
});

describe('batch: no rewriting', () => {
  test('batch entries are independent: Patient/0 stays a reference to Patient/0 on this server', async () => {
    const res = await postBundle(bundleOf('batch', pairOnBase(OTHER_BASE, '0')));
    const [obs, created] = responseEntries(res, 'batch-response');
    expect(created.response?.status).toBe('201 Created');
    expect(await storedSubject(obs.response?.location)).toBe('Patient/0');
  });
});

// Reads: the same answer whatever the negotiation path, errors as OperationOutcomes, gzip for large bodies.
import { FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
let id: string;
let bigId: string;
beforeAll(async () => {
  t = await startTestApp();
  id = (await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).body.id;
  const long = {
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(3000)}</div>` },
  };
  bigId = (await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient(long))).body.id;
});
afterAll(() => t.close());

test('a plain read and a read with _format give the same status, headers and body', async () => {
  const fast = await t.api().get(`/fhir/Patient/${id}`).set('X-Request-Id', 'fast-1');
  const full = await t.api().get(`/fhir/Patient/${id}?_format=json`);
  expect(fast.status).toBe(200);
  expect(fast.body).toEqual(full.body);
  for (const header of ['etag', 'last-modified', 'content-type'])
    expect(fast.headers[header]).toBe(full.headers[header]);
  expect(fast.headers['x-request-id']).toBe('fast-1');
  expect(fast.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(fast.body))));
});

test('errors, conditional reads, Accept values and gzip on large bodies', async () => {
  expect((await t.api().get('/fhir/Patient/unknown')).status).toBe(404);
  expect((await t.api().get('/fhir/Nope/1')).status).toBe(404);
  expect((await t.api().get(`/fhir/Patient/${id}`).set('If-None-Match', 'W/"1"')).status).toBe(304);
  expect((await t.api().get(`/fhir/Patient/${id}`).set('Accept', 'application/fhir+xml')).status).toBe(406);
  const plain = await t.api().get(`/fhir/Patient/${id}`).set('Accept', 'application/json');
  expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
  // supertest inflates the body itself; the header shows it was compressed.
  const gzipped = await t.api().get(`/fhir/Patient/${bigId}`).set('Accept-Encoding', 'gzip');
  expect(gzipped.headers['content-encoding']).toBe('gzip');
  expect(gzipped.body.id).toBe(bigId);
  const uncompressed = await t.api().get(`/fhir/Patient/${bigId}`).set('Accept-Encoding', 'identity');
  expect(uncompressed.headers['content-encoding']).toBeUndefined();
  expect(uncompressed.body.id).toBe(bigId);
});

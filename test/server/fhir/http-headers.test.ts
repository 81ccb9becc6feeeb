// The HTTP edge of the FHIR API, per FHIR R4 http.html and RFC 9110: ETag / Last-Modified / Location headers,
// conditional reads (If-None-Match, If-Modified-Since), version-aware updates (If-Match, lost-update prevention),
// Prefer return=..., content negotiation (_format, Accept), _pretty, gzip, X-Request-Id, HEAD, 404 and 405.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { BASE_URL, FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let testApp: TestApp;

beforeAll(async () => {
  testApp = await startTestApp();
});

afterAll(async () => {
  await testApp.close();
});

async function createPatient(overrides: Record<string, unknown> = {}): Promise<Patient> {
  const res = await testApp.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient(overrides));
  expect(res.status).toBe(201);
  return res.body as Patient;
}

function put(resource: Patient, headers: Record<string, string> = {}): Promise<Response> {
  return testApp.api().put(`/fhir/Patient/${resource.id}`).set('Content-Type', FHIR_JSON).set(headers).send(resource);
}

function expectOutcome(res: Response, status: number): OperationOutcome {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const outcome = JSON.parse(res.text) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue?.length).toBeGreaterThan(0);
  return outcome;
}

/** The body as sent, also when supertest did not parse it (application/json vs fhir+json, HEAD, 304). */
function rawBody(res: Response): string {
  return res.text ?? '';
}

/** Last-Modified for a meta.lastUpdated instant: the same moment at HTTP-date (whole second) precision. */
function httpDate(instant: string | undefined): string {
  return new Date(instant as string).toUTCString();
}

describe('ETag, Last-Modified, Location', () => {
  test('create answers 201 with ETag W/"1", Last-Modified, and absolute Location and Content-Location', async () => {
    const res = await testApp.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    expect(res.status).toBe(201);
    const body = res.body as Patient;
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers['last-modified']).toMatch(HTTP_DATE);
    expect(res.headers['last-modified']).toBe(httpDate(body.meta?.lastUpdated));
    const expected = `${BASE_URL}/Patient/${body.id}/_history/1`;
    expect(res.headers.location).toBe(expected);
    expect(res.headers['content-location']).toBe(expected);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  });

  test('read answers ETag and Last-Modified of the current version', async () => {
    const created = await createPatient();
    const res = await testApp.api().get(`/fhir/Patient/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers['last-modified']).toBe(httpDate(created.meta?.lastUpdated));
    expect(res.headers.location).toBeUndefined();
  });

  test('update answers 200 with the new version in ETag and Last-Modified, and no Location', async () => {
    const created = await createPatient();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await put({ ...created, gender: 'male' });
    expect(res.status).toBe(200);
    const body = res.body as Patient;
    expect(body.meta?.versionId).toBe('2');
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.headers['last-modified']).toBe(httpDate(body.meta?.lastUpdated));
    expect(res.headers.location).toBeUndefined();
  });

  test('update-as-create with a client id answers 201 with Location at version 1', async () => {
    const id = `client-${Date.now()}`;
    const res = await put({ ...(patient() as unknown as Patient), id });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers.location).toBe(`${BASE_URL}/Patient/${id}/_history/1`);
  });

  test('vread answers the ETag of the version read', async () => {
    const created = await createPatient();
    expect((await put({ ...created, gender: 'other' })).status).toBe(200);
    const res = await testApp.api().get(`/fhir/Patient/${created.id}/_history/1`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers['last-modified']).toBe(httpDate(created.meta?.lastUpdated));
  });
});

describe('conditional read', () => {
  test('If-None-Match with the current ETag answers 304 without a body, keeping the ETag', async () => {
    const created = await createPatient();
    const res = await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"1"');
    expect(res.status).toBe(304);
    expect(rawBody(res)).toBe('');
    expect(res.headers.etag).toBe('W/"1"');
    const star = await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-None-Match', '*');
    expect(star.status).toBe(304);
  });

  test('If-None-Match with an older ETag answers 200 with the current version', async () => {
    const created = await createPatient();
    expect((await put({ ...created, gender: 'male' })).status).toBe(200);
    const res = await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"1"');
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"2"');
    expect((res.body as Patient).gender).toBe('male');
  });

  test('If-Modified-Since at or after Last-Modified answers 304; an older date answers 200', async () => {
    const created = await createPatient();
    const first = await testApp.api().get(`/fhir/Patient/${created.id}`);
    const lastModified = first.headers['last-modified'] as string;
    const same = await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', lastModified);
    expect(same.status).toBe(304);
    expect(rawBody(same)).toBe('');
    const later = new Date(Date.parse(lastModified) + 3_600_000).toUTCString();
    expect((await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', later)).status).toBe(304);
    const older = new Date(Date.parse(lastModified) - 3_600_000).toUTCString();
    const changed = await testApp.api().get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', older);
    expect(changed.status).toBe(200);
    expect((changed.body as Patient).id).toBe(created.id);
  });
});

describe('If-Match on update (version-aware updates)', () => {
  test('the current version applies the update (200), a stale version is refused with 412', async () => {
    const created = await createPatient();
    const ok = await put({ ...created, gender: 'male' }, { 'If-Match': 'W/"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe('W/"2"');
    const stale = await put({ ...created, gender: 'other' }, { 'If-Match': 'W/"1"' });
    const outcome = expectOutcome(stale, 412);
    expect(outcome.issue?.[0].code).toBe('conflict');
    const current = await testApp.api().get(`/fhir/Patient/${created.id}`);
    expect((current.body as Patient).gender).toBe('male');
    expect(current.headers.etag).toBe('W/"2"');
  });

  test('a strong ETag in If-Match is accepted too', async () => {
    const created = await createPatient();
    expect((await put({ ...created, gender: 'male' }, { 'If-Match': '"1"' })).status).toBe(200);
  });

  test('two clients that both read version 1 and update concurrently: exactly one wins, no update is lost', async () => {
    const created = await createPatient();
    const writers = ['male', 'other', 'unknown', 'female'].map((gender, i) =>
      put({ ...created, gender: gender as Patient['gender'], birthDate: `199${i}-01-01` }, { 'If-Match': 'W/"1"' }),
    );
    const results = await Promise.all(writers);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412]);
    const winner = results.find((r) => r.status === 200) as Response;
    const current = await testApp.api().get(`/fhir/Patient/${created.id}`);
    expect(current.headers.etag).toBe('W/"2"');
    expect((current.body as Patient).birthDate).toBe((winner.body as Patient).birthDate);
    const history = await testApp.api().get(`/fhir/Patient/${created.id}/_history`);
    expect((history.body as Bundle).total).toBe(2);
  });

  test('If-Match on an update of a resource that does not exist is 412', async () => {
    const res = await put(
      { ...(patient() as unknown as Patient), id: `missing-${Date.now()}` },
      { 'If-Match': 'W/"1"' },
    );
    expectOutcome(res, 412);
  });

  test('a malformed If-Match is a 400 naming the header, and nothing is written', async () => {
    const created = await createPatient();
    for (const value of ['1', 'W/1', 'W/"one"', '"0"']) {
      const outcome = expectOutcome(await put({ ...created, gender: 'male' }, { 'If-Match': value }), 400);
      expect(outcome.issue?.[0].expression).toEqual(['If-Match']);
    }
    expect((await testApp.api().get(`/fhir/Patient/${created.id}`)).headers.etag).toBe('W/"1"');
  });

  test('a stale If-Match on delete is 412 and the resource stays', async () => {
    const created = await createPatient();
    expect((await put({ ...created, gender: 'male' })).status).toBe(200);
    const res = await testApp.api().delete(`/fhir/Patient/${created.id}`).set('If-Match', 'W/"1"');
    expectOutcome(res, 412);
    expect((await testApp.api().get(`/fhir/Patient/${created.id}`)).status).toBe(200);
  });
});

describe('Prefer: return=...', () => {
  test('return=minimal on create: empty body, status and headers kept', async () => {
    const res = await testApp
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=minimal')
      .send(patient());
    expect(res.status).toBe(201);
    expect(rawBody(res)).toBe('');
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers['last-modified']).toMatch(HTTP_DATE);
    expect(res.headers.location).toMatch(new RegExp(`^${BASE_URL}/Patient/[A-Za-z0-9\\-.]{1,64}/_history/1$`));
    const stored = await testApp.api().get(new URL(res.headers.location as string).pathname);
    expect(stored.status).toBe(200);
  });

  test('return=minimal on update: empty body, ETag of the new version', async () => {
    const created = await createPatient();
    const res = await put({ ...created, gender: 'male' }, { Prefer: 'return=minimal' });
    expect(res.status).toBe(200);
    expect(rawBody(res)).toBe('');
    expect(res.headers.etag).toBe('W/"2"');
  });

  test('return=representation answers the stored resource', async () => {
    const res = await testApp
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=representation')
      .send(patient({ gender: 'other' }));
    expect(res.status).toBe(201);
    const body = res.body as Patient;
    expect(body.resourceType).toBe('Patient');
    expect(body.gender).toBe('other');
    expect(body.meta?.versionId).toBe('1');
  });

  test('return=OperationOutcome answers an OperationOutcome instead of the resource', async () => {
    const res = await testApp
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=OperationOutcome')
      .send(patient());
    expect(res.status).toBe(201);
    expect(res.headers.location).toBeDefined();
    const outcome = res.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0].severity).toBe('information');

    const deleted = await testApp
      .api()
      .delete(`/fhir/Patient/${new URL(res.headers.location as string).pathname.split('/')[3]}`)
      .set('Prefer', 'return=OperationOutcome');
    expect(deleted.status).toBe(200);
    expect((deleted.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('a read ignores return=minimal and answers the resource', async () => {
    const created = await createPatient();
    const res = await testApp.api().get(`/fhir/Patient/${created.id}`).set('Prefer', 'return=minimal');
    expect(res.status).toBe(200);
    expect((res.body as Patient).id).toBe(created.id);
  });
});

describe('content negotiation', () => {
  test('_format=json and _format=application/fhir+json (percent-encoded) answer application/fhir+json', async () => {
    for (const format of ['json', 'application/fhir+json']) {
      const res = await testApp.api().get('/fhir/metadata').query({ _format: format });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect((JSON.parse(res.text) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
    }
  });

  test('_format=application/json answers application/json', async () => {
    const res = await testApp.api().get('/fhir/metadata').query({ _format: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  // The FHIR spec writes `?_format=application/fhir+json`; form decoding turns the "+" into a space.
  test('_format=application/fhir+json written literally in the URL is accepted', async () => {
    const res = await testApp.api().get('/fhir/metadata?_format=application/fhir+json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  });

  test('_format=xml and other XML formats are 406 with an OperationOutcome', async () => {
    for (const format of ['xml', 'application/fhir+xml', 'text/xml']) {
      const res = await testApp.api().get('/fhir/metadata').query({ _format: format });
      const outcome = expectOutcome(res, 406);
      expect(outcome.issue?.[0].code).toBe('not-supported');
    }
    expectOutcome(await testApp.api().get('/fhir/metadata').query({ _format: 'text/turtle' }), 406);
  });

  test('_format wins over Accept', async () => {
    const res = await testApp
      .api()
      .get('/fhir/metadata')
      .query({ _format: 'json' })
      .set('Accept', 'application/fhir+xml');
    expect(res.status).toBe(200);
  });

  test('Accept: application/fhir+xml is 406 with an OperationOutcome', async () => {
    expectOutcome(await testApp.api().get('/fhir/metadata').set('Accept', 'application/fhir+xml'), 406);
  });

  test('Accept: application/json answers Content-Type application/json', async () => {
    const created = await createPatient();
    const res = await testApp.api().get(`/fhir/Patient/${created.id}`).set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((JSON.parse(res.text) as Patient).id).toBe(created.id);
  });

  test('Accept: application/fhir+json, */* and no Accept answer application/fhir+json', async () => {
    for (const accept of ['application/fhir+json', '*/*', 'text/html, application/xhtml+xml, */*;q=0.8']) {
      const res = await testApp.api().get('/fhir/metadata').set('Accept', accept);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    }
  });

  test('a request body in an unsupported media type is 415', async () => {
    const res = await testApp
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(patient()));
    expectOutcome(res, 415);
  });

  test('_pretty=true indents the JSON; without it the JSON is compact', async () => {
    const created = await createPatient();
    const pretty = await testApp.api().get(`/fhir/Patient/${created.id}`).query({ _pretty: 'true' });
    expect(pretty.status).toBe(200);
    expect(pretty.text).toMatch(/^\{\n {2}"resourceType": "Patient",\n/);
    expect(JSON.parse(pretty.text)).toEqual(created);
    const compact = await testApp.api().get(`/fhir/Patient/${created.id}`);
    expect(compact.text).not.toContain('\n');
    expect(JSON.parse(compact.text)).toEqual(created);
  });
});

describe('compression', () => {
  test('a large search result is gzip-encoded when the client accepts gzip', async () => {
    for (let i = 0; i < 10; i++) await createPatient({ name: [{ family: 'Gzipson', given: [`Number ${i}`] }] });
    const res = await testApp
      .api()
      .get('/fhir/Patient')
      .query({ family: 'Gzipson', _count: '50' })
      .set('Accept-Encoding', 'gzip')
      .buffer(true)
      .parse((stream, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/Accept-Encoding/i);
    // supertest hands over the decoded bytes; they are the searchset.
    const bundle = JSON.parse((res.body as Buffer).toString('utf8')) as Bundle;
    expect(bundle.type).toBe('searchset');
    expect(bundle.total).toBe(10);
  });

  test('the same search is not compressed without Accept-Encoding: gzip', async () => {
    const res = await testApp
      .api()
      .get('/fhir/Patient')
      .query({ family: 'Gzipson' })
      .set('Accept-Encoding', 'identity');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect((res.body as Bundle).total).toBe(10);
  });

  test('on the wire the body is gzip bytes that inflate to the searchset', async () => {
    const server = http.createServer(testApp.app).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const { headers, body } = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const request = http.get(
            {
              host: '127.0.0.1',
              port,
              path: '/fhir/Patient?family=Gzipson&_count=50',
              headers: { 'Accept-Encoding': 'gzip', Authorization: `Bearer ${testApp.token}` },
            },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
            },
          );
          request.on('error', reject);
        },
      );
      expect(headers['content-encoding']).toBe('gzip');
      expect([body[0], body[1]]).toEqual([0x1f, 0x8b]);
      const bundle = JSON.parse(zlib.gunzipSync(body).toString('utf8')) as Bundle;
      expect(bundle.total).toBe(10);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('X-Request-Id', () => {
  test('a valid incoming X-Request-Id is echoed', async () => {
    const res = await testApp.api().get('/fhir/metadata').set('X-Request-Id', 'abc-123.DEF_456');
    expect(res.headers['x-request-id']).toBe('abc-123.DEF_456');
  });

  test('a missing or invalid X-Request-Id is replaced by a generated UUID, also on errors', async () => {
    const missing = await testApp.api().get('/fhir/metadata');
    expect(missing.headers['x-request-id']).toMatch(UUID);
    for (const invalid of ['has spaces', 'x'.repeat(65), 'semi;colon', '<script>']) {
      const res = await testApp.api().get('/fhir/Patient/nope-nope').set('X-Request-Id', invalid);
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toMatch(UUID);
    }
    const a = await testApp.api().get('/fhir/metadata');
    expect(a.headers['x-request-id']).not.toBe(missing.headers['x-request-id']);
  });
});

describe('HEAD', () => {
  test('HEAD on a read answers the headers of the GET without a body', async () => {
    const created = await createPatient();
    const get = await testApp.api().get(`/fhir/Patient/${created.id}`);
    const head = await testApp.api().head(`/fhir/Patient/${created.id}`);
    expect(head.status).toBe(200);
    expect(rawBody(head)).toBe('');
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['last-modified']).toBe(get.headers['last-modified']);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
  });

  test('HEAD on a missing resource answers 404 without a body', async () => {
    const head = await testApp.api().head('/fhir/Patient/does-not-exist');
    expect(head.status).toBe(404);
    expect(rawBody(head)).toBe('');
  });
});

describe('unknown paths and methods', () => {
  test('a method not allowed on an endpoint is 405 with an OperationOutcome', async () => {
    expectOutcome(await testApp.api().delete('/fhir/metadata'), 405);
    expectOutcome(
      await testApp.api().put('/fhir/Patient/x/_history/1').set('Content-Type', FHIR_JSON).send(patient()),
      405,
    );
    expectOutcome(await testApp.api().delete('/fhir'), 405);
  });

  // RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a 405 response containing a
  // list of the target resource's currently supported methods."
  test('a 405 answer carries an Allow header listing the supported methods', async () => {
    const res = await testApp.api().delete('/fhir/metadata');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toMatch(/\bGET\b/);
    expect(res.headers.allow).not.toMatch(/\bDELETE\b/);
  });

  test('an unknown resource type is 404 with an OperationOutcome', async () => {
    const outcome = expectOutcome(await testApp.api().get('/fhir/Nope/1'), 404);
    expect(outcome.issue?.[0].code).toBe('not-found');
    expectOutcome(await testApp.api().get('/fhir/Nope'), 404);
    expectOutcome(
      await testApp.api().post('/fhir/Nope').set('Content-Type', FHIR_JSON).send({ resourceType: 'Nope' }),
      404,
    );
  });

  test('an unknown id is 404 with an OperationOutcome', async () => {
    const outcome = expectOutcome(await testApp.api().get('/fhir/Patient/no-such-id'), 404);
    expect(outcome.issue?.[0].code).toBe('not-found');
  });

  test('a path with no FHIR endpoint, inside or outside /fhir, is 404 with an OperationOutcome', async () => {
    for (const path of ['/nope', '/fhirx/Patient', '/fhir/Patient/1/2/3/4/5']) {
      expectOutcome(await testApp.api().get(path), 404);
    }
  });
});

// Binary end to end (R4 binary.html, http.html "Binary"): raw uploads of any media type, reads that answer the
// bytes or the resource by Accept, versions whose bytes live beside the JSON, the size limit, access and audit.
import { createHash } from 'node:crypto';
import request from 'supertest';
import type { RequestListener } from 'node:http';
import { createRequestListener } from '../../../server/app';
import { createLogger } from '../../../server/log';
import { BASE_URL, FHIR_JSON, startTestApp, type TestApp } from '../../support/app';
import { backendKey, backendToken, registerBackendClient } from '../../support/tokens';

/** PDF-like content: a header, then every byte value, so nothing survives a text or base64 slip. */
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256))]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0x00]);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** supertest buffers a response body of any media type as bytes. */
const asBytes = (req: request.Test) =>
  req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });

async function upload(content: Buffer, contentType: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await t.api().post('/fhir/Binary').set('Content-Type', contentType).set(headers).send(content);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function binaryCount(): Promise<number> {
  const res = await t.api().get('/fhir/Binary?_summary=count');
  return res.body.total as number;
}

describe('raw content', () => {
  test('a POSTed PDF is stored as a Binary and read back byte for byte', async () => {
    const res = await t.api().post('/fhir/Binary').set('Content-Type', 'application/pdf').send(PDF);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${BASE_URL}/Binary/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    // The answer is the Binary without its bytes (the client has them), with their SHA-256 on `data`.
    const sha256 = createHash('sha256').update(PDF).digest('hex');
    expect(res.body).toEqual({
      resourceType: 'Binary',
      id: res.body.id,
      meta: { versionId: '1', lastUpdated: expect.any(String) },
      contentType: 'application/pdf',
      _data: { extension: [{ url: 'http://hms.local/fhir/StructureDefinition/binary-sha256', valueString: sha256 }] },
    });
    const raw = await asBytes(t.api().get(`/fhir/Binary/${res.body.id}`));
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('application/pdf');
    expect(Buffer.compare(raw.body as Buffer, PDF)).toBe(0);
    expect(raw.headers['content-length']).toBe(String(PDF.length));
    expect(raw.headers.etag).toBe('W/"1"');
    expect(raw.headers['last-modified']).toBe(new Date(res.body.meta.lastUpdated).toUTCString());
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect(raw.headers['content-disposition']).toBeUndefined();
  });

  test('the JSON of the version keeps contentType but not the bytes, which the store keeps apart', async () => {
    const id = await upload(PNG, 'image/png');
    const stored = await t.services.store.readVersion('Binary', id, 1);
    expect(JSON.parse(stored?.json as string)).not.toHaveProperty('data');
    expect(JSON.parse(stored?.json as string).contentType).toBe('image/png');
    expect(await t.services.store.readBinaryData?.(id, 1)).toEqual(PNG);
  });

  test('a FHIR Accept or _format=json answers the resource with base64 data', async () => {
    const id = await upload(PNG, 'image/png');
    for (const req of [
      t.api().get(`/fhir/Binary/${id}`).set('Accept', FHIR_JSON),
      t.api().get(`/fhir/Binary/${id}?_format=json`).set('Accept', 'image/png'),
    ]) {
      const res = await req;
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect(res.body).toMatchObject({ resourceType: 'Binary', id, contentType: 'image/png' });
      expect(Buffer.from(res.body.data as string, 'base64')).toEqual(PNG);
    }
    const plain = await t.api().get(`/fhir/Binary/${id}`).set('Accept', 'application/json');
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.body.data).toBe(PNG.toString('base64'));
  });

  test('Accept negotiates: the type, a range, */* or none give bytes; anything else is a 406', async () => {
    const id = await upload(PDF, 'application/pdf');
    for (const accept of ['application/pdf', 'application/*', '*/*', 'text/html, */*;q=0.8']) {
      const res = await asBytes(t.api().get(`/fhir/Binary/${id}`).set('Accept', accept));
      expect([accept, res.status, res.headers['content-type']]).toEqual([accept, 200, 'application/pdf']);
    }
    for (const accept of ['image/png', 'application/pdf;q=0, image/*', 'application/fhir+xml']) {
      const res = await t.api().get(`/fhir/Binary/${id}`).set('Accept', accept);
      expect([accept, res.status, res.body.resourceType]).toEqual([accept, 406, 'OperationOutcome']);
    }
    expect((await t.api().get(`/fhir/Binary/${id}?_format=xml`)).status).toBe(406);
  });

  test('types a browser would run are served as attachments', async () => {
    for (const type of ['text/html', 'image/svg+xml', 'application/xhtml+xml']) {
      const id = await upload(Buffer.from('<svg onload="alert(1)"/>'), type);
      const res = await asBytes(t.api().get(`/fhir/Binary/${id}`));
      expect([type, res.headers['content-disposition'], res.headers['x-content-type-options']]).toEqual([
        type,
        'attachment',
        'nosniff',
      ]);
    }
  });

  test('text keeps its charset parameter; HEAD and If-None-Match answer without a body', async () => {
    const id = await upload(Buffer.from('héllo'), 'Text/Plain;charset=UTF-8');
    const res = await asBytes(t.api().get(`/fhir/Binary/${id}`));
    expect(res.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect((res.body as Buffer).toString('utf8')).toBe('héllo');
    const head = await t.api().head(`/fhir/Binary/${id}`);
    expect([head.status, head.headers['content-length'], head.headers.etag]).toEqual([200, '6', 'W/"1"']);
    const cached = await t.api().get(`/fhir/Binary/${id}`).set('If-None-Match', 'W/"1"');
    expect([cached.status, cached.headers.etag]).toEqual([304, 'W/"1"']);
  });

  test('If-Modified-Since answers 304; a write answers FHIR JSON whatever its Accept', async () => {
    const res = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', 'image/png')
      .set('Accept', 'image/png')
      .send(PNG);
    expect([res.status, res.headers['content-type']]).toEqual([201, 'application/fhir+json; charset=utf-8']);
    const later = new Date(Date.now() + 60_000).toUTCString();
    const cached = await t.api().get(`/fhir/Binary/${res.body.id}`).set('If-Modified-Since', later);
    expect(cached.status).toBe(304);
  });

  test('a stored contentType that is not a media type (from a Bundle) is served as octet-stream', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          request: { method: 'PUT', url: 'Binary/odd-type' },
          resource: { resourceType: 'Binary', id: 'odd-type', contentType: 'text/html<script>', data: 'AAEC' },
        },
      ],
    };
    const batch = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
    expect(batch.body.entry[0].response.status).toMatch(/^201/);
    const raw = await asBytes(t.api().get('/fhir/Binary/odd-type'));
    expect([raw.headers['content-type'], raw.body]).toEqual(['application/octet-stream', Buffer.from([0, 1, 2])]);
  });

  test('X-Security-Context becomes securityContext, kept and sent back', async () => {
    const id = await upload(PDF, 'application/pdf', { 'X-Security-Context': 'Patient/example' });
    const json = await t.api().get(`/fhir/Binary/${id}`).set('Accept', FHIR_JSON);
    expect(json.body.securityContext).toEqual({ reference: 'Patient/example' });
    const raw = await asBytes(t.api().get(`/fhir/Binary/${id}`));
    expect(raw.headers['x-security-context']).toBe('Patient/example');
  });

  test('empty content is a Binary without data', async () => {
    const res = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(0));
    expect(res.status).toBe(201);
    const raw = await asBytes(t.api().get(`/fhir/Binary/${res.body.id}`));
    expect([raw.status, (raw.body as Buffer).length, raw.headers['content-type']]).toEqual([
      200,
      0,
      'application/octet-stream',
    ]);
  });

  test('an invalid Content-Type or Content-Encoding is a 4xx OperationOutcome and nothing is written', async () => {
    const before = await binaryCount();
    const bad = await t.api().post('/fhir/Binary').set('Content-Type', 'not a media type').send(Buffer.from('x'));
    expect([bad.status, bad.body.issue[0].expression]).toEqual([400, ['Binary.contentType']]);
    const zipped = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', 'application/pdf')
      .set('Content-Encoding', 'br')
      .send(PDF);
    expect(zipped.status).toBe(415);
    const corrupt = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', 'application/pdf')
      .set('Content-Encoding', 'gzip')
      .send(PDF);
    expect([corrupt.status, corrupt.body.resourceType]).toEqual([400, 'OperationOutcome']);
    expect(await binaryCount()).toBe(before);
  });
});

describe('versions', () => {
  test('PUT makes a new version; vread and history still reach every version and its bytes', async () => {
    const id = await upload(PDF, 'application/pdf');
    const put = await t
      .api()
      .put(`/fhir/Binary/${id}`)
      .set('Content-Type', 'image/png')
      .set('If-Match', 'W/"1"')
      .send(PNG);
    expect([put.status, put.body.meta.versionId, put.body.contentType]).toEqual([200, '2', 'image/png']);
    const v1 = await asBytes(t.api().get(`/fhir/Binary/${id}/_history/1`));
    expect([v1.headers['content-type'], Buffer.compare(v1.body as Buffer, PDF)]).toEqual(['application/pdf', 0]);
    const v2 = await t.api().get(`/fhir/Binary/${id}/_history/2`).set('Accept', FHIR_JSON);
    expect(Buffer.from(v2.body.data as string, 'base64')).toEqual(PNG);
    const history = await t.api().get(`/fhir/Binary/${id}/_history`);
    expect(
      history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId),
    ).toEqual(['2', '1']);
    expect((await t.api().get(`/fhir/Binary/${id}/_history/3`)).status).toBe(404);
    expect((await t.api().get(`/fhir/Binary/${id}/_history/x`)).status).toBe(404);
    const stale = await t
      .api()
      .put(`/fhir/Binary/${id}`)
      .set('Content-Type', 'image/png')
      .set('If-Match', 'W/"1"')
      .send(PNG);
    expect(stale.status).toBe(412);
  });

  test('content larger than the validator takes in a string (1 MB) is stored and read back', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const id = await upload(big, 'application/octet-stream');
    const raw = await asBytes(t.api().get(`/fhir/Binary/${id}`));
    expect(Buffer.compare(raw.body as Buffer, big)).toBe(0);
    const json = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Binary', contentType: 'application/pdf', data: big.toString('base64') });
    expect(json.status).toBe(201);
  });

  test('PUT of the same bytes writes no version; other bytes of the same type do', async () => {
    const id = await upload(PDF, 'application/pdf');
    const same = await t.api().put(`/fhir/Binary/${id}`).set('Content-Type', 'application/pdf').send(PDF);
    expect([same.status, same.body.meta.versionId]).toEqual([200, '1']);
    const other = await t.api().put(`/fhir/Binary/${id}`).set('Content-Type', 'application/pdf').send(PNG);
    expect([other.status, other.body.meta.versionId]).toEqual([200, '2']);
    expect((await asBytes(t.api().get(`/fhir/Binary/${id}`))).body).toEqual(PNG);
  });

  test('a conditional create that matches writes nothing', async () => {
    const id = await upload(PNG, 'image/png');
    const again = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', 'image/png')
      .set('If-None-Exist', `_id=${id}`)
      .send(PDF);
    expect([again.status, again.body.id]).toEqual([200, id]);
    expect((await asBytes(t.api().get(`/fhir/Binary/${id}`))).body).toEqual(PNG);
  });

  test('a PATCH of the metadata is a new version that keeps the bytes', async () => {
    const id = await upload(PDF, 'application/pdf');
    const patch = [{ op: 'add', path: '/securityContext', value: { reference: 'Patient/example' } }];
    const res = await t
      .api()
      .patch(`/fhir/Binary/${id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(patch);
    expect([res.status, res.body.meta.versionId]).toEqual([200, '2']);
    const raw = await asBytes(t.api().get(`/fhir/Binary/${id}`));
    expect([raw.headers.etag, raw.headers['x-security-context']]).toEqual(['W/"2"', 'Patient/example']);
    expect(Buffer.compare(raw.body as Buffer, PDF)).toBe(0);
  });

  test('PUT to a new id creates it (update as create)', async () => {
    const res = await t.api().put('/fhir/Binary/scan-1').set('Content-Type', 'image/jpeg').send(PNG);
    expect([res.status, res.headers.location]).toEqual([201, `${BASE_URL}/Binary/scan-1/_history/1`]);
    expect((await asBytes(t.api().get('/fhir/Binary/scan-1'))).body).toEqual(PNG);
  });

  test('a delete is a version like any other: the read is 410, earlier versions stay readable', async () => {
    const id = await upload(PDF, 'application/pdf');
    expect((await t.api().delete(`/fhir/Binary/${id}`)).status).toBe(204);
    expect((await t.api().get(`/fhir/Binary/${id}`)).status).toBe(410);
    expect((await t.api().get(`/fhir/Binary/${id}/_history/2`)).status).toBe(410);
    const v1 = await asBytes(t.api().get(`/fhir/Binary/${id}/_history/1`));
    expect([v1.status, Buffer.compare(v1.body as Buffer, PDF)]).toEqual([200, 0]);
  });

  test('an unknown Binary is a 404', async () => {
    const res = await t.api().get('/fhir/Binary/nope');
    expect([res.status, res.body.resourceType]).toEqual([404, 'OperationOutcome']);
  });
});

describe('Binary as FHIR JSON', () => {
  test('a JSON Binary with base64 data is stored the same way and served raw', async () => {
    const res = await t
      .api()
      .post('/fhir/Binary')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Binary', contentType: 'application/pdf', data: PDF.toString('base64') });
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('data');
    const stored = await t.services.store.readVersion('Binary', res.body.id, 1);
    expect(JSON.parse(stored?.json as string)).not.toHaveProperty('data');
    expect(await t.services.store.readBinaryData?.(res.body.id, 1)).toEqual(PDF);
    const raw = await asBytes(t.api().get(`/fhir/Binary/${res.body.id}`));
    expect(Buffer.compare(raw.body as Buffer, PDF)).toBe(0);
  });

  test('PUT of a JSON Binary needs its id; base64 may carry line breaks', async () => {
    const wrapped = PNG.toString('base64').replace(/(.{8})/g, '$1\n');
    const res = await t
      .api()
      .put('/fhir/Binary/json-1')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Binary', id: 'json-1', contentType: 'image/png', data: wrapped });
    expect(res.status).toBe(201);
    expect((await asBytes(t.api().get('/fhir/Binary/json-1'))).body).toEqual(PNG);
    const noId = await t
      .api()
      .put('/fhir/Binary/json-2')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Binary', contentType: 'image/png' });
    expect(noId.status).toBe(400);
  });

  test('bad JSON Binaries are 400s naming what is wrong', async () => {
    const post = (body: unknown) =>
      t
        .api()
        .post('/fhir/Binary')
        .set('Content-Type', FHIR_JSON)
        .send(body as object);
    const notBase64 = await post({ resourceType: 'Binary', contentType: 'image/png', data: 'not base64!' });
    expect([notBase64.status, notBase64.body.issue[0].expression]).toEqual([400, ['Binary.data']]);
    const notString = await post({ resourceType: 'Binary', contentType: 'image/png', data: 12 });
    expect([notString.status, notString.body.issue[0].expression]).toEqual([400, ['Binary.data']]);
    const badType = await post({ resourceType: 'Binary', contentType: 'text/html\r\nX-Evil: 1', data: 'AAAA' });
    expect([badType.status, badType.body.issue[0].expression]).toEqual([400, ['Binary.contentType']]);
    expect((await post([1, 2])).status).toBe(400);
    expect((await post({ resourceType: 'Patient' })).status).toBe(400);
    const empty = await t.api().post('/fhir/Binary').set('Content-Type', FHIR_JSON);
    expect(empty.status).toBe(400);
  });

  test('a Binary in a transaction Bundle keeps its bytes apart too; search answers it without them', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          request: { method: 'PUT', url: 'Binary/in-bundle' },
          resource: { resourceType: 'Binary', id: 'in-bundle', contentType: 'image/png', data: PNG.toString('base64') },
        },
      ],
    };
    expect((await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle)).status).toBe(200);
    expect((await asBytes(t.api().get('/fhir/Binary/in-bundle'))).body).toEqual(PNG);
    const search = await t.api().get('/fhir/Binary?_id=in-bundle');
    expect(search.body.entry[0].resource).toMatchObject({ id: 'in-bundle', contentType: 'image/png' });
  });
});

describe('limits, access and audit', () => {
  /** The same services and tokens behind a listener with a 1 KiB Binary limit. */
  function limited(): RequestListener {
    return createRequestListener({
      services: t.services,
      baseUrl: BASE_URL,
      maxBodyBytes: 16 * 1024 * 1024,
      binaryMaxBytes: 1024,
      logger: createLogger('silent'),
      auth: t.auth,
    });
  }

  test('content beyond BINARY_MAX_BYTES is a 413 OperationOutcome and nothing is written', async () => {
    const app = limited();
    const before = await binaryCount();
    const auth = `Bearer ${t.token}`;
    const raw = await request(app)
      .post('/fhir/Binary')
      .set('Authorization', auth)
      .set('Content-Type', 'application/pdf')
      .send(Buffer.alloc(1025));
    expect([raw.status, raw.body.issue[0].code]).toEqual([413, 'too-costly']);
    expect(raw.body.issue[0].diagnostics).toContain('BINARY_MAX_BYTES');
    const json = await request(app)
      .post('/fhir/Binary')
      .set('Authorization', auth)
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Binary', contentType: 'application/pdf', data: Buffer.alloc(1025).toString('base64') });
    expect([json.status, json.body.issue[0].code]).toEqual([413, 'too-costly']);
    const fits = await request(app)
      .put('/fhir/Binary/fits')
      .set('Authorization', auth)
      .set('Content-Type', 'application/pdf')
      .send(Buffer.alloc(1024));
    expect(fits.status).toBe(201);
    expect(await binaryCount()).toBe(before + 1);
    // Other resources keep the JSON body limit, whatever the Binary limit.
    const text = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(4000)}</div>` };
    const patient = await request(app)
      .post('/fhir/Patient')
      .set('Authorization', auth)
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', text });
    expect(patient.status).toBe(201);
  });

  test('each request is logged with its route pattern, never its id', async () => {
    const lines: string[] = [];
    const app = createRequestListener({
      services: t.services,
      baseUrl: BASE_URL,
      maxBodyBytes: 16 * 1024 * 1024,
      logger: createLogger('info', (line) => lines.push(line)),
      auth: t.auth,
    });
    const id = await upload(PDF, 'application/pdf');
    await asBytes(request(app).get(`/fhir/Binary/${id}/_history/1`).set('Authorization', `Bearer ${t.token}`));
    const logged = lines.map((line) => JSON.parse(line)).filter((l) => l.msg === 'request');
    expect(logged.map((l) => [l.method, l.route, l.status])).toEqual([['GET', '/fhir/Binary/:id/_history/:vid', 200]]);
    expect(lines.join('\n')).not.toContain(id);
  });

  test('SMART scopes govern Binary like any type, and refusals are audited', async () => {
    const id = await upload(PDF, 'application/pdf');
    const key = await backendKey();
    await registerBackendClient(t.auth, 'binary-reader', key, 'system/Binary.rs');
    const reader = await backendToken(t.app, t.auth, 'binary-reader', key, 'system/Binary.rs');
    const read = await asBytes(request(t.app).get(`/fhir/Binary/${id}`).set('Authorization', `Bearer ${reader}`));
    expect(read.status).toBe(200);
    const write = await request(t.app)
      .post('/fhir/Binary')
      .set('Authorization', `Bearer ${reader}`)
      .set('Content-Type', 'application/pdf')
      .send(PDF);
    expect([write.status, write.body.resourceType]).toEqual([403, 'OperationOutcome']);
    const refusals = await t.services.store.searchAudit({ agent: 'client/binary-reader', outcome: ['4'], count: 5 });
    expect(refusals.entries.map((r) => r.subtype)).toEqual(['create']);
    const anonymous = await t.anonymous().get(`/fhir/Binary/${id}`);
    expect(anonymous.status).toBe(401);
  });

  test('reads and writes are audited with the Binary they touched', async () => {
    const id = await upload(PDF, 'application/pdf');
    await asBytes(t.api().get(`/fhir/Binary/${id}`));
    await t.api().get(`/fhir/Binary/${id}/_history/1`).set('Accept', FHIR_JSON);
    const page = await t.services.store.searchAudit({ count: 5 });
    const mine = page.entries.filter((r) => r.json.includes(`Binary/${id}`)).map((r) => r.subtype);
    expect(mine).toEqual(['vread', 'read', 'create']);
  });

  test('other Binary interactions go through the FHIR API as for any type', async () => {
    const id = await upload(PNG, 'image/png');
    const history = await t.api().get('/fhir/Binary/_history?_count=1');
    expect(history.body.resourceType).toBe('Bundle');
    expect((await t.api().post('/fhir/Binary/_search').type('form').send(`_id=${id}`)).body.total).toBe(1);
    // PATCH takes a JSON Patch, not content.
    expect((await t.api().patch(`/fhir/Binary/${id}`).send(PNG)).status).toBe(400);
    expect((await t.api().get(`/fhir/Binary/${id}/x/y`)).status).toBe(404);
    // A path that is not valid percent-encoding is the FHIR edge's 400.
    expect((await t.api().get('/fhir/Binary/%E0%A4%A')).status).toBe(400);
  });
});

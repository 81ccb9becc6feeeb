// read, vread, create, update (and update-as-create), delete, JSON Patch through the real app.
import { FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function createPatient(overrides: Record<string, unknown> = {}) {
  const res = await t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient(overrides));
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { versionId: string; lastUpdated: string } };
}

describe('create', () => {
  test('assigns id, version 1 and lastUpdated, ignoring what the client sent', async () => {
    const res = await t
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'client-id', meta: { versionId: '99', lastUpdated: 'garbage', tag: [{ code: 'x' }] } }));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('client-id');
    expect(res.body.meta.versionId).toBe('1');
    expect(res.body.meta.tag).toEqual([{ code: 'x' }]);
    expect(Date.parse(res.body.meta.lastUpdated)).toBeGreaterThan(Date.now() - 60_000);
    expect(res.headers.location).toBe(`http://localhost:8080/fhir/Patient/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
  });

  test('accepts application/json too', async () => {
    const res = await t
      .api()
      .post('/fhir/Patient')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(patient()));
    expect(res.status).toBe(201);
  });

  test('rejects a body whose resourceType differs from the URL', async () => {
    const res = await t.api().post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(patient());
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toMatch(/does not match the URL type/);
  });
});

describe('read and vread', () => {
  test('read returns the current version; vread any version', async () => {
    const created = await createPatient();
    await t
      .api()
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: created.id, gender: 'other' }))
      .expect(200);
    const read = await t.api().get(`/fhir/Patient/${created.id}`).expect(200);
    expect(read.body.gender).toBe('other');
    expect(read.body.meta.versionId).toBe('2');
    expect(read.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const v1 = await t.api().get(`/fhir/Patient/${created.id}/_history/1`).expect(200);
    expect(v1.body.gender).toBe('female');
    expect(v1.headers.etag).toBe('W/"1"');
  });

  test('unknown id is 404, unknown type is 404, invalid id is 400', async () => {
    expect((await t.api().get('/fhir/Patient/does-not-exist')).status).toBe(404);
    const unknownType = await t.api().get('/fhir/Nope/1');
    expect(unknownType.status).toBe(404);
    expect(unknownType.body.issue[0].diagnostics).toMatch(/Unknown resource type/);
    const badId = await t.api().get(`/fhir/Patient/${'x'.repeat(65)}`);
    expect(badId.status).toBe(400);
    expect((await t.api().get('/fhir/Patient/a/_history/zz')).status).toBe(404);
  });
});

describe('update', () => {
  test('update-as-create with a client id gives 201, then 200 with version 2', async () => {
    const first = await t
      .api()
      .put('/fhir/Patient/chosen-id-1')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'chosen-id-1' }));
    expect(first.status).toBe(201);
    expect(first.body.meta.versionId).toBe('1');
    expect(first.headers.location).toBe('http://localhost:8080/fhir/Patient/chosen-id-1/_history/1');
    const second = await t
      .api()
      .put('/fhir/Patient/chosen-id-1')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'chosen-id-1', active: true }));
    expect(second.status).toBe(200);
    expect(second.body.meta.versionId).toBe('2');
    expect(second.headers.etag).toBe('W/"2"');
  });

  test('an identical update creates no new version', async () => {
    const created = await createPatient();
    const res = await t
      .api()
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: created.id }));
    expect(res.status).toBe(200);
    expect(res.body.meta.versionId).toBe('1');
  });

  test('content is compared whatever its key order and server meta; a change of equal length is a change', async () => {
    const created = await createPatient({ gender: 'male', name: [{ family: 'Smith' }] });
    const put = (body: Record<string, unknown>) =>
      t.api().put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(body);
    const body = patient({ id: created.id, gender: 'male', name: [{ family: 'Smith' }] });
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const same = await put({ ...reordered, meta: { versionId: '7', lastUpdated: '2001-01-01T00:00:00Z' } });
    expect(same.body.meta.versionId).toBe('1');
    const sameLength = await put(patient({ id: created.id, gender: 'male', name: [{ family: 'Smyth' }] }));
    expect(sameLength.body.meta.versionId).toBe('2');
  });

  test('id missing or different from the URL is 400', async () => {
    const noId = await t.api().put('/fhir/Patient/abc').set('Content-Type', FHIR_JSON).send(patient());
    expect(noId.status).toBe(400);
    const other = await t
      .api()
      .put('/fhir/Patient/abc')
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: 'xyz' }));
    expect(other.status).toBe(400);
    expect(other.body.issue[0].expression).toEqual(['id']);
  });

  test('If-Match: the current version succeeds, a stale one is 412 and changes nothing', async () => {
    const created = await createPatient();
    await t
      .api()
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send(patient({ id: created.id, active: true }))
      .expect(200);
    const stale = await t
      .api()
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send(patient({ id: created.id, active: false }));
    expect(stale.status).toBe(412);
    const read = await t.api().get(`/fhir/Patient/${created.id}`);
    expect(read.body.active).toBe(true);
    expect(read.body.meta.versionId).toBe('2');
  });

  test('If-Match on a resource that does not exist is 412', async () => {
    const res = await t
      .api()
      .put('/fhir/Patient/never-was')
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send(patient({ id: 'never-was' }));
    expect(res.status).toBe(412);
  });
});

describe('delete', () => {
  test('delete is versioned: read gives 410, history keeps the versions, update revives', async () => {
    const created = await createPatient();
    const del = await t.api().delete(`/fhir/Patient/${created.id}`);
    expect(del.status).toBe(204);
    expect(del.headers.etag).toBe('W/"2"');
    const gone = await t.api().get(`/fhir/Patient/${created.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.issue[0].code).toBe('deleted');
    expect((await t.api().get(`/fhir/Patient/${created.id}/_history/2`)).status).toBe(410);
    expect((await t.api().get(`/fhir/Patient/${created.id}/_history/1`)).status).toBe(200);
    const again = await t.api().delete(`/fhir/Patient/${created.id}`);
    expect(again.status).toBe(204);
    const revived = await t
      .api()
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(patient({ id: created.id }));
    expect(revived.status).toBe(201);
    expect(revived.body.meta.versionId).toBe('3');
  });

  test('deleting an unknown resource is 204 (idempotent); a stale If-Match is 412', async () => {
    expect((await t.api().delete('/fhir/Patient/not-there')).status).toBe(204);
    const created = await createPatient();
    expect((await t.api().delete(`/fhir/Patient/${created.id}`).set('If-Match', 'W/"7"')).status).toBe(412);
    expect((await t.api().delete(`/fhir/Patient/${created.id}`).set('If-Match', 'W/"1"')).status).toBe(204);
    expect((await t.api().delete('/fhir/Patient/not-there').set('If-Match', 'W/"1"')).status).toBe(412);
  });

  test('a deleted resource no longer appears in search', async () => {
    const created = await createPatient({ identifier: [{ system: 'urn:del', value: 'd1' }] });
    expect((await t.api().get('/fhir/Patient?identifier=urn:del|d1')).body.total).toBe(1);
    await t.api().delete(`/fhir/Patient/${created.id}`).expect(204);
    expect((await t.api().get('/fhir/Patient?identifier=urn:del|d1')).body.total).toBe(0);
  });
});

describe('JSON Patch', () => {
  const JSON_PATCH = 'application/json-patch+json';

  test('applies operations and creates a new version', async () => {
    const created = await createPatient();
    const res = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(
        JSON.stringify([
          { op: 'replace', path: '/gender', value: 'male' },
          { op: 'add', path: '/active', value: true },
        ]),
      );
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('male');
    expect(res.body.active).toBe(true);
    expect(res.body.meta.versionId).toBe('2');
  });

  test('a failing test operation changes nothing (422)', async () => {
    const created = await createPatient();
    const res = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(
        JSON.stringify([
          { op: 'replace', path: '/gender', value: 'male' },
          { op: 'test', path: '/birthDate', value: '1900-01-01' },
        ]),
      );
    expect(res.status).toBe(422);
    expect(res.body.issue[0].diagnostics).toMatch(/test operation/);
    const read = await t.api().get(`/fhir/Patient/${created.id}`);
    expect(read.body.gender).toBe('female');
    expect(read.body.meta.versionId).toBe('1');
  });

  test('patches that break the resource, change its id or are malformed are rejected', async () => {
    const created = await createPatient();
    const invalid = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([{ op: 'replace', path: '/gender', value: 'bogus' }]));
    expect(invalid.status).toBe(400);
    expect(invalid.body.issue[0].expression).toEqual(['Patient.gender']);
    const changesId = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([{ op: 'replace', path: '/id', value: 'other' }]));
    expect(changesId.status).toBe(422);
    const malformed = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify({ op: 'add' }));
    expect(malformed.status).toBe(400);
    const missingValue = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([{ op: 'add', path: '/x' }]));
    expect(missingValue.status).toBe(400);
    const badPath = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([{ op: 'remove', path: '/nothing/here' }]));
    expect(badPath.status).toBe(400);
    const wrongType = await t.api().patch(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(patient());
    expect(wrongType.status).toBe(415);
    expect((await t.api().get(`/fhir/Patient/${created.id}`)).body.meta.versionId).toBe('1');
  });

  test('If-Match applies to patch; unknown and deleted targets are 404 and 410', async () => {
    const created = await createPatient();
    const stale = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .set('If-Match', 'W/"5"')
      .send(JSON.stringify([{ op: 'add', path: '/active', value: true }]));
    expect(stale.status).toBe(412);
    const unknown = await t
      .api()
      .patch('/fhir/Patient/nobody')
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([]));
    expect(unknown.status).toBe(404);
    await t.api().delete(`/fhir/Patient/${created.id}`).expect(204);
    const deleted = await t
      .api()
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', JSON_PATCH)
      .send(JSON.stringify([]));
    expect(deleted.status).toBe(410);
  });
});
